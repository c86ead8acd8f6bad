"""Who may see and change what: the scope rules every service applies at its routes (issue 12).

The roles a token carries (services/shared/identity.py):
- asn: only themself;
- atasan: themself, their direct subordinates (the employee projection's `atasan_nip`) and,
  where the service knows Plt delegations, the subordinates of the atasan they stand in for;
- operator: the employees and devices of their own OPD (the token's `opd`), never another's;
- bkpsdm: the whole city, reading and writing;
- auditor: the whole city, reading only: an auditor never writes;
- system: a job's service-account token (`sikerja token --role system`), the whole city.

Each check raises a 403 problem+json with a Bahasa Indonesia detail; the route decides which
check a resource needs. The employee a check is about comes from the service's own
projection, so an operator cannot reach another OPD's person by guessing a NIP, and an
unknown NIP is answered the same way as a foreign one (no probing). Where the resource has a
date, the check is given the period of that date (a `Placement`: RULES.md "Employment within
a month"), not the latest one (`find_employee`), which stays for what is really "now".
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from services.shared.http import Actor, Problem

CITY_READERS = frozenset({"bkpsdm", "auditor", "system"})
CITY_WRITERS = frozenset({"bkpsdm", "system"})


class Placement(Protocol):
    """Where a person stood: their OPD and atasan. The projection's EmployeeRow (the latest
    period) and a kernel Period (the period of a date) both are one."""

    @property
    def opd(self) -> str: ...

    @property
    def atasan_nip(self) -> str | None: ...


def forbidden(what: str) -> Problem:
    return Problem(403, f"Anda tidak berwenang untuk {what}.", code="forbidden")


def require_roles(who: Actor, roles: Collection[str], what: str) -> None:
    """Only these roles, whatever the resource."""
    if who.role not in roles:
        raise forbidden(what)


def require_writer(who: Actor, what: str) -> None:
    """Anyone but an auditor (read-only) may go on to the route's own checks."""
    if who.role == "auditor":
        raise forbidden(what)


def caller_opd(who: Actor) -> str | None:
    return getattr(who, "opd", None)


def in_opd(who: Actor, opd: str | None) -> bool:
    """An operator's reach: their own OPD only (a token without an OPD reaches none)."""
    mine = caller_opd(who)
    return who.role == "operator" and mine is not None and opd is not None and mine == opd


def may_see_person(
    who: Actor,
    nip: str,
    employee: Placement | None,
    plt_for: Collection[str] = (),
) -> bool:
    """May `who` read what belongs to employee `nip`? `employee`: where they stood (the period
    of the date concerned, or the projection's latest row), None when unknown here.
    `plt_for`: the atasan NIPs `who` stands in for today."""
    if who.role in CITY_READERS:
        return True
    if who.nip is not None and who.nip == nip:
        return True
    if employee is None:
        return False
    if who.role == "operator":
        return in_opd(who, employee.opd)
    boss = employee.atasan_nip
    if boss is None or who.nip is None:
        return False
    if who.role == "atasan" and boss == who.nip:
        return True
    # a Plt need not have subordinates of their own (their token may say asn)
    return who.role in ("asn", "atasan") and boss in plt_for


def require_person(
    who: Actor,
    nip: str,
    employee: Placement | None,
    what: str,
    *,
    plt_for: Collection[str] = (),
) -> None:
    if not may_see_person(who, nip, employee, plt_for):
        raise forbidden(what)


def require_opd_staff(who: Actor, opd: str | None, what: str) -> None:
    """City writers, or an operator of `opd` (a device, an OPD's records, an import line)."""
    if who.role in CITY_WRITERS or in_opd(who, opd):
        return
    raise forbidden(what)


def require_opd_reader(who: Actor, opd: str | None, what: str) -> None:
    """City readers, or an operator of `opd`."""
    if who.role in CITY_READERS or in_opd(who, opd):
        return
    raise forbidden(what)
