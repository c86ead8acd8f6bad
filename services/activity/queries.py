"""Activity's reads: the filing gate (the day's unlocks and BKPSDM's openings, the rules it
is decided by), the minutes already reported, SKP targets, who may see an employee's file
(`may_view`), and the rows the routes list. Nothing here writes; the routes and
commands.py call these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, literal, null, true, tuple_, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select

from services.activity import domain
from services.activity import gate as filing_gate  # queries.gate is a function
from services.activity.models import (
    DayUnlock,
    Evidence,
    Opening,
    PltDelegation,
    Report,
    SkpTarget,
)
from services.kernel.calendar import WorkCalendar
from services.kernel.employment import Period, period_on
from services.shared import penilai, scope
from services.shared.db import chunked
from services.shared.employees import EmployeeRow, all_periods, find_employee, periods_by_nip
from services.shared.http import Actor
from services.shared.uow import UnitOfWork

PERSON_ROLES = ("asn", "atasan")  # employees acting for themselves


@dataclass(frozen=True, slots=True)
class FilingRules:
    """What the filing gate and the report checks take from the app, resolved by the route:
    the deadline rule (working days, time of day), the report limits and the work calendar
    of a year. The calendar comes as the app's book (`year -> WorkCalendar`): a filing's
    year is known per filing, and the book may read the store, which it does in the unit
    of work's thread, not on the event loop."""

    deadline_days: int
    deadline_at: time
    limits: domain.ReportLimits
    calendar_for: Callable[[int], WorkCalendar]


# --------------------------------------------------------------------------- people


def plt_for(uow: UnitOfWork, plt_nip: str, today: date) -> list[str]:
    """The atasan NIPs `plt_nip` stands in for today: unrevoked delegations (projected from
    approval's DelegationGranted / DelegationRevoked) whose window (inclusive) covers today."""
    rows = uow.session.exec(
        select(PltDelegation.atasan_nip).where(
            PltDelegation.plt_nip == plt_nip,
            col(PltDelegation.revoked_at).is_(None),
            col(PltDelegation.start) <= today,
            col(PltDelegation.end) >= today,
        )
    ).all()
    return list(rows)


def penilai_windows(
    uow: UnitOfWork, penilai_nip: str, owner_nip: str
) -> list[tuple[date | None, date | None]]:
    """The report dates (first, last; None = open) `penilai_nip` is the penilai of
    `owner_nip` for: approval's PenilaiAssigned, not removed."""
    assert uow.tables.penilai is not None
    rows = uow.session.exec(
        penilai.standing(uow.tables.penilai, nips=[owner_nip], penilai_nip=penilai_nip)
    ).all()
    return [(r.first_day, r.last_day) for r in rows]


def _placement(
    periods: Sequence[Period], latest: EmployeeRow | None, on: date | None
) -> scope.Placement | None:
    """The OPD and atasan that rule a view: those of the period of `on` (a report's date),
    else the latest period's (the file as a whole, or a date no period covers)."""
    period = period_on(periods, on) if on is not None else None
    return period if period is not None else latest


def may_view(
    uow: UnitOfWork, who: Actor, owner_nip: str, today: date, on: date | None = None
) -> bool:
    """Who may see an employee's reports and evidence (and the rest of their file here:
    filing status, unlocked days, openings, SKP targets and realisation). Every read route
    asks this one rule, services.shared.scope's:

    * the owner; their direct atasan; the operator of their OPD — for a report (`on`, its
      date) the atasan and OPD of the period of that date (RULES.md "Employment within a
      month": a report dated before a transfer stays with the old atasan and OPD), for the
      file as a whole those of the latest period;
    * a Plt of that atasan: a delegation from that atasan, not revoked, whose window covers
      `today`, the WIB date of the request. Like approval, where the Plt window is checked
      on the decision date and not on the report's date: while the mandate runs the Plt
      opens every report they may decide, including those dated before it began; once it
      ends or is revoked they see none, even those dated inside it. A Plt of another atasan
      sees nothing; a Plt only reads (SKP changes stay with the atasan);
    * the penilai BKPSDM named for an employee without atasan (approval's PenilaiAssigned):
      the reports dated inside the penilai's dates, and the file as a whole while those
      dates cover `today`; like a Plt, a penilai only reads;
    * BKPSDM, auditors and service accounts.
    """
    return bool(viewable(uow, who, owner_nip, today, [on]))


