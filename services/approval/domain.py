"""Approval domain: the atasan's queue, decisions, the supervisor relation, Plt delegation.

Pure: no framework, no clock (every "now"/"today" is an argument), plain dataclasses. The
HTTP layer maps `may_decide(...) is None` and `DomainError("forbidden")` to 403.

Readings fixed here (docs/rules.md "Daily reports" says a Plt "can be delegated for a date
range" and no more):

* A Plt delegation is checked on the decision date (WIB), not on the report date. A Plt
  holds the atasan's authority while the mandate runs: during it they clear the whole queue,
  including reports dated before it began; once it ends they decide nothing, even on reports
  dated inside it (the atasan is back and decides). The start and end dates are inclusive.
* The atasan of a report is the atasan of the employment period in force on the report's
  date (issue 14), not today's: after a transfer on the 16th the old atasan still decides the
  reports dated up to the 15th. A date outside every period (before the first, in a gap)
  takes the nearest period before it, else the first one.
* Only a delegation given by that atasan counts; a Plt of another atasan has no authority
  over this employee. Nobody decides on their own report, not even as Plt.
* An employee without atasan on the report's date (a Kepala OPD; the Sekda, whose atasan is
  the Wali Kota, not an ASN) is decided by the penilai BKPSDM set for that date: an
  official's NIP (or their Plt), or BKPSDM itself, and then any BKPSDM officer decides,
  recorded as penilai. Without a penilai nobody decides: the report waits on BKPSDM's list.
* A report's month closed by the tpp service is locked unless BKPSDM reopened it; the
  caller passes the reopenings made since the latest close.
* Age of a waiting report = working days in (filed date, today]; the 09:00 reminder goes
  out for age > threshold (default 1). A report filed on Friday is 1 on Monday (no reminder,
  the atasan has not had a full working day yet) and 2 on Tuesday (reminder).
* A transfer (a new period) moves every open report of the employee whose date now has
  another atasan (pending, and those waiting for the employee's revision, which would
  otherwise come back to the old atasan); decided reports keep the atasan who decided them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.kernel.calendar import WIB, WorkCalendar, month_days, parse_period
from services.kernel.employment import Period, period_on
from services.kernel.errors import DomainError
from services.kernel.kinerja import DI_ATAS, DI_BAWAH, RATING_LABEL, SESUAI, predikat
from services.kernel.ruleset import RuleSet

DEFAULT_MAX_TEXT = 1000
DEFAULT_OVERDUE_THRESHOLD = 1


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


# --------------------------------------------------------------------------- decisions


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_REVISION = "request_revision"


_DECISION_LABEL = {
    DecisionKind.APPROVE: "disetujui",
    DecisionKind.REJECT: "ditolak",
    DecisionKind.REQUEST_REVISION: "diminta revisi",
}


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    text: str | None = None  # the reason of a rejection, the note of a revision request


def make_decision(
    kind: DecisionKind | str, text: str | None = None, max_text: int = DEFAULT_MAX_TEXT
) -> Decision:
    """A validated decision: a rejection needs a reason, a revision request a note."""
    kind = DecisionKind(kind)
    cleaned = (text or "").strip()
    if kind is DecisionKind.REJECT and not cleaned:
        raise DomainError(
            "reason_required",
            "Alasan penolakan wajib diisi agar pegawai tahu mengapa laporannya ditolak.",
        )
    if kind is DecisionKind.REQUEST_REVISION and not cleaned:
        raise DomainError(
            "note_required",
            "Catatan revisi wajib diisi agar pegawai tahu bagian mana yang harus diperbaiki.",
        )
    if len(cleaned) > max_text:
        raise DomainError(
            "text_too_long", f"Alasan atau catatan paling banyak {max_text} karakter."
        )
    return Decision(kind, cleaned or None)


# --------------------------------------------------------------------------- authority


@dataclass(frozen=True)
class Delegation:
    """`atasan_nip` delegates their approvals to `plt_nip` from `start` to `end` (inclusive)."""

    atasan_nip: str
    plt_nip: str
    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def validate_delegation(delegation: Delegation) -> None:
    if delegation.end < delegation.start:
        raise DomainError(
            "invalid_window", "Tanggal akhir penugasan Plt tidak boleh sebelum tanggal mulai."
        )
    if delegation.plt_nip == delegation.atasan_nip:
        raise DomainError(
            "self_delegation", "Atasan tidak dapat menunjuk dirinya sendiri sebagai Plt."
        )


BKPSDM = "BKPSDM"  # the penilai that is BKPSDM itself (any of its officers decides)


@dataclass(frozen=True)
class Penilai:
    """BKPSDM named `penilai` (an official's NIP, or BKPSDM) to decide the reports of `nip`,
    an employee without atasan, dated `first`..`last` (inclusive; None = open)."""

    nip: str
    penilai: str
    first: date | None = None
    last: date | None = None
    set_by: str | None = None  # the BKPSDM officer: BKPSDM's decisions are recorded in their name

    @property
    def is_bkpsdm(self) -> bool:
        return self.penilai == BKPSDM

    def covers(self, day: date) -> bool:
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)

    def overlaps(self, other: Penilai) -> bool:
        return (self.first is None or other.last is None or self.first <= other.last) and (
            other.first is None or self.last is None or other.first <= self.last
        )


def validate_penilai(penilai: Penilai, nama: str) -> None:
    """A penilai is not the employee, runs forwards, and an official is named."""
    if penilai.penilai == penilai.nip:
        raise DomainError(
            "self_penilai", "Pegawai tidak dapat menjadi penilai bagi dirinya sendiri."
        )
    if penilai.first is not None and penilai.last is not None and penilai.last < penilai.first:
        raise DomainError(
            "invalid_window", "Tanggal akhir penilai tidak boleh sebelum tanggal mulai."
        )
    if not penilai.is_bkpsdm and not nama.strip():
        raise DomainError(
            "nama_required", "Nama pejabat penilai wajib diisi bila penilai bukan BKPSDM."
        )


def penilai_on(penilai: Iterable[Penilai], nip: str, day: date) -> Penilai | None:
    """The penilai of `nip` for a report dated `day` (None: none set)."""
    return next((p for p in penilai if p.nip == nip and p.covers(day)), None)


def atasan_on_date(periods: Sequence[Period], owner_nip: str, day: date) -> str | None:
    """The atasan of `owner_nip`'s report dated `day`: that of the period in force on `day`;
    outside every period the nearest one before it, else the first (the report exists and
    someone must see it). None: no atasan (the top), or the employee is not known yet."""
    period = period_on(periods, day)
    if period is None and periods:
        before = [p for p in periods if p.last is not None and p.last < day]
        period = before[-1] if before else periods[0]
    atasan = period.atasan_nip if period is not None else None
    return None if atasan == owner_nip else atasan  # named their own atasan: nobody


AtasanOf = Mapping[str, str | None] | Callable[[str, date], str | None]
"""owner NIP -> atasan (the same on every date), or (owner NIP, report date) -> atasan."""


def _atasan(atasan_of: AtasanOf, owner_nip: str, day: date) -> str | None:
    if callable(atasan_of):
        return atasan_of(owner_nip, day)
    return atasan_of.get(owner_nip)


@dataclass(frozen=True)
class Authority:
    """Who may decide, and on whose behalf (None: as the direct atasan)."""

    actor_nip: str
    as_plt_for: str | None = None
    delegation: Delegation | None = None
    as_penilai: str | None = None  # the penilai (NIP or BKPSDM) of an employee without atasan

    @property
    def label(self) -> str:
        if self.as_plt_for is not None:
            return f"sebagai Plt untuk {self.as_plt_for}"
        if self.as_penilai == BKPSDM:
            return "sebagai penilai (BKPSDM)"
        if self.as_penilai is not None:
            return "sebagai penilai"
        return "sebagai atasan langsung"


FORBIDDEN = (
    "Anda tidak berwenang memutuskan laporan ini: hanya atasan langsung pegawai pada tanggal "
    "laporan, Plt yang ditunjuk atasan tersebut untuk tanggal hari ini, atau penilai yang "
    "ditetapkan BKPSDM bagi pegawai tanpa atasan."
)


def may_decide(
    actor_nip: str,
    report_owner_nip: str,
    report_date: date,
    atasan_of: AtasanOf,
    delegations: Iterable[Delegation],
    today: date,
    *,
    penilai: Penilai | None = None,
    bkpsdm: bool = False,
) -> Authority | None:
    """The actor's authority over this employee's report, or None (the API answers 403).

    The atasan of the report's date (`atasan_of`) decides; so does a Plt named by that same
    atasan in a delegation covering `today` (the decision date, WIB: the report's date does
    not pick the window, see the module docstring). Without an atasan, the `penilai` covering
    the report's date decides (or their Plt); a BKPSDM penilai is any caller with `bkpsdm`.
    """
    if actor_nip == report_owner_nip:
        return None  # nobody approves their own report
    atasan = _atasan(atasan_of, report_owner_nip, report_date)
    as_penilai = None
    if atasan is None or atasan == report_owner_nip:
        if penilai is None or penilai.nip != report_owner_nip or not penilai.covers(report_date):
            return None  # no atasan and no penilai: BKPSDM must name one first
        if penilai.is_bkpsdm:
            return Authority(actor_nip, as_penilai=BKPSDM) if bkpsdm else None
        atasan = as_penilai = penilai.penilai
    if actor_nip == atasan:
        return Authority(actor_nip, as_penilai=as_penilai)
    for d in delegations:
        if d.atasan_nip == atasan and d.plt_nip == actor_nip and d.covers(today):
            return Authority(actor_nip, as_plt_for=atasan, delegation=d, as_penilai=as_penilai)
    return None


def last_active_day(periods: Sequence[Period], period: str) -> date | None:
    """The last day of the month `period` one of the employee's periods covers (None: not
    active that month): whose month it is, for the monthly kinerja confirmation."""
    days = list(month_days(*parse_period(period)))
    return next((d for d in reversed(days) if period_on(periods, d) is not None), None)


# --------------------------------------------------------------------------- period lock


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def is_period_locked(
    period: str, closed_periods: Iterable[str], reopened_periods: Iterable[str]
) -> bool:
    """Closed by the tpp service and not reopened by BKPSDM since.

    Periods are compared as (year, month), so '2026-1' and '2026-01' are the same month.
    """
    key = parse_period(period)
    closed = {parse_period(p) for p in closed_periods}
    reopened = {parse_period(p) for p in reopened_periods}
    return key in closed and key not in reopened


# --------------------------------------------------------------------------- queue


class QueueStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISION_REQUESTED = "revision_requested"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES: frozenset[QueueStatus] = frozenset(
    {QueueStatus.PENDING, QueueStatus.REVISION_REQUESTED}
)
_STATUS_LABEL = {
    QueueStatus.PENDING: "menunggu persetujuan",
    QueueStatus.APPROVED: "sudah disetujui",
    QueueStatus.REJECTED: "sudah ditolak",
    QueueStatus.REVISION_REQUESTED: "menunggu revisi dari pegawai",
    QueueStatus.WITHDRAWN: "sudah ditarik oleh pegawai",
}
_AFTER = {
    DecisionKind.APPROVE: QueueStatus.APPROVED,
    DecisionKind.REJECT: QueueStatus.REJECTED,
    DecisionKind.REQUEST_REVISION: QueueStatus.REVISION_REQUESTED,
}


@dataclass(frozen=True)
class QueueItem:
    """A report as the approval service knows it (from the activity events)."""

    report_id: str
    owner_nip: str
    report_date: date
    filed_at: datetime  # tz-aware; the last time it (re)entered the queue
    atasan_nip: str | None
    status: QueueStatus = QueueStatus.PENDING

    @property
    def filed_on(self) -> date:
        return self.filed_at.astimezone(WIB).date()


@dataclass(frozen=True)
class AuditEntry:
    """Who decided what, when, why, and on whose behalf."""

    report_id: str
    actor_nip: str  # who
    at: datetime  # when (tz-aware)
    action: DecisionKind  # what
    reason: str | None  # the reason or note, as written
    as_plt_for: str | None  # the atasan on whose behalf a Plt decided
    as_penilai: str | None = None  # the penilai (NIP or BKPSDM) of an employee without atasan

    def summary(self) -> str:
        local = self.at.astimezone(WIB)
        role = ""
        if self.as_plt_for:
            role = f" sebagai Plt untuk {self.as_plt_for}"
        elif self.as_penilai == BKPSDM:
            role = " sebagai penilai (BKPSDM)"
        elif self.as_penilai:
            role = " sebagai penilai"
        text = (
            f"Laporan {_DECISION_LABEL[self.action]} oleh {self.actor_nip}"
            + role
            + f" pada {local:%d-%m-%Y %H.%M} WIB"
        )
        return text + (f". Alasan: {self.reason}" if self.reason else ".")


@dataclass(frozen=True)
class DecisionResult:
    item: QueueItem  # with its new status
    audit: AuditEntry


def decide(
    item: QueueItem,
    actor_nip: str,
    decision: Decision,
    now: datetime,
    atasan_of: AtasanOf,
    delegations: Iterable[Delegation],
    closed_periods: Iterable[str] = (),
    reopened_periods: Iterable[str] = (),
    *,
    penilai: Penilai | None = None,
    bkpsdm: bool = False,
) -> DecisionResult:
    """Apply a decision, or DomainError with code forbidden / not_pending / period_locked.

    Authority is checked first so that someone without it learns nothing about the report.
    """
    _require_aware(now, "now")
    today = now.astimezone(WIB).date()
    authority = may_decide(
        actor_nip,
        item.owner_nip,
        item.report_date,
        atasan_of,
        delegations,
        today,
        penilai=penilai,
        bkpsdm=bkpsdm,
    )
    if authority is None:
        raise DomainError("forbidden", FORBIDDEN)
    if item.status is not QueueStatus.PENDING:
        raise DomainError(
            "not_pending",
            f"Laporan ini tidak lagi menunggu keputusan (status: {_STATUS_LABEL[item.status]}).",
        )
    period = period_of(item.report_date)
    if is_period_locked(period, closed_periods, reopened_periods):
        raise DomainError(
            "period_locked",
            f"Periode {period} sudah ditutup untuk perhitungan TPP, sehingga laporan pada "
            "periode itu tidak dapat diputuskan lagi. Hubungi BKPSDM bila periode perlu "
            "dibuka kembali.",
        )
    decided = dataclasses.replace(item, status=_AFTER[decision.kind])
    audit = AuditEntry(
        report_id=item.report_id,
        actor_nip=actor_nip,
        at=now,
        action=decision.kind,
        reason=decision.text,
        as_plt_for=authority.as_plt_for,
        as_penilai=authority.as_penilai,
    )
    return DecisionResult(decided, audit)


@dataclass(frozen=True)
class BulkItemResult:
    report_id: str
    ok: bool
    code: str  # "ok" or the DomainError code
    message: str
    result: DecisionResult | None = None


def bulk_approve(
    items: Sequence[QueueItem],
    actor_nip: str,
    now: datetime,
    atasan_of: AtasanOf,
    delegations: Iterable[Delegation],
    closed_periods: Iterable[str] = (),
    reopened_periods: Iterable[str] = (),
    *,
    locks_of: Callable[[QueueItem], tuple[Sequence[str], Sequence[str]]] | None = None,
    penilai: Iterable[Penilai] = (),
    bkpsdm: bool = False,
) -> list[BulkItemResult]:
    """Approve a selection; one result per item in the given order. A refused item does not
    stop the others; an item selected twice is approved once.

    `locks_of(item)`, when given, returns that item's (closed, reopened) periods instead of
    the shared lists: tpp closes a month per employee, so the lock may differ per owner.
    `penilai`: those of the owners without atasan (each item takes the one of its date).
    """
    penilai_list = list(penilai)
    delegation_list = list(delegations)
    shared = (list(closed_periods), list(reopened_periods))
    approve = Decision(DecisionKind.APPROVE)
    results: list[BulkItemResult] = []
    seen: set[str] = set()
    for item in items:
        if item.report_id in seen:
            results.append(
                BulkItemResult(
                    item.report_id, False, "duplicate", "Laporan ini terpilih lebih dari sekali."
                )
            )
            continue
        seen.add(item.report_id)
        closed, reopened = locks_of(item) if locks_of is not None else shared
        try:
            done = decide(
                item,
                actor_nip,
                approve,
                now,
                atasan_of,
                delegation_list,
                closed,
                reopened,
                penilai=penilai_on(penilai_list, item.owner_nip, item.report_date),
                bkpsdm=bkpsdm,
            )
        except DomainError as err:
            results.append(BulkItemResult(item.report_id, False, err.code, err.message))
            continue
        results.append(BulkItemResult(item.report_id, True, "ok", "Laporan disetujui.", done))
    return results


# --------------------------------------------------------------------------- waiting time


def age_in_working_days(filed_at_date: date, today: date, calendar: WorkCalendar) -> int:
    """Working days in (filed_at_date, today]: 0 on the filing day, Friday→Monday is 1."""
    return calendar.working_days_between(filed_at_date, today)


@dataclass(frozen=True)
class OverdueReport:
    item: QueueItem
    age: int  # working days waiting


def overdue(
    queue: Iterable[QueueItem],
    today: date,
    calendar: WorkCalendar,
    threshold: int = DEFAULT_OVERDUE_THRESHOLD,
    penilai: Iterable[Penilai] = (),
) -> dict[str, list[OverdueReport]]:
    """Pending reports waiting more than `threshold` working days, by atasan NIP, oldest
    first — the 09:00 reminder's list. A report without an atasan is listed under the NIP of
    its `penilai` (an official); without one, or with BKPSDM as penilai, it is left out
    (no person to remind: BKPSDM sees it in its own queue or on the undecidable list)."""
    penilai_list = list(penilai)
    found: dict[str, list[OverdueReport]] = {}
    for item in queue:
        if item.status is not QueueStatus.PENDING:
            continue
        decider = item.atasan_nip
        if decider is None:
            p = penilai_on(penilai_list, item.owner_nip, item.report_date)
            decider = None if p is None or p.is_bkpsdm else p.penilai
        if decider is None:
            continue
        age = age_in_working_days(item.filed_on, today, calendar)
        if age > threshold:
            found.setdefault(decider, []).append(OverdueReport(item, age))
    for waiting in found.values():
        waiting.sort(key=lambda o: (-o.age, o.item.filed_at, o.item.report_id))
    return found


# --------------------------------------------------------------------------- transfer


@dataclass(frozen=True)
class TransferResult:
    queue: tuple[QueueItem, ...]
    moved: tuple[str, ...]  # report ids now in the new atasan's queue


def transfer_pending(
    queue: Iterable[QueueItem], employee_nip: str, new_atasan_nip: str | None
) -> TransferResult:
    """The employee moved to `new_atasan_nip` for every date: their open reports follow."""
    if new_atasan_nip is not None and new_atasan_nip == employee_nip:
        raise DomainError("self_atasan", "Pegawai tidak dapat menjadi atasan bagi dirinya sendiri.")
    return route_by_date(queue, employee_nip, lambda _day: new_atasan_nip)


def route_by_date(
    queue: Iterable[QueueItem], employee_nip: str, atasan_on: Callable[[date], str | None]
) -> TransferResult:
    """The employee's periods changed: each open report goes to `atasan_on(its date)`;
    decided reports keep the atasan who decided them."""
    out: list[QueueItem] = []
    moved: list[str] = []
    for item in queue:
        if item.owner_nip == employee_nip and item.status in OPEN_STATUSES:
            atasan = atasan_on(item.report_date)
            if item.atasan_nip != atasan:
                item = dataclasses.replace(item, atasan_nip=atasan)
                moved.append(item.report_id)
        out.append(item)
    return TransferResult(tuple(out), tuple(moved))


def queue_of(queue: Iterable[QueueItem], atasan_nip: str) -> list[QueueItem]:
    """The reports waiting for `atasan_nip`, oldest filing first."""
    return sorted(
        (i for i in queue if i.atasan_nip == atasan_nip and i.status is QueueStatus.PENDING),
        key=lambda i: (i.filed_at, i.report_id),
    )


__all__ = [
    "BKPSDM",
    "FORBIDDEN",
    "OPEN_STATUSES",
    "WIB",
    "AtasanOf",
    "AuditEntry",
    "Authority",
    "BulkItemResult",
    "Decision",
    "DecisionKind",
    "DecisionResult",
    "Delegation",
    "DomainError",
    "OverdueReport",
    "Penilai",
    "QueueItem",
    "QueueStatus",
    "TransferResult",
    "age_in_working_days",
    "atasan_on_date",
    "bulk_approve",
    "decide",
    "is_period_locked",
    "make_decision",
    "may_decide",
    "overdue",
    "penilai_on",
    "period_of",
    "queue_of",
    "route_by_date",
    "transfer_pending",
    "validate_delegation",
    "validate_penilai",
]


# --- monthly kinerja result: the proposal (docs/rules.md "Monthly kinerja result") ----------
#
# Readings fixed here:
# * "Every SKP target of the month is realised": SKP targets are yearly quantities, so the
#   target of month M is the pro-rata share of the year's target by M's end: a target is
#   realised when its approved quantity from January through M, times 12, is at least its
#   yearly quantity times M (no rounding). An ASN with no SKP target for the year has no
#   target realised: hasil kerja can be sesuai, not di atas. Approved quantities count the
#   same reports as activity's realisation (every approved report linked to the target).
# * A month with no required report day (cuti all month) has 100% of them approved.
# * A change from the proposal needs a reason; so does any rating given while there is no
#   proposal yet (the month not closed by tpp): the atasan then decides without the data.
# * A Plt confirms with the same authority as for reports: a delegation by the employee's
#   current atasan covering the confirmation date (WIB).


@dataclass(frozen=True)
class ResultThresholds:
    """The proposal's thresholds: rule-set parameters (`kinerja` in the rule set YAML)."""

    hasil_di_atas_pct: Decimal = Decimal(95)  # approved share of required report days
    hasil_sesuai_pct: Decimal = Decimal(75)
    perilaku_sesuai_deduction_pct: Decimal = Decimal(5)  # attendance deduction, % of the pagu

    @classmethod
    def of(cls, rules: RuleSet) -> ResultThresholds:
        k = rules.kinerja
        return cls(k.hasil_di_atas_pct, k.hasil_sesuai_pct, k.perilaku_sesuai_deduction_pct)


