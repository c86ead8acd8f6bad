"""Tokens for the benches: a development key pair in the bench's data folder, the settings
that point the services it starts at it, and Authorization headers signed with it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.shared.keys import ensure_dev_keys, service_token
from services.shared.settings import Settings

SERVICES = ["attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal"]


def _settings(data_dir: Path) -> Settings:
    keys = data_dir / "keys"
    return Settings(jwks=str(keys / "jwks.json"), signing_key=keys / "signing.jwk.json")


def keys_env(data_dir: Path) -> dict[str, str]:
    """Makes the key pair (once) and gives the env the services need to verify with it."""
    settings = _settings(data_dir)
    ensure_dev_keys(settings)
    return {
        "SIKERJA_JWKS": settings.jwks_source(),
        "SIKERJA_SIGNING_KEY": str(settings.signing_key_path()),
    }


def who(data_dir: Path, nip: str | None, role: str, opd: str | None = None) -> dict[str, str]:
    """The Authorization header of a caller, valid for every service for two hours (a
    bench reuses it for all its requests, as a client reuses the portal's token)."""
    signed = service_token(
        _settings(data_dir), role, SERVICES, nip=nip, opd=opd, ttl=timedelta(hours=2)
    )
    return {"Authorization": f"Bearer {signed}"}
