"""The signed identity: every kind of tampered token is refused with its own error; two keys
are valid at once while one is rotated out; the dev key pair is made once."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import APIRouter, Depends

from services.shared import identity as ident
from services.shared.http import Actor, create_app, identity_dependency
from services.shared.keys import ensure_dev_keys, new_key, public_of, rotate_keys
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.models import KIT

NIP = "198501012010011001"
CLAIMS = {"nip": NIP, "role": "bkpsdm", "opd": "BKPSDM", "aud": "tpp"}
KEY, OTHER = new_key(), new_key()


def jwks(*keys: object) -> ident.Jwks:
    return ident.Jwks({"keys": [public_of(k.jwk) for k in keys]})  # type: ignore[attr-defined]


def good(**claims: object) -> str:
    return ident.mint(KEY.jwk, KEY.kid, {**CLAIMS, **claims}, timedelta(minutes=5))


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_token_gives_the_identity() -> None:
    who = ident.verify(good(), "tpp", jwks(KEY))
    assert (who.nip, who.role, who.opd) == (NIP, "bkpsdm", "BKPSDM")
    assert isinstance(who, Actor) and who.is_("bkpsdm")
    assert who.jti and who.exp is not None and who.exp > datetime.now(UTC)


def test_alg_none_is_refused() -> None:
    header = b64({"alg": "none", "typ": "JWT", "kid": KEY.kid})
    now = int(datetime.now(UTC).timestamp())
    body = b64({**CLAIMS, "iss": ident.ISSUER, "jti": "x", "iat": now, "exp": now + 300})
    with pytest.raises(ident.AlgorithmNotAllowed):
        ident.verify(f"{header}.{body}.", "tpp", jwks(KEY))


def test_another_algorithm_is_refused() -> None:
    token = jwt.encode(
        {**CLAIMS},
        "a shared secret anyone could have guessed",
        algorithm="HS256",
        headers={"kid": KEY.kid},
    )
    with pytest.raises(ident.AlgorithmNotAllowed):
        ident.verify(token, "tpp", jwks(KEY))


def test_a_token_signed_with_another_key_under_our_kid_is_refused() -> None:
    forged = ident.mint(OTHER.jwk, KEY.kid, CLAIMS, timedelta(minutes=5))
    with pytest.raises(ident.BadSignature):
        ident.verify(forged, "tpp", jwks(KEY))


def test_an_unknown_kid_is_refused() -> None:
    token = ident.mint(OTHER.jwk, OTHER.kid, CLAIMS, timedelta(minutes=5))
    with pytest.raises(ident.UnknownKey):
        ident.verify(token, "tpp", jwks(KEY))


def test_an_expired_token_is_refused() -> None:
    old = datetime.now(UTC) - timedelta(minutes=30)
    token = ident.mint(KEY.jwk, KEY.kid, CLAIMS, timedelta(minutes=10), now=old)
    with pytest.raises(ident.TokenExpired):
        ident.verify(token, "tpp", jwks(KEY))


def test_a_token_for_another_service_is_refused() -> None:
    with pytest.raises(ident.WrongAudience):
        ident.verify(good(aud="approval"), "tpp", jwks(KEY))


def test_a_role_changed_after_signing_is_refused() -> None:
    header, body, signature = good(role="asn").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "bkpsdm"
    with pytest.raises(ident.BadSignature):
        ident.verify(f"{header}.{b64(claims)}.{signature}", "tpp", jwks(KEY))


def test_missing_claims_and_garbage_are_refused() -> None:
    token = jwt.encode(
        {"aud": "tpp", "exp": int(datetime.now(UTC).timestamp()) + 60},
        jwt.PyJWK(KEY.jwk, algorithm="EdDSA"),
        algorithm="EdDSA",
        headers={"kid": KEY.kid},
    )
    with pytest.raises(ident.MissingClaims):
        ident.verify(token, "tpp", jwks(KEY))
    with pytest.raises(ident.MalformedToken):
        ident.verify("not.a.token", "tpp", jwks(KEY))
    with pytest.raises(ident.MissingToken):
        ident.verify(None, "tpp", jwks(KEY))
    with pytest.raises(ident.MissingClaims):
        ident.verify(good(role="superuser"), "tpp", jwks(KEY))


def test_two_keys_are_valid_at_once_during_rotation() -> None:
    both = jwks(OTHER, KEY)
    old = ident.mint(KEY.jwk, KEY.kid, CLAIMS, timedelta(minutes=5))
    new = ident.mint(OTHER.jwk, OTHER.kid, CLAIMS, timedelta(minutes=5))
    assert ident.verify(old, "tpp", both).nip == NIP
    assert ident.verify(new, "tpp", both).nip == NIP


def test_dev_keys_are_made_once_and_rotation_keeps_the_previous_public_key(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    first = ensure_dev_keys(settings)
    assert ensure_dev_keys(settings) == first  # idempotent
    assert settings.signing_key_path().stat().st_mode & 0o077 == 0  # private: owner only
    keys = ident.Jwks(settings.jwks_source())
    before = ident.mint(first.jwk, first.kid, CLAIMS, timedelta(minutes=5))
    assert ident.verify(before, "tpp", keys).role == "bkpsdm"
    second = rotate_keys(settings)
    after = ident.mint(second.jwk, second.kid, CLAIMS, timedelta(minutes=5))
    assert keys.kids == sorted([first.kid, second.kid])  # the file changed: re-read
    assert ident.verify(before, "tpp", keys).nip == NIP
    assert ident.verify(after, "tpp", keys).nip == NIP
    published = json.loads(Path(settings.jwks_source()).read_text())
    assert all("d" not in k for k in published["keys"])  # no private part published


def test_a_jwks_url_is_fetched_once_not_per_request() -> None:
    calls: list[str] = []

    def fetch(url: str) -> dict[str, object]:
        calls.append(url)
        return {"keys": [public_of(KEY.jwk)]}

    keys = ident.Jwks("https://portal.example/jwks.json", fetch=fetch)
    for _ in range(5):
        ident.verify(good(), "tpp", keys)
    assert calls == ["https://portal.example/jwks.json"]


async def test_the_dependency_answers_401_and_403_as_problem_json(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/{{service}}.db")
    key = ensure_dev_keys(settings)
    kit = ServiceKit("tpp", KIT, settings)
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(
        who: ident.Identity = Depends(identity_dependency(roles={"bkpsdm"})),
    ) -> dict[str, str | None]:
        return {"nip": who.nip, "role": who.role, "opd": who.opd}

    app = create_app(kit, [router], title="t")
    transport = httpx.ASGITransport(app=app)

    def token(role: str, aud: str = "tpp") -> dict[str, str]:
        claims = {**CLAIMS, "role": role, "aud": aud}
        return {"Authorization": "Bearer " + ident.mint(key.jwk, key.kid, claims, timedelta(1))}

    async with httpx.AsyncClient(transport=transport, base_url="http://tpp") as http:
        ok = await http.get("/api/v1/whoami", headers=token("bkpsdm"))
        assert ok.json() == {"nip": NIP, "role": "bkpsdm", "opd": "BKPSDM"}
        none = await http.get("/api/v1/whoami")
        assert none.status_code == 401
        assert none.headers["content-type"] == "application/problem+json"
        assert none.json()["code"] == "token_missing"
        other = await http.get("/api/v1/whoami", headers=token("bkpsdm", aud="approval"))
        assert (other.status_code, other.json()["code"]) == (401, "token_audience")
        assert "bukan untuk layanan ini" in other.json()["detail"]
        asn = await http.get("/api/v1/whoami", headers=token("asn"))
        assert (asn.status_code, asn.json()["code"]) == (403, "forbidden_role")


async def test_the_dependency_fetches_a_jwks_url_off_the_event_loop(tmp_path: Path) -> None:
    """A JWKS URL is fetched in a worker thread (at start, every refresh_s, for a new kid):
    a slow portal must not stall every request of the service."""
    loop_thread = threading.get_ident()
    fetched_on: list[int] = []
    published = [public_of(KEY.jwk)]

    def fetch(url: str) -> dict[str, object]:
        fetched_on.append(threading.get_ident())
        return {"keys": list(published)}

    keys = ident.Jwks("https://portal.example/jwks.json", fetch=fetch)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/{{service}}.db")
    router = APIRouter()

    @router.get("/whoami")
    async def whoami(
        who: ident.Identity = Depends(identity_dependency(keys=keys)),
    ) -> dict[str, str | None]:
        return {"nip": who.nip}

    # the guard in front of /api/v1 reads the settings' JWKS: off, to test these keys alone
    app = create_app(ServiceKit("tpp", KIT, settings), [router], title="t", authenticated=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tpp") as http:
        for _ in range(3):
            r = await http.get("/api/v1/whoami", headers={"Authorization": f"Bearer {good()}"})
            assert r.json() == {"nip": NIP}
        published.append(public_of(OTHER.jwk))  # rotation: a new key is published
        keys._loaded_at -= 60  # the last fetch was a while ago
        rotated = ident.mint(OTHER.jwk, OTHER.kid, CLAIMS, timedelta(minutes=5))
        r = await http.get("/api/v1/whoami", headers={"Authorization": f"Bearer {rotated}"})
        assert r.json() == {"nip": NIP}
    assert len(fetched_on) == 2  # once at first use, once for the new kid
    assert loop_thread not in fetched_on
