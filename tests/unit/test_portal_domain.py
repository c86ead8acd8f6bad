"""The portal's pure rules: roles, password policy, who issues one-time codes, session expiry,
the steps of a login, and the Bahasa lockout wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.portal import domain

T0 = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
NIP = "198501012010011001"


def test_roles_everyone_is_asn_atasan_is_derived_and_ordered() -> None:
    assert domain.roles_of([], False) == ["asn"]
    assert domain.roles_of([], True) == ["atasan", "asn"]
    assert domain.roles_of(["auditor", "bkpsdm"], True) == ["bkpsdm", "auditor", "atasan", "asn"]
    # a grant cannot make anyone atasan (nor an unknown role)
    assert domain.roles_of(["atasan", "root"], False) == ["asn"]
    assert domain.primary_role(domain.roles_of(["operator"], True)) == "operator"


@pytest.mark.parametrize(
    ("roles", "needed"),
    [(["asn"], False), (["atasan", "asn"], False), (["operator", "asn"], True),
     (["bkpsdm"], True), (["auditor"], True)],
)  # fmt: skip
def test_totp_for_operator_bkpsdm_auditor(roles: list[str], needed: bool) -> None:
    assert domain.needs_totp(roles) is needed


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("pendek1", "minimal 10 karakter"),
        ("hanyahurufsaja", "huruf dan angka"),
        ("12345678901234", "huruf dan angka"),
        (f"x{NIP}", "tidak boleh memuat NIP"),
        ("Password123", "terlalu umum"),
        ("a1" * 70, "maksimal 128"),
    ],
)
def test_password_policy_says_what_is_wrong(password: str, problem: str) -> None:
    assert any(problem in p for p in domain.password_problems(password, NIP))


def test_a_good_password_passes() -> None:
    assert domain.password_problems("Bekasi-Kerja-2026", NIP) == []


def test_who_issues_one_time_codes() -> None:
    assert domain.may_issue_code("bkpsdm", None, "Dinas A", ["bkpsdm", "asn"])
    assert domain.may_issue_code("operator", "Dinas A", "Dinas A", ["atasan", "asn"])
    assert not domain.may_issue_code("operator", "Dinas B", "Dinas A", ["asn"])
    assert not domain.may_issue_code("operator", "Dinas A", "Dinas A", ["auditor", "asn"])
    assert not domain.may_issue_code("atasan", "Dinas A", "Dinas A", ["asn"])
    assert not domain.may_issue_code("operator", None, "", ["asn"])


def test_session_expires_when_idle_or_too_old() -> None:
    policy = domain.SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    seen = T0 + timedelta(hours=3)
    assert not domain.session_expired(T0, seen, seen + timedelta(minutes=29), policy)
    assert domain.session_expired(T0, seen, seen + timedelta(minutes=30), policy)
    late = T0 + timedelta(hours=11, minutes=50)
    assert not domain.session_expired(T0, late, late + timedelta(minutes=9), policy)
    assert domain.session_expired(T0, late, T0 + timedelta(hours=12), policy)


def test_the_steps_of_a_login() -> None:
    assert domain.next_state(True, ["bkpsdm"], True, False) == domain.MUST_CHANGE
    assert domain.next_state(False, ["bkpsdm"], False, False) == domain.ENROL_TOTP
    assert domain.next_state(False, ["bkpsdm"], True, False) == domain.TOTP
    assert domain.next_state(False, ["bkpsdm"], True, True) == domain.ACTIVE
    assert domain.next_state(False, ["atasan", "asn"], False, False) == domain.ACTIVE


def test_lockout_messages_are_bahasa_and_round_minutes_up() -> None:
    assert "dalam 15 menit" in domain.nip_locked_message(14 * 60 + 1)
    assert "dalam 1 menit" in domain.nip_locked_message(0)
    assert "operator OPD" in domain.nip_locked_message(60)
    assert "dari alamat ini" in domain.ip_limited_message(90)
    assert "dalam 2 menit" in domain.ip_limited_message(90)


def test_one_time_codes_are_usable_once_until_they_expire() -> None:
    expires = T0 + domain.SETUP_CODE_TTL
    assert domain.code_usable(expires, None, T0)
    assert not domain.code_usable(expires, T0, T0)
    assert not domain.code_usable(expires, None, expires)
