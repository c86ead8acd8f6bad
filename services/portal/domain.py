"""The portal's pure rules: roles, password policy, login limits, session expiry and the
steps a login goes through. No I/O; the clock is passed in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

ROLE_ORDER = ("bkpsdm", "operator", "auditor", "atasan", "asn")  # most privileged first
GRANTABLE = frozenset({"operator", "bkpsdm", "auditor"})  # granted by BKPSDM, never derived
NEEDS_TOTP = GRANTABLE  # a second factor for anyone who can act beyond themselves
ROLE_NAMES = {
    "asn": "ASN",
    "atasan": "Atasan",
    "operator": "Operator OPD",
    "bkpsdm": "BKPSDM",
    "auditor": "Auditor",
}


def roles_of(granted: Iterable[str], has_subordinates: bool) -> list[str]:
    """Everyone is asn; atasan comes from the employee projection (someone's atasan_nip is
    this NIP), never from a grant; the rest are BKPSDM's grants."""
    held = {"asn", *(r for r in granted if r in GRANTABLE)}
    if has_subordinates:
        held.add("atasan")
    return [r for r in ROLE_ORDER if r in held]


def primary_role(roles: list[str]) -> str:
    return roles[0] if roles else "asn"


def may_issue_code(
    caller_role: str, caller_opd: str | None, account_opd: str, account_roles: Iterable[str]
) -> bool:
    """Who hands out one-time codes (first password, reset): BKPSDM for anyone; an OPD's
    operator for that OPD's people, except those holding a granted role (BKPSDM resets
    those: an operator must not take over a more privileged account)."""
    if caller_role == "bkpsdm":
        return True
    if caller_role != "operator" or not caller_opd or caller_opd != account_opd:
        return False
    return not any(r in GRANTABLE for r in account_roles)


def needs_totp(roles: Iterable[str]) -> bool:
    return any(r in NEEDS_TOTP for r in roles)


# -- passwords ------------------------------------------------------------------------------------
MIN_PASSWORD = 10
MAX_PASSWORD = 128  # argon2 would hash anything; a bound keeps a request's cost bounded
_COMMON = frozenset(
    {
        "password123",
        "passw0rd123",
        "1234567890",
        "0123456789",
        "qwertyuiop",
        "katasandi123",
        "bekasi12345",
        "kotabekasi1",
        "sikerja2026",
        "admin12345",
    }
)


def password_problems(password: str, nip: str) -> list[str]:
    """What is wrong with a new password, in Bahasa Indonesia (empty: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"kata sandi minimal {MIN_PASSWORD} karakter")
    if len(password) > MAX_PASSWORD:
        problems.append(f"kata sandi maksimal {MAX_PASSWORD} karakter")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("kata sandi harus memuat huruf dan angka")
    if nip and nip in password:
        problems.append("kata sandi tidak boleh memuat NIP")
    if password.lower() in _COMMON:
        problems.append("kata sandi terlalu umum")
    return problems


# -- login limits ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoginPolicy:
    """Failed logins per NIP lock that NIP for the rest of the window; failed logins per IP
    are bounded too, against one machine trying many NIPs. Successful logins do not count
    against the address: a whole office logs in through one NAT address each morning."""

    failures_per_nip: int = 5
    failures_per_ip: int = 30
    window_minutes: int = 15

    def nip_limit(self) -> str:
        return f"{self.failures_per_nip} per {self.window_minutes} minutes"

    def ip_limit(self) -> str:
        return f"{self.failures_per_ip} per {self.window_minutes} minutes"


def _minutes(seconds: float) -> int:
    return max(1, int(-(-seconds // 60)))


def nip_locked_message(retry_after_s: float) -> str:
    return (
        "Akun dikunci sementara karena terlalu banyak percobaan masuk yang gagal. "
        f"Silakan coba lagi dalam {_minutes(retry_after_s)} menit, atau hubungi operator OPD."
    )


def ip_limited_message(retry_after_s: float) -> str:
    return (
        "Terlalu banyak percobaan masuk dari alamat ini. "
        f"Silakan coba lagi dalam {_minutes(retry_after_s)} menit."
    )


WRONG_CREDENTIALS = "NIP atau kata sandi salah."


# -- sessions -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def session_expired(
    created_at: datetime, last_seen_at: datetime, now: datetime, policy: SessionPolicy
) -> bool:
    """Idle too long, or alive too long whatever the activity."""
    return now - last_seen_at >= policy.idle or now - created_at >= policy.absolute


# Where a session stands: it may only do what its state allows until it is "active".
MUST_CHANGE, ENROL_TOTP, TOTP, ACTIVE = "must_change", "enrol_totp", "totp", "active"


def next_state(must_change: bool, roles: Iterable[str], totp_enrolled: bool, totp_ok: bool) -> str:
    """The step a login still owes: a new password, then (for privileged roles) enrolling
    or entering the second factor, then active."""
    if must_change:
        return MUST_CHANGE
    if needs_totp(roles) and not totp_ok:
        return TOTP if totp_enrolled else ENROL_TOTP
    return ACTIVE


STATE_MESSAGES = {
    MUST_CHANGE: "Anda harus mengganti kata sandi sebelum melanjutkan.",
    ENROL_TOTP: "Peran Anda memerlukan verifikasi dua langkah: daftarkan aplikasi autentikator.",
    TOTP: "Masukkan kode dari aplikasi autentikator Anda.",
    ACTIVE: "Anda sudah masuk.",
}

# -- one-time codes -------------------------------------------------------------------------------
SETUP_CODE_TTL = timedelta(hours=72)  # long enough for the operator to hand it over
RECOVERY_CODES = 10


def code_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    return used_at is None and now < expires_at
