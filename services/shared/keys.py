"""The portal's signing keys on disk: the private JWK (settings.signing_key_path(), mode
0600) and the public JWKS services read (settings.jwks_source() when it is a file).

`ensure_dev_keys` makes a development pair once (`./dev up`); `rotate_keys` makes a new
signing key and keeps the previous public key in the JWKS, so tokens signed just before the
rotation stay valid until they expire."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from services.shared.settings import Settings

KEEP_PUBLIC = 2  # the current key and the one before it (rotation)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    jwk: dict[str, Any]  # the private JWK, `d` included


class NoSigningKey(Exception):
    """This machine holds no private key (settings.signing_key_path())."""


def new_key() -> SigningKey:
    """A fresh Ed25519 key; its kid is the start of the public key's SHA-256."""
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate()))
    kid = "ed-" + hashlib.sha256(jwk["x"].encode()).hexdigest()[:16]
    jwk.update(kid=kid, alg="EdDSA", use="sig")
    return SigningKey(kid, jwk)


def public_of(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k != "d"}


def load_signing_key(settings: Settings) -> SigningKey | None:
    path = settings.signing_key_path()
    try:
        jwk = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return SigningKey(jwk["kid"], jwk)


def _write(path: Path, data: dict[str, Any], mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2)
    os.replace(tmp, path)  # readers never see half a file


def _jwks_path(settings: Settings) -> Path | None:
    source = settings.jwks_source()
    return None if source.startswith(("http://", "https://")) else Path(source)


def _publish(settings: Settings, key: SigningKey, keep_previous: bool) -> None:
    path = _jwks_path(settings)
    if path is None:
        return  # published elsewhere (a URL): the operator copies the public key there
    keys: list[dict[str, Any]] = []
    if keep_previous and path.exists():
        keys = [k for k in json.loads(path.read_text()).get("keys", []) if k["kid"] != key.kid]
    keys = [public_of(key.jwk), *keys][:KEEP_PUBLIC]
    _write(path, {"keys": keys}, 0o644)


def ensure_dev_keys(settings: Settings) -> SigningKey:
    """The signing key under the data folder, made once (idempotent); the JWKS lists it."""
    key = load_signing_key(settings)
    if key is None:
        key = new_key()
        _write(settings.signing_key_path(), key.jwk, 0o600)
    path = _jwks_path(settings)
    if path is not None:
        listed = path.exists() and any(
            k.get("kid") == key.kid for k in json.loads(path.read_text()).get("keys", [])
        )
        if not listed:
            _publish(settings, key, keep_previous=True)
    return key


def rotate_keys(settings: Settings) -> SigningKey:
    """A new signing key; the JWKS keeps the previous public key next to the new one."""
    key = new_key()
    _publish(settings, key, keep_previous=True)  # publish first: verifiers know it on first use
    _write(settings.signing_key_path(), key.jwk, 0o600)
    return key


def service_token(
    settings: Settings,
    role: str,
    audience: str | list[str],
    *,
    nip: str | None = None,
    opd: str | None = None,
    ttl: timedelta = timedelta(minutes=10),
) -> str:
    """A token for a script or job (`sikerja token`, the demo loader), signed with this
    machine's key; raises NoSigningKey where there is none."""
    from services.shared.identity import mint  # identity imports the HTTP kit: only here

    key = load_signing_key(settings)
    if key is None:
        raise NoSigningKey(str(settings.signing_key_path()))
    return mint(key.jwk, key.kid, {"role": role, "nip": nip, "opd": opd, "aud": audience}, ttl)