def propose_hasil(
    approved_days: int, required_days: int, skp_all_realised: bool, t: ResultThresholds
) -> str:
    """hasil kerja: di atas with >= 95% of required report days approved and every SKP
    target of the month realised, sesuai with >= 75%, else di bawah."""
    if _share_at_least(approved_days, required_days, t.hasil_di_atas_pct) and skp_all_realised:
        return DI_ATAS
    if _share_at_least(approved_days, required_days, t.hasil_sesuai_pct):
        return SESUAI
    return DI_BAWAH


def _share_at_least(approved: int, required: int, pct: Decimal) -> bool:
    """approved / required >= pct %, exactly (0 of 0 required: all approved)."""
    return required == 0 or approved * 100 >= pct * required


def propose_perilaku(
    attendance_lines: int, deduction: int, pagu: int, tk_days: int, t: ResultThresholds
) -> str:
    """perilaku kerja: di atas with no attendance line at all, sesuai while the deduction is
    at most 5% of the pagu and there is no TK day, else di bawah."""
    if attendance_lines == 0:
        return DI_ATAS
    if tk_days == 0 and deduction * 100 <= t.perilaku_sesuai_deduction_pct * pagu:
        return SESUAI
    return DI_BAWAH


@dataclass(frozen=True)
class MonthSummary:
    """What tpp's close says of one ASN's month (TppPeriodClosed)."""

    pagu: int
    required_days: int
    approved_days: int
    attendance_deduction: int
    attendance_lines: int
    tk_days: int


