"""Secrets and their checks, through well-kept libraries: argon2id passwords (argon2-cffi),
TOTP (pyotp), QR codes as inline SVG (segno), random codes (secrets)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with OWASP's first recommended set (46 MiB, 1 pass, 1 lane): one hash takes about
# 110 ms on this project's busy 2-core machine (bench/bench_login.py; argon2-cffi's default,
# 64 MiB x 3 passes x 4 lanes, took 260-300 ms there: too close to the 300 ms login budget).
ARGON2 = {"time_cost": 1, "memory_cost": 46 * 1024, "parallelism": 1}
TOTP_ISSUER = "SIKERJA Kota Bekasi"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


def password_hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=ARGON2["time_cost"],
        memory_cost=ARGON2["memory_cost"],
        parallelism=ARGON2["parallelism"],
    )


class Passwords:
    """Hash and check passwords; a check for an unknown NIP still costs a hash (no timing
    difference tells which NIPs have an account)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or password_hasher()
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def check(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def random_code(groups: int = 2, size: int = 5) -> str:
    """E.g. 'K7QPM-3XH9A': about 50 bits for two groups."""
    return "-".join(
        "".join(secrets.choice(_CODE_ALPHABET) for _ in range(size)) for _ in range(groups)
    )


def normalize_code(code: str) -> str:
    return code.strip().upper().replace(" ", "").replace("-", "")


def code_hash(code: str) -> str:
    """Random codes carry enough entropy for a plain SHA-256 (no argon2 cost per try)."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# -- TOTP --------------------------------------------------------------------------------------
def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, nip: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=nip, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step a code belongs to (the current one or its neighbours, for clock drift),
    or None; a step at or before `last_step` was already used (no replay)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        moment = now.timestamp() + offset * totp.interval
        step = int(moment // totp.interval)
        if hmac.compare_digest(totp.at(int(moment)), code):
            return step if last_step is None or step > last_step else None
    return None


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image service, no CDN)."""
    return segno.make(data, error="m").svg_inline(scale=4, border=2)