def viewable(
    uow: UnitOfWork, who: Actor, owner_nip: str, today: date, days: Iterable[date | None]
) -> set[date | None]:
    """Those of `days` (report dates; None = the file as a whole) `who` may see of
    `owner_nip`'s, by `may_view`'s rule."""
    wanted = set(days)
    if who.role in scope.CITY_READERS or (who.nip is not None and who.nip == owner_nip):
        return wanted
    stands_in: list[str] = []
    if who.role in PERSON_ROLES and who.nip:
        stands_in = plt_for(uow, who.nip, today)
    windows: list[tuple[date | None, date | None]] = []
    if who.role in PERSON_ROLES and who.nip:
        windows = penilai_windows(uow, who.nip, owner_nip)
    periods = periods_by_nip(uow, [owner_nip]).get(owner_nip, [])
    latest = find_employee(uow, owner_nip)
    return {
        day
        for day in wanted
        if scope.may_see_person(who, owner_nip, _placement(periods, latest, day), stands_in)
        or any(_within(day or today, first, last) for first, last in windows)
    }


def _within(day: date, first: date | None, last: date | None) -> bool:
    return (first is None or first <= day) and (last is None or day <= last)


# --------------------------------------------------------------------------- projections


# The filing gate's queries, built once: building a statement and its cache key on every
# request cost more CPU than SQLite spent running it. The day's unlocks (scan, dinas luar)
# and BKPSDM's openings come in one round trip: rows with an `opened_by` are openings,
# rows without are unlocks (their `id` column carries the unlock's source).
_OPENING_TABLE = Opening.__table__
_UNLOCK_TABLE = DayUnlock.__table__
_o, _u = _OPENING_TABLE.c, _UNLOCK_TABLE.c
_DAY_FACTS = union_all(
    core_select(_o.nip, _o.work_date, _o.id, _o.opened_by, _o.reason, _o.opened_at, _o.until).where(
        tuple_(_o.nip, _o.work_date).in_(bindparam("days", expanding=True))
    ),
    core_select(_u.nip, _u.work_date, _u.source, null(), null(), null(), null()).where(
        tuple_(_u.nip, _u.work_date).in_(bindparam("days", expanding=True)), _u.active == true()
    ),
)
# a report whose minutes count in its day: not withdrawn, not rejected
_LIVE = col(Report.status).not_in(
    [domain.ReportStatus.WITHDRAWN.value, domain.ReportStatus.REJECTED.value]
)
# the day's minutes of the other live reports (an edit or revision replaces its own)
_OTHER_LIVE_MINUTES = select(func.coalesce(func.sum(Report.minutes), 0)).where(
    Report.nip == bindparam("nip"),
    Report.work_date == bindparam("day"),
    Report.id != bindparam("except_id"),
    _LIVE,
)


DayFacts = tuple[filing_gate.Unlock | None, list[tuple[str, filing_gate.Opening]]]


def day_facts(uow: UnitOfWork, nip: str, day: date) -> DayFacts:
    """The scan (preferred) or dinas luar that opens `day` for `nip`, and BKPSDM's openings
    of that day as (opening id, domain value) pairs."""
    return day_facts_many(uow, [(nip, day)]).get((nip, day), (None, []))


def day_facts_many(
    uow: UnitOfWork, days: list[tuple[str, date]]
) -> dict[tuple[str, date], DayFacts]:
    """`day_facts` of several (nip, date) pairs in one query."""
    sources: dict[tuple[str, date], list[str]] = {}
    openings: dict[tuple[str, date], list[tuple[str, filing_gate.Opening]]] = {}
    for row in uow.connection.execute(_DAY_FACTS, {"days": days}):
        key = (row.nip, row.work_date)
        if row.opened_by is None:
            sources.setdefault(key, []).append(row.id)
        else:
            opening = filing_gate.Opening(
                row.nip, row.work_date, row.opened_by, row.reason, row.opened_at, row.until
            )
            openings.setdefault(key, []).append((row.id, opening))
    out: dict[tuple[str, date], DayFacts] = {}
    for key in set(sources) | set(openings):
        unlock = None
        if key in sources:
            best = min(sources[key], key=lambda source: 0 if source == "scan" else 1)
            unlock = filing_gate.Unlock(key[0], key[1], filing_gate.UnlockSource(best))
        out[key] = (unlock, openings.get(key, []))
    return out


def _opening_id(
    pairs: Iterable[tuple[str, filing_gate.Opening]], used: filing_gate.Opening | None
) -> str | None:
    for opening_id, value in pairs:
        if value == used:
            return opening_id
    return None


def _to_target(row: SkpTarget) -> domain.SkpTarget:
    return domain.SkpTarget(
        row.id, row.nip, row.year, row.activity, row.indicator, row.target_quantity
    )