@dataclass(frozen=True)
class SkpTargetFact:
    target_id: str
    year: int
    target_quantity: int


def skp_all_realised(
    targets: Iterable[SkpTargetFact], approved_through_month: Mapping[str, int], period: str
) -> bool:
    """Every SKP target of `period`'s year realised by the month's end (the reading above);
    `approved_through_month`: approved quantity per target id from January through the month."""
    year, month = parse_period(period)
    of_year = [t for t in targets if t.year == year]
    if not of_year:
        return False
    return all(
        approved_through_month.get(t.target_id, 0) * 12 >= t.target_quantity * month
        for t in of_year
    )


@dataclass(frozen=True)
class Proposal:
    hasil_kerja: str
    perilaku_kerja: str
    skp_all_realised: bool

    @property
    def predikat(self) -> int:
        return predikat(self.hasil_kerja, self.perilaku_kerja)


def propose(summary: MonthSummary, skp_realised: bool, t: ResultThresholds) -> Proposal:
    """The month's two ratings as SIKERJA proposes them."""
    return Proposal(
        propose_hasil(summary.approved_days, summary.required_days, skp_realised, t),
        propose_perilaku(
            summary.attendance_lines, summary.attendance_deduction, summary.pagu,
            summary.tk_days, t,
        ),
        skp_realised,
    )  # fmt: skip


def confirmation_reason(
    hasil_kerja: str,
    perilaku_kerja: str,
    reason: str,
    proposal: Proposal | None,
    max_text: int = DEFAULT_MAX_TEXT,
) -> str:
    """The reason to store with a confirmation, or DomainError `reason_required` when the
    ratings depart from the proposal (or there is none yet) and no reason is given."""
    cleaned = reason.strip()
    if len(cleaned) > max_text:
        raise DomainError("text_too_long", f"Alasan paling banyak {max_text} karakter.")
    if cleaned:
        return cleaned
    if proposal is None:
        raise DomainError(
            "reason_required",
            "Usulan hasil kinerja bulan ini belum ada (periode belum ditutup untuk TPP), "
            "sehingga penilaian Anda wajib disertai alasan.",
        )
    if (hasil_kerja, perilaku_kerja) != (proposal.hasil_kerja, proposal.perilaku_kerja):
        raise DomainError(
            "reason_required",
            "Penilaian berbeda dari usulan sistem "
            f"(hasil kerja {RATING_LABEL[proposal.hasil_kerja].lower()}, perilaku kerja "
            f"{RATING_LABEL[proposal.perilaku_kerja].lower()}): tuliskan alasannya.",
        )
    return cleaned
