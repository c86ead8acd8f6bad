"""The scope rules every route applies (services/shared/scope.py), with plain values."""

from __future__ import annotations

import pytest

from services.shared.db import EmployeeRow
from services.shared.identity import Identity
from services.shared.scope import may_see_person, require_opd_staff, require_writer

A, B, C, Q = "1" * 18, "2" * 18, "3" * 18, "4" * 18
ANI = EmployeeRow(nip=A, nama="Ani", opd="Dinkes", atasan_nip=B)


def who(role: str, nip: str | None = None, opd: str | None = None) -> Identity:
    return Identity(nip=nip, role=role, opd=opd)


@pytest.mark.parametrize(
    ("caller", "sees"),
    [
        (who("asn", A), True),
        (who("asn", Q), False),
        (who("atasan", B), True),
        (who("atasan", C), False),
        (who("operator", Q, "Dinkes"), True),
        (who("operator", Q, "Bappeda"), False),
        (who("operator", Q, None), False),
        (who("bkpsdm", Q), True),
        (who("auditor", Q), True),
        (who("system"), True),
    ],
)
def test_who_sees_ani(caller: Identity, sees: bool) -> None:
    assert may_see_person(caller, A, ANI) is sees


def test_a_plt_sees_the_subordinates_of_the_atasan_they_stand_in_for() -> None:
    assert may_see_person(who("atasan", C), A, ANI, plt_for={B})
    assert not may_see_person(who("atasan", C), A, ANI, plt_for={Q})


def test_an_unknown_employee_is_seen_only_by_themself_and_the_city() -> None:
    assert may_see_person(who("asn", A), A, None)
    assert not may_see_person(who("operator", Q, "Dinkes"), A, None)
    assert not may_see_person(who("atasan", B), A, None)


def test_an_auditor_never_writes_and_an_operator_writes_only_in_their_opd() -> None:
    with pytest.raises(Exception, match="tidak berwenang"):
        require_writer(who("auditor", Q), "mengubah data")
    require_opd_staff(who("operator", Q, "Dinkes"), "Dinkes", "mendaftarkan mesin")
    with pytest.raises(Exception, match="tidak berwenang"):
        require_opd_staff(who("operator", Q, "Bappeda"), "Dinkes", "mendaftarkan mesin")
    with pytest.raises(Exception, match="tidak berwenang"):
        require_opd_staff(who("auditor", Q), "Dinkes", "mendaftarkan mesin")


def test_a_plt_without_subordinates_of_their_own_still_stands_in() -> None:
    """A Plt need not be an atasan themself (their token says asn): approval lets them
    decide, so they read what they decide on; the delegation is what counts, not the role."""
    assert may_see_person(who("asn", C), A, ANI, plt_for={B})
    assert not may_see_person(who("asn", C), A, ANI)
    assert not may_see_person(who("asn", B), A, ANI)  # a direct atasan's reach is the role's