def targets(uow: UnitOfWork, nip: str, year: int) -> dict[str, domain.SkpTarget]:
    rows = uow.session.exec(
        select(SkpTarget).where(SkpTarget.nip == nip, SkpTarget.year == year)
    ).all()
    return {r.id: _to_target(r) for r in rows}


_LIVE_MINUTES_MANY = (
    select(col(Report.nip), col(Report.work_date), func.sum(Report.minutes))
    .where(tuple_(Report.nip, Report.work_date).in_(bindparam("days", expanding=True)), _LIVE)
    .group_by(col(Report.nip), col(Report.work_date))
)


def minutes_many(uow: UnitOfWork, days: list[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """The minutes of live reports on each (nip, date), in one query."""
    rows = uow.connection.execute(_LIVE_MINUTES_MANY, {"days": days})
    return {(nip, day): int(total or 0) for nip, day, total in rows}


def minutes_other(uow: UnitOfWork, nip: str, day: date, except_id: str) -> int:
    params = {"nip": nip, "day": day, "except_id": except_id}
    return int(uow.connection.execute(_OTHER_LIVE_MINUTES, params).scalar_one())


def to_daily_report(row: Report) -> domain.DailyReport:
    content = domain.ReportContent(
        row.work_date, row.description, row.output, row.quantity, row.minutes, row.skp_target_id
    )
    return domain.DailyReport(
        row.id, row.nip, content, domain.ReportStatus(row.status), row.filed_at, row.revision
    )


# --------------------------------------------------------------------------- filing gate


def gate(
    uow: UnitOfWork, rules: FilingRules, nip: str, day: date, now: datetime
) -> tuple[filing_gate.FilingDecision, str | None]:
    unlock, pairs = day_facts(uow, nip, day)
    active = active_on(periods_by_nip(uow, [nip]), nip, day)
    return decide(rules, nip, day, now, unlock, pairs, active=active)


def active_on(periods: dict[str, list[Period]], nip: str, day: date) -> bool:
    """Is `nip` active on `day` by their periods? A NIP without any period here (the
    employee events not arrived yet) is not refused on that account: the day's scan or
    dinas luar still has to open the date."""
    known = periods.get(nip)
    return known is None or period_on(known, day) is not None


def decide(
    rules: FilingRules,
    nip: str,
    day: date,
    now: datetime,
    unlock: filing_gate.Unlock | None,
    pairs: list[tuple[str, filing_gate.Opening]],
    *,
    active: bool = True,
) -> tuple[filing_gate.FilingDecision, str | None]:
    """The gate's decision from the day's facts, and the opening that allowed it (if any)."""
    decision = filing_gate.check_filing(
        day,
        now,
        unlock,
        [o for _, o in pairs],
        rules.calendar_for(day.year),
        rules.deadline_days,
        rules.deadline_at,
        nip=nip,
        active=active,
    )
    return decision, _opening_id(pairs, decision.opening)


def revision_gate(
    uow: UnitOfWork, rules: FilingRules, row: Report, now: datetime
) -> filing_gate.FilingDecision:
    """May the revision the atasan asked for be sent now: counted from the request, or by
    BKPSDM's opening of the report's date."""
    requested_at = row.revision_requested_at or row.updated_at
    decision = filing_gate.check_revision(
        requested_at,
        now,
        rules.calendar_for(requested_at.year),
        rules.deadline_days,
        rules.deadline_at,
        report_date=row.work_date,
    )
    if not decision.allowed:
        opened, _ = gate(uow, rules, row.nip, row.work_date, now)
        if opened.code is filing_gate.FilingCode.OPENED:
            decision = opened  # BKPSDM opened the date again: the opening rules
    return decision


# --------------------------------------------------------------------------- reports


def report(uow: UnitOfWork, report_id: str) -> Report | None:
    return uow.session.get(Report, report_id)


def reports_between(uow: UnitOfWork, nip: str, first: date, after: date) -> Sequence[Report]:
    """`nip`'s reports dated in [first, after), by date then filing time."""
    return uow.session.exec(
        select(Report)
        .where(Report.nip == nip, Report.work_date >= first, Report.work_date < after)
        .order_by(col(Report.work_date), col(Report.filed_at))
    ).all()


def unlocked_days(uow: UnitOfWork, nip: str) -> Sequence[DayUnlock]:
    return uow.session.exec(
        select(DayUnlock)
        .where(DayUnlock.nip == nip, DayUnlock.active == True)  # noqa: E712
        .order_by(DayUnlock.work_date)  # type: ignore[arg-type]
    ).all()


# --------------------------------------------------------------------------- evidence


def evidence(uow: UnitOfWork, evidence_id: str) -> Evidence | None:
    return uow.session.get(Evidence, evidence_id)


def evidence_of(uow: UnitOfWork, report_id: str) -> Sequence[Evidence]:
    return uow.session.exec(
        select(Evidence).where(Evidence.report_id == report_id).order_by(col(Evidence.uploaded_at))
    ).all()


def same_evidence(uow: UnitOfWork, report_id: str, sha256: str) -> Evidence | None:
    """The report's evidence with this digest, if it was attached already."""
    return uow.session.exec(
        select(Evidence).where(Evidence.report_id == report_id, Evidence.sha256 == sha256)
    ).first()


# --------------------------------------------------------------------------- openings


def recent_openings(uow: UnitOfWork, limit: int) -> Sequence[Opening]:
    """The city's openings, the newest first."""
    query = select(Opening).order_by(col(Opening.opened_at).desc()).limit(limit)
    return uow.session.exec(query).all()


def openings_of(uow: UnitOfWork, nip: str) -> Sequence[Opening]:
    return uow.session.exec(
        select(Opening).where(Opening.nip == nip).order_by(col(Opening.opened_at))
    ).all()


# --------------------------------------------------------------------------- SKP targets


def skp_target(uow: UnitOfWork, target_id: str) -> SkpTarget | None:
    return uow.session.get(SkpTarget, target_id)


def skp_targets_of(uow: UnitOfWork, nip: str, year: int | None) -> Sequence[SkpTarget]:
    query = select(SkpTarget).where(SkpTarget.nip == nip)
    if year is not None:
        query = query.where(SkpTarget.year == year)
    return uow.session.exec(query.order_by(col(SkpTarget.year), col(SkpTarget.id))).all()


def linked(uow: UnitOfWork, target_id: str) -> bool:
    return (
        uow.session.exec(select(Report.id).where(Report.skp_target_id == target_id)).first()
        is not None
    )


def approved_on(uow: UnitOfWork, nip: str, target_ids: list[str]) -> Sequence[Report]:
    """`nip`'s approved reports on these SKP targets."""
    return uow.session.exec(
        select(Report).where(
            Report.nip == nip,
            col(Report.skp_target_id).in_(target_ids),
            Report.status == domain.ReportStatus.APPROVED.value,
        )
    ).all()


# --------------------------------------------------------------------------- migration import


def unlocked_set(uow: UnitOfWork, nips: list[str]) -> set[tuple[str, date]]:
    found: set[tuple[str, date]] = set()
    for chunk in chunked(nips):
        rows = uow.session.exec(
            select(col(DayUnlock.nip), col(DayUnlock.work_date)).where(
                col(DayUnlock.nip).in_(chunk),
                DayUnlock.active == True,  # noqa: E712
            )
        ).all()
        found.update((n, d) for n, d in rows)
    return found


def existing_ids(uow: UnitOfWork, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunked(ids):
        found.update(uow.session.exec(select(Report.id).where(col(Report.id).in_(chunk))))
    return found


def unlock_count(uow: UnitOfWork) -> int:
    return int(uow.session.exec(select(func.count()).select_from(DayUnlock)).one())


# -- the city dashboard: on-time filing per OPD -----------------------------------------------
FILING_KINDS = (filing_gate.ON_THE_DAY, filing_gate.BEFORE_DEADLINE, filing_gate.AFTER_DEADLINE)


def _filing_row(counts: dict[str, int]) -> dict[str, Any]:
    required = counts.get("hari_wajib", 0)
    on_time = counts.get(filing_gate.ON_THE_DAY, 0) + counts.get(filing_gate.BEFORE_DEADLINE, 0)
    rate = (
        (Decimal(on_time * 100) / required).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if required
        else None
    )
    return {
        "hari_wajib": required,
        **{k: counts.get(k, 0) for k in FILING_KINDS},
        "diimpor": counts.get("diimpor", 0),
        "tidak_ada": counts.get("tidak_ada", 0),
        "tepat_waktu": on_time,
        "persen_tepat_waktu": float(rate) if rate is not None else None,
    }


def opds_filing(
    uow: UnitOfWork, rules: FilingRules, first: date, last: date, now: datetime
) -> dict[str, Any]:
    """A month's filing per OPD, over the required days: each working day of the month on
    which the employee was active (`hari_wajib`), counted in the OPD of that date, once its
    filing deadline has passed (a date still open to filing is not judged yet). The date's
    first report that stands (not withdrawn) is `hari_itu`, `sebelum_batas` or `lewat_batas`
    (gate.on_time_bounds, which says what "tepat waktu" is); one loaded by a BKPSDM migration
    import is `diimpor` (its filing time is the import's); a required day without any is
    `tidak_ada`. Reports on non-working days are not counted (they earn nothing).

    One query per table, counted by the database (15,000 ASN × 22 days is 330,000 reports):
    each (NIP, date)'s first report is put in its kind there, and the kinds are counted per
    NIP; only the NIPs whose OPD may change within the month keep a row per date."""
    calendar = rules.calendar_for(first.year)
    judged = {}
    for d in calendar.working_days_in_month(first.year, first.month):
        deadline = filing_gate.filing_deadline(d, calendar, rules.deadline_days, rules.deadline_at)
        if first <= d <= last and deadline < now:
            judged[d] = filing_gate.on_time_bounds(d, deadline)
    periods = all_periods(uow)
    whole = {
        nip: ps[0].opd
        for nip, ps in periods.items()
        if len(ps) == 1 and ps[0].covers(first) and ps[0].covers(last)
    }
    changing = sorted(set(periods) - set(whole))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    # the required days: whole-month NIPs have them all, the others those of their periods
    for opd in whole.values():
        counts[opd]["hari_wajib"] += len(judged)
    for nip in changing:
        for d in judged:
            if (period := period_on(periods[nip], d)) is not None:
                counts[period.opd]["hari_wajib"] += 1
    found = _first_reports_by_kind(uow, judged, changing) if judged else []
    for nip, kind, on, n in found:
        if nip in whole:
            counts[whole[nip]][kind] += n
            continue
        period = period_on(periods.get(nip, ()), on) if on is not None else None
        if period is not None:  # else a report outside the employment: no required day
            counts[period.opd][kind] += n
    for opd_counts in counts.values():
        filed = sum(opd_counts[k] for k in (*FILING_KINDS, "diimpor"))
        opd_counts["tidak_ada"] = opd_counts["hari_wajib"] - filed
    city: dict[str, int] = defaultdict(int)
    for opd_counts in counts.values():
        for key, n in opd_counts.items():
            city[key] += n
    return {
        "hari_dinilai": [d.isoformat() for d in sorted(judged)],
        "opds": [{"opd": opd, **_filing_row(counts[opd])} for opd in sorted(counts)],
        "jumlah": _filing_row(city),
    }


def _first_reports_by_kind(
    uow: UnitOfWork, judged: dict[date, tuple[datetime, datetime]], changing: list[str]
) -> list[tuple[str, str, date | None, int]]:
    """(NIP, kind, date or None, count): each judged (NIP, date)'s first standing report put
    in its kind by the database; the date kept only for the `changing` NIPs."""
    report = Report.__table__.c
    per_day = (
        core_select(
            report.nip.label("nip"),
            report.work_date.label("work_date"),
            func.min(report.filed_at).label("first_at"),
            func.max(case((report.imported == true(), 1), else_=0)).label("imported"),
        )
        .where(
            report.work_date.in_(list(judged)),
            report.status != domain.ReportStatus.WITHDRAWN.value,
        )
        .group_by(report.nip, report.work_date)
        .subquery()
    )
    utc = report.filed_at.type

    def bound(which: int) -> Any:
        return case(
            {d: literal(bounds[which], utc) for d, bounds in judged.items()},
            value=per_day.c.work_date,
        )

    kind = case(
        (per_day.c.imported == 1, literal("diimpor")),
        (per_day.c.first_at < bound(0), literal(filing_gate.ON_THE_DAY)),
        (per_day.c.first_at <= bound(1), literal(filing_gate.BEFORE_DEADLINE)),
        else_=literal(filing_gate.AFTER_DEADLINE),
    )
    day = case((per_day.c.nip.in_(changing), per_day.c.work_date)) if changing else null()
    # grouped by a derived table's columns: the CASE is written once, not repeated with
    # its own bound parameters in the GROUP BY
    kinds = core_select(per_day.c.nip.label("nip"), kind.label("kind"), day.label("day")).subquery()
    rows = uow.session.execute(
        core_select(kinds.c.nip, kinds.c.kind, kinds.c.day, func.count()).group_by(
            kinds.c.nip, kinds.c.kind, kinds.c.day
        )
    ).all()
    return [(nip, str(k), on, int(n)) for nip, k, on, n in rows]
