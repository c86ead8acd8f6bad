"""The signed identity: the portal (and `sikerja token`) mint short-lived JWTs with their
private key; every service verifies them against the portal's public keys (a JWKS).

Tokens are EdDSA (Ed25519) only: any other `alg`, `none` included, is refused before a key
is looked at. The key is chosen by the header's `kid` among the JWKS's keys, so two keys
can be valid at once while one is rotated out. Keys are loaded once and cached (a file is
re-read when it changes, a URL at most every `jwks_refresh_s` or when an unknown `kid`
shows up, never more than once per `_MIN_REFETCH_S`): no network call per request."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK

ALGORITHM = "EdDSA"
ISSUER = "sikerja-portal"
ROLES = frozenset({"asn", "atasan", "operator", "bkpsdm", "auditor", "system"})
REQUIRED_CLAIMS = ("exp", "iat", "aud", "jti", "role", "iss")
LEEWAY_S = 5  # clock skew between the portal's machine and a service's
_MIN_REFETCH_S = 30.0


# -- errors -----------------------------------------------------------------------------------
class IdentityError(Exception):
    """A token that does not prove who calls; `detail` is for people (Bahasa Indonesia)."""

    code = "token_invalid"
    detail = "Token identitas tidak valid. Silakan masuk kembali melalui portal."

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or self.code)


class MissingToken(IdentityError):
    code = "token_missing"
    detail = "Permintaan ini memerlukan token identitas dari portal (Authorization: Bearer)."


class MalformedToken(IdentityError):
    code = "token_malformed"
    detail = "Token identitas rusak atau tidak dapat dibaca."


class AlgorithmNotAllowed(IdentityError):
    code = "token_algorithm"
    detail = "Token identitas memakai algoritme tanda tangan yang tidak diizinkan."


class UnknownKey(IdentityError):
    code = "token_unknown_key"
    detail = "Token identitas ditandatangani dengan kunci yang tidak dikenal."


class BadSignature(IdentityError):
    code = "token_signature"
    detail = "Tanda tangan token identitas tidak sah."


class TokenExpired(IdentityError):
    code = "token_expired"
    detail = "Token identitas sudah kedaluwarsa. Silakan masuk kembali melalui portal."


class WrongAudience(IdentityError):
    code = "token_audience"
    detail = "Token identitas ini bukan untuk layanan ini."


class MissingClaims(IdentityError):
    code = "token_claims"
    detail = "Token identitas tidak lengkap (klaim wajib tidak ada atau tidak valid)."


# -- the identity -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Actor:
    """Who calls: the identity a signed token proves (services.shared.http.actor)."""

    nip: str | None
    role: str  # asn, atasan, operator, bkpsdm, auditor, system (jobs: only when explicit)

    def is_(self, *roles: str) -> bool:
        return self.role in roles


@dataclass(frozen=True)
class Identity(Actor):
    """An Actor proven by a signed token: routes typed `Actor` accept it unchanged."""

    opd: str | None = None
    jti: str = ""
    exp: datetime | None = None


# -- keys ---------------------------------------------------------------------------------------
def _keys_of(jwks: Mapping[str, Any]) -> dict[str, PyJWK]:
    keys: dict[str, PyJWK] = {}
    for data in jwks.get("keys", []):
        kid = data.get("kid")
        if not kid or data.get("kty") != "OKP" or data.get("crv") != "Ed25519":
            continue  # only Ed25519 keys with a kid can verify our tokens
        public = {k: v for k, v in data.items() if k != "d"}  # never verify with a private part
        keys[kid] = PyJWK(public, algorithm=ALGORITHM)
    return keys


class Jwks:
    """The portal's public keys by kid, from a JWKS file or URL, cached."""

    def __init__(
        self,
        source: str | Path | Mapping[str, Any],
        refresh_s: float = 300.0,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        self.source = source
        self.refresh_s = refresh_s
        self._fetch = fetch or _fetch_url
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at = float("-inf")
        self._stamp: object = None
        self._lock = threading.Lock()

    @property
    def kids(self) -> list[str]:
        self._refresh_if_due()
        return sorted(self._keys)

    def key(self, kid: str, *, fetch: bool = True) -> PyJWK:
        """The key of `kid`. With fetch=False a URL is never fetched here (the caller, on
        an event loop, fetches in a thread: see `fetch_due` and `may_refetch`)."""
        self._refresh_if_due(fetch)
        found = self._keys.get(kid)
        if found is None and (fetch or not self.is_remote) and self.may_refetch():
            self._load()  # a new key may have been published (rotation)
            found = self._keys.get(kid)
        if found is None:
            raise UnknownKey(f"kid {kid!r} not in JWKS")
        return found

    @property
    def is_remote(self) -> bool:
        return self._is_url()

    def fetch_due(self) -> bool:
        """A URL not fetched yet or for `refresh_s`."""
        return self.is_remote and time.monotonic() - self._loaded_at >= self.refresh_s

    def may_refetch(self) -> bool:
        """Long enough since the last load to look again for an unknown kid."""
        return time.monotonic() - self._loaded_at >= _MIN_REFETCH_S

    def reload(self) -> None:
        self._load()

    def _refresh_if_due(self, fetch: bool = True) -> None:
        if isinstance(self.source, Mapping):
            if self._stamp is None:
                self._keys, self._stamp = _keys_of(self.source), True
            return
        if self._is_url():
            if fetch and self.fetch_due():
                self._load()
            return
        # a file: re-read when it changed (a stat, not a read, per request)
        try:
            stat = Path(self.source).stat()
            stamp: object = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp or self._loaded_at == float("-inf"):
            self._load()

    def _is_url(self) -> bool:
        return isinstance(self.source, str) and self.source.startswith(("http://", "https://"))

    def _load(self) -> None:
        with self._lock:
            self._loaded_at = time.monotonic()
            if isinstance(self.source, Mapping):
                self._keys = _keys_of(self.source)
                return
            if self._is_url():
                try:
                    self._keys = _keys_of(self._fetch(str(self.source)))
                except (httpx.HTTPError, ValueError):
                    pass  # keep the keys we had; an unknown kid stays unknown
                return
            path = Path(self.source)
            try:
                stat = path.stat()
                self._keys = _keys_of(json.loads(path.read_text()))
                self._stamp = (stat.st_mtime_ns, stat.st_size)
            except FileNotFoundError:
                self._keys, self._stamp = {}, None


def _fetch_url(url: str) -> Mapping[str, Any]:
    response = httpx.get(url, timeout=5.0)
    response.raise_for_status()
    return response.json()


# -- verify and mint ----------------------------------------------------------------------------
def verify(
    token: str | None, audience: str, keys: Jwks | None = None, *, fetch: bool = True
) -> Identity:
    """The identity a token proves for `audience`, or the IdentityError saying why not.
    `keys` defaults to the settings' JWKS (SIKERJA_JWKS), cached for the process; with
    fetch=False a JWKS URL is not fetched (only its cached keys are used)."""
    if not token:
        raise MissingToken
    if keys is None:
        from services.shared.settings import get_settings

        keys = jwks_of(get_settings())
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise MalformedToken(str(exc)) from exc
    if header.get("alg") != ALGORITHM:
        raise AlgorithmNotAllowed(str(header.get("alg")))
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise UnknownKey("no kid")
    key = keys.key(kid, fetch=fetch)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired from exc
    except jwt.InvalidAudienceError as exc:
        raise WrongAudience from exc
    except jwt.InvalidSignatureError as exc:
        raise BadSignature from exc
    except jwt.InvalidAlgorithmError as exc:
        raise AlgorithmNotAllowed from exc
    except (jwt.MissingRequiredClaimError, jwt.InvalidIssuerError) as exc:
        raise MissingClaims(str(exc)) from exc
    except jwt.DecodeError as exc:
        raise MalformedToken(str(exc)) from exc
    except jwt.InvalidTokenError as exc:  # iat in the future and the like
        raise IdentityError(str(exc)) from exc
    role, nip, opd = claims.get("role"), claims.get("nip"), claims.get("opd")
    if role not in ROLES or not isinstance(nip, str | None) or not isinstance(opd, str | None):
        raise MissingClaims("role/nip/opd")
    return Identity(
        nip=nip,
        role=role,
        opd=opd,
        jti=str(claims["jti"]),
        exp=datetime.fromtimestamp(claims["exp"], UTC),
    )


def mint(
    private_key: Mapping[str, Any],
    kid: str,
    claims: Mapping[str, Any],
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> str:
    """A signed token: `claims` (role, aud, nip, opd ...) plus iss, iat, exp and a fresh jti.
    `private_key` is the Ed25519 private JWK (as dict)."""
    issued = now or datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "jti": uuid.uuid4().hex,
        **claims,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    signer = PyJWK(dict(private_key), algorithm=ALGORITHM)
    return jwt.encode(payload, signer, algorithm=ALGORITHM, headers={"kid": kid})


# -- the settings' keys ----------------------------------------------------------------------
_JWKS_BY_SOURCE: dict[tuple[str, float], Jwks] = {}


def jwks_of(settings: Any) -> Jwks:
    """One cached Jwks per source for the process (settings.jwks_source())."""
    key = (settings.jwks_source(), float(settings.jwks_refresh_s))
    found = _JWKS_BY_SOURCE.get(key)
    if found is None:
        found = _JWKS_BY_SOURCE[key] = Jwks(key[0], refresh_s=key[1])
    return found


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else ""
