"""Activity domain: daily reports (laporan kegiatan harian), their content, the filing gate and
their lifecycle. Pure sub-modules hold the rest: problems.py (`Problem`, `DomainError`,
re-exported here), evidence_rules.py (evidence files) and skp.py (SKP targets' checks and
realisation; it builds on this module, not the other way round).

Pure: no framework, no clock (every "now" is an argument), plain dataclasses. The HTTP and
Kafka layers call these functions and map `DomainError.code` to their own responses.

Longer than ~600 lines on purpose: content, gate and lifecycle are the rules of one report
(`file_report` checks the gate and the content) and the readings below document them together.

Readings fixed here (docs/rules.md "Daily reports" is silent on them; each is a parameter or is
documented so an auditor can see why):

* Deadline: 23:59 WIB on the next working day after D (parameters `deadline_working_days`,
  `deadline_time`). A deadline given to the minute includes that whole minute, so a report
  sent at 23:59:40 is on time: the clock on the ASN's screen still shows 23:59.
* A date that is not a working day: filing is allowed under the same gate (a scan or a
  dinas_luar record on D, or a BKPSDM opening) and the decision says that the report does
  not count for TPP (docs/rules.md: reports on non-working days earn nothing). Refusing would
  lose the record of weekend duty that was really done (with a fingerprint or a dinas luar
  order behind it), and if BKPSDM later turns that date into a working day in the calendar
  the report must already exist for the TPP recomputation to count it.
* A BKPSDM opening (`Opening`) lifts both the deadline and the fingerprint requirement: it
  exists precisely for days when the device or its network failed, and the opening records
  who opened it, when, and why, which is the evidence an auditor reads instead of the scan.
  It never opens a future date, and nobody can open a date for themselves.
* A revision requested by the atasan gets its own deadline, counted like the filing deadline
  from the day of the request (`check_revision`): the atasan usually decides after D's own
  deadline, and a revision loop that the deadline always cuts off would be no loop at all.
  Editing a pending report stays under D's own gate (`check_filing`).
* SKP realisation: see skp.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from services.activity.evidence_rules import (
    DEFAULT_MAX_EVIDENCE_BYTES,
    EvidenceFile,
    validate_evidence,
)
from services.activity.problems import DomainError, Problem
from services.kernel import bahasa
from services.kernel.calendar import WIB, WorkCalendar

DEFAULT_DEADLINE_WORKING_DAYS = 1
DEFAULT_DEADLINE_TIME = time(23, 59)
MAX_MINUTES_PER_DAY = 24 * 60


def format_tanggal(day: date) -> str:
    """'Senin, 5 Oktober 2026' — how dates are written to users."""
    return bahasa.tanggal(day)


def format_waktu(moment: datetime) -> str:
    """'Selasa, 6 Oktober 2026 pukul 23.59 WIB' (Indonesian writes the hour with a dot)."""
    local = moment.astimezone(WIB)
    return f"{format_tanggal(local.date())} pukul {local:%H.%M} WIB"


# --------------------------------------------------------------------------- errors


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime is a programming error upstream, not a user mistake.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


# --------------------------------------------------------------------------- SKP targets


@dataclass(frozen=True)
class SkpTarget:
    """One SKP target of an employee for a year: what (activity), measured how (indicator),
    how much (target_quantity)."""

    id: str
    nip: str
    year: int
    activity: str
    indicator: str
    target_quantity: int


# --------------------------------------------------------------------------- report content


@dataclass(frozen=True)
class ReportLimits:
    """Bounds of a report's fields. Not in docs/rules.md: parameters of the deployment."""

    max_description: int = 2000
    max_output: int = 255
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES


@dataclass(frozen=True)
class ReportContent:
    """What the ASN writes for date D."""

    report_date: date
    description: str
    output: str  # the output (keluaran), e.g. "surat undangan"
    quantity: int  # how many of `output`
    minutes_spent: int
    skp_target_id: str | None = None
    evidence: tuple[EvidenceFile, ...] = ()


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def validate_report(
    content: ReportContent,
    limits: ReportLimits = ReportLimits(),
    *,
    nip: str | None = None,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> list[Problem]:
    """Every problem of the content at once, so the form can show them together.

    `targets` (by id), when given, checks that the SKP target exists and belongs to `nip`
    and to the year of the report. `minutes_already_reported` is the time of the employee's
    other live reports for the same date: a day has no more than 1440 minutes.
    """
    problems: list[Problem] = []
    if not content.description.strip():
        problems.append(Problem("description", "required", "Uraian kegiatan wajib diisi."))
    elif len(content.description) > limits.max_description:
        problems.append(
            Problem(
                "description",
                "too_long",
                f"Uraian kegiatan paling banyak {limits.max_description} karakter.",
            )
        )
    if not content.output.strip():
        problems.append(Problem("output", "required", "Keluaran (output) wajib diisi."))
    elif len(content.output) > limits.max_output:
        problems.append(
            Problem("output", "too_long", f"Keluaran paling banyak {limits.max_output} karakter.")
        )
    if not _is_positive_int(content.quantity):
        problems.append(
            Problem(
                "quantity", "not_positive", "Jumlah keluaran harus bilangan bulat lebih dari 0."
            )
        )
    minutes = content.minutes_spent
    if not (isinstance(minutes, int) and not isinstance(minutes, bool)) or not (
        1 <= minutes <= MAX_MINUTES_PER_DAY
    ):
        problems.append(
            Problem(
                "minutes_spent",
                "out_of_range",
                f"Waktu yang digunakan harus antara 1 dan {MAX_MINUTES_PER_DAY} menit.",
            )
        )
    elif minutes_already_reported + minutes > MAX_MINUTES_PER_DAY:
        left = max(0, MAX_MINUTES_PER_DAY - minutes_already_reported)
        problems.append(
            Problem(
                "minutes_spent",
                "day_overfilled",
                f"Laporan lain pada tanggal ini sudah berjumlah {minutes_already_reported} menit; "
                f"sisa waktu hari itu hanya {left} menit.",
            )
        )
    if content.skp_target_id is not None and targets is not None:
        target = targets.get(content.skp_target_id)
        if (
            target is None
            or (nip is not None and target.nip != nip)
            or target.year != content.report_date.year
        ):
            problems.append(
                Problem(
                    "skp_target_id",
                    "unknown_target",
                    f"Target SKP tidak ditemukan untuk tahun {content.report_date.year}. Pilih "
                    "target SKP Anda sendiri pada tahun laporan.",
                )
            )
    seen: set[str] = set()
    for i, file in enumerate(content.evidence):
        field = f"evidence[{i}]"
        problems.extend(validate_evidence(file, limits.max_evidence_bytes, field))
        digest = file.sha256.lower()
        if digest in seen:
            problems.append(
                Problem(field, "duplicate", f"Berkas '{file.name}' dilampirkan lebih dari sekali.")
            )
        seen.add(digest)
    return problems


def ensure_valid_report(
    content: ReportContent,
    limits: ReportLimits = ReportLimits(),
    *,
    nip: str | None = None,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> None:
    problems = validate_report(
        content,
        limits,
        nip=nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    if problems:
        raise DomainError(
            "invalid_report", "Laporan belum dapat disimpan; periksa isian berikut.", problems
        )


# --------------------------------------------------------------------------- filing gate


class UnlockSource(StrEnum):
    SCAN = "scan"
    DINAS_LUAR = "dinas_luar"


@dataclass(frozen=True)
class Unlock:
    """The activity service's projection: employee `nip` may report day `day` because of a
    fingerprint (FingerprintRecorded) or a dinas_luar record (AbsenceRecorded)."""

    nip: str
    day: date
    source: UnlockSource


@dataclass(frozen=True)
class Opening:
    """BKPSDM opened `day` for `nip` from `opened_at` until `until` (both tz-aware)."""

    nip: str
    day: date
    opened_by: str
    reason: str
    opened_at: datetime
    until: datetime

    def is_active(self, now: datetime) -> bool:
        return self.opened_at <= now <= self.until


def validate_opening(opening: Opening, max_reason: int = 500) -> None:
    """Raise DomainError unless the opening is one BKPSDM may record."""
    _require_aware(opening.opened_at, "opened_at")
    _require_aware(opening.until, "until")
    if not opening.reason.strip():
        raise DomainError(
            "reason_required", "Alasan pembukaan tanggal wajib diisi agar dapat diaudit."
        )
    if len(opening.reason) > max_reason:
        raise DomainError(
            "reason_too_long", f"Alasan pembukaan tanggal paling banyak {max_reason} karakter."
        )
    if opening.until <= opening.opened_at:
        raise DomainError(
            "invalid_window", "Batas akhir pembukaan harus sesudah waktu pembukaan dibuat."
        )
    if opening.opened_by == opening.nip:
        # Segregation of duties: an officer of BKPSDM cannot lift their own gate.
        raise DomainError(
            "self_opening", "Petugas tidak dapat membuka tanggal laporan untuk dirinya sendiri."
        )
    if opening.day > opening.opened_at.astimezone(WIB).date():
        raise DomainError(
            "future_date", "Tanggal yang belum tiba tidak dapat dibuka untuk pelaporan."
        )


def filing_deadline(
    report_date: date,
    calendar: WorkCalendar,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    deadline_time: time = DEFAULT_DEADLINE_TIME,
) -> datetime:
    """The last moment (WIB, inclusive) to file a report for `report_date`.

    Default: 23:59:59.999999 WIB of the first working day after D (Friday → Monday, skipping
    holidays). A deadline time given to the minute includes that whole minute.
    """
    if deadline_working_days < 0:
        raise ValueError("deadline_working_days must be >= 0")
    day = calendar.add_working_days(report_date, deadline_working_days)
    last = deadline_time.replace(tzinfo=None)
    if last.second == 0 and last.microsecond == 0:
        last = last.replace(second=59, microsecond=999_999)
    return datetime.combine(day, last, tzinfo=WIB)


class FilingCode(StrEnum):
    OK = "ok"
    OPENED = "opened"  # allowed only because BKPSDM opened the date
    FUTURE_DATE = "future_date"
    NO_SCAN_YET = "no_scan_yet"
    DEADLINE_PASSED = "deadline_passed"


@dataclass(frozen=True)
class FilingDecision:
    allowed: bool
    code: FilingCode
    message: str  # Bahasa Indonesia: why, and what to do
    deadline: datetime | None  # WIB; None for a future date
    counts_for_tpp: bool  # False on a date that is not a working day
    opening: Opening | None = None  # the opening that allowed it, for the audit trail
    unlock_source: UnlockSource | None = None


def check_filing(
    report_date: date,
    now: datetime,
    unlock: Unlock | None,
    openings: Iterable[Opening],
    calendar: WorkCalendar,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    deadline_time: time = DEFAULT_DEADLINE_TIME,
    *,
    nip: str | None = None,
) -> FilingDecision:
    """May the employee file (or edit, or revise) a report for `report_date` at `now`?

    `unlock` is the projection entry for this employee and date (None when there is none).
    `openings` may hold other dates or, when `nip` is given (or known from `unlock`), other
    employees: those are ignored. Order of refusals: a future date first; then an active
    opening allows everything; then the deadline (no use telling someone to wait for the
    fingerprint when the time is over anyway); then the fingerprint.
    """
    _require_aware(now, "now")
    if unlock is not None:
        if unlock.day != report_date or (nip is not None and unlock.nip != nip):
            raise ValueError("unlock belongs to another date or employee")
        nip = nip or unlock.nip
    today = now.astimezone(WIB).date()
    tanggal = format_tanggal(report_date)
    working = calendar.is_working_day(report_date)

    if report_date > today:
        return FilingDecision(
            allowed=False,
            code=FilingCode.FUTURE_DATE,
            message=(
                f"Laporan untuk {tanggal} belum dapat diisi karena tanggal tersebut belum tiba. "
                "Isi laporan pada hari kegiatan dilaksanakan, setelah melakukan sidik jari."
            ),
            deadline=None,
            counts_for_tpp=working,
        )

    deadline = filing_deadline(report_date, calendar, deadline_working_days, deadline_time)
    note = (
        ""
        if working
        else (
            f" Catatan: {tanggal} bukan hari kerja, sehingga laporan ini tercatat tetapi tidak "
            "diperhitungkan dalam TPP."
        )
    )

    active = [
        o
        for o in openings
        if o.day == report_date and (nip is None or o.nip == nip) and o.is_active(now)
    ]
    if active:
        opening = max(active, key=lambda o: o.until)
        return FilingDecision(
            allowed=True,
            code=FilingCode.OPENED,
            message=(
                f"Tanggal {tanggal} telah dibuka oleh BKPSDM sampai {format_waktu(opening.until)}"
                f" (alasan: {opening.reason.strip()}). Silakan isi laporan.{note}"
            ),
            deadline=opening.until.astimezone(WIB),
            counts_for_tpp=working,
            opening=opening,
            unlock_source=unlock.source if unlock else None,
        )

    if now > deadline:
        return FilingDecision(
            allowed=False,
            code=FilingCode.DEADLINE_PASSED,
            message=(
                f"Batas waktu pengisian laporan untuk {tanggal} telah berakhir pada "
                f"{format_waktu(deadline)}. Jika ada alasan yang sah (misalnya mesin sidik jari "
                "atau jaringan bermasalah), ajukan pembukaan tanggal kepada BKPSDM melalui "
                "operator kepegawaian OPD Anda."
            ),
            deadline=deadline,
            counts_for_tpp=working,
        )

    if unlock is None:
        return FilingDecision(
            allowed=False,
            code=FilingCode.NO_SCAN_YET,
            message=(
                f"Sidik jari Anda untuk {tanggal} belum tercatat, dan tidak ada surat tugas "
                "dinas luar untuk tanggal itu. Data dari mesin sidik jari mungkin belum masuk: "
                "coba lagi beberapa saat lagi. Jika tetap tidak bisa, hubungi operator "
                "kepegawaian OPD Anda."
            ),
            deadline=deadline,
            counts_for_tpp=working,
        )

    return FilingDecision(
        allowed=True,
        code=FilingCode.OK,
        message=f"Laporan untuk {tanggal} dapat diisi sampai {format_waktu(deadline)}.{note}",
        deadline=deadline,
        counts_for_tpp=working,
        unlock_source=unlock.source,
    )


def check_revision(
    requested_at: datetime,
    now: datetime,
    calendar: WorkCalendar,
    deadline_working_days: int = DEFAULT_DEADLINE_WORKING_DAYS,
    deadline_time: time = DEFAULT_DEADLINE_TIME,
    *,
    report_date: date,
) -> FilingDecision:
    """May the employee send the revision the atasan asked for at `requested_at`?

    The atasan usually decides after D's own filing deadline, so a revision gets its own
    deadline counted the same way from the day of the request (default 23:59 WIB of the next
    working day). No fingerprint is needed: the report passed the gate when it was filed.
    """
    _require_aware(requested_at, "requested_at")
    _require_aware(now, "now")
    asked_on = requested_at.astimezone(WIB).date()
    deadline = filing_deadline(asked_on, calendar, deadline_working_days, deadline_time)
    working = calendar.is_working_day(report_date)
    tanggal = format_tanggal(report_date)
    if now > deadline:
        return FilingDecision(
            allowed=False,
            code=FilingCode.DEADLINE_PASSED,
            message=(
                f"Batas waktu revisi laporan {tanggal} telah berakhir pada "
                f"{format_waktu(deadline)}. Hubungi atasan Anda atau operator kepegawaian OPD "
                "untuk mengajukan pembukaan kepada BKPSDM."
            ),
            deadline=deadline,
            counts_for_tpp=working,
        )
    return FilingDecision(
        allowed=True,
        code=FilingCode.OK,
        message=f"Revisi laporan {tanggal} dapat dikirim sampai {format_waktu(deadline)}.",
        deadline=deadline,
        counts_for_tpp=working,
    )


def ensure_may_file(decision: FilingDecision) -> None:
    if not decision.allowed:
        raise DomainError(str(decision.code), decision.message)


# --------------------------------------------------------------------------- report lifecycle


class ReportStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISION_REQUESTED = "revision_requested"
    WITHDRAWN = "withdrawn"


class ReportAction(StrEnum):
    EDIT = "edit"
    WITHDRAW = "withdraw"
    REVISE = "revise"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_REVISION = "request_revision"


TRANSITIONS: Mapping[tuple[ReportStatus, ReportAction], ReportStatus] = {
    (ReportStatus.PENDING, ReportAction.EDIT): ReportStatus.PENDING,
    (ReportStatus.PENDING, ReportAction.WITHDRAW): ReportStatus.WITHDRAWN,
    (ReportStatus.PENDING, ReportAction.APPROVE): ReportStatus.APPROVED,
    (ReportStatus.PENDING, ReportAction.REJECT): ReportStatus.REJECTED,
    (ReportStatus.PENDING, ReportAction.REQUEST_REVISION): ReportStatus.REVISION_REQUESTED,
    (ReportStatus.REVISION_REQUESTED, ReportAction.REVISE): ReportStatus.PENDING,
}
TERMINAL: frozenset[ReportStatus] = frozenset(
    {ReportStatus.APPROVED, ReportStatus.REJECTED, ReportStatus.WITHDRAWN}
)

_STATUS_LABEL = {
    ReportStatus.PENDING: "menunggu persetujuan atasan",
    ReportStatus.APPROVED: "sudah disetujui",
    ReportStatus.REJECTED: "sudah ditolak",
    ReportStatus.REVISION_REQUESTED: "diminta revisi oleh atasan",
    ReportStatus.WITHDRAWN: "sudah ditarik",
}
_ACTION_LABEL = {
    ReportAction.EDIT: "diubah",
    ReportAction.WITHDRAW: "ditarik",
    ReportAction.REVISE: "direvisi",
    ReportAction.APPROVE: "disetujui",
    ReportAction.REJECT: "ditolak",
    ReportAction.REQUEST_REVISION: "dimintakan revisi",
}


def next_status(current: ReportStatus, action: ReportAction) -> ReportStatus:
    """The status after `action`, or DomainError('invalid_transition') with the reason."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        pass
    message = (
        f"Laporan tidak dapat {_ACTION_LABEL[action]} karena statusnya {_STATUS_LABEL[current]}."
    )
    if current is ReportStatus.REVISION_REQUESTED and action is ReportAction.EDIT:
        message += " Gunakan tombol revisi untuk mengirim perbaikan kepada atasan."
    elif current is ReportStatus.PENDING and action is ReportAction.REVISE:
        message += " Laporan yang masih menunggu dapat langsung diubah."
    elif current in TERMINAL:
        message += " Buat laporan baru bila masih dalam batas waktu pengisian."
    raise DomainError("invalid_transition", message)


@dataclass(frozen=True)
class DailyReport:
    id: str
    nip: str
    content: ReportContent
    status: ReportStatus
    filed_at: datetime
    revision: int = 0  # 0 as filed; +1 for every edit or revision sent

    @property
    def report_date(self) -> date:
        return self.content.report_date


def file_report(
    report_id: str,
    nip: str,
    content: ReportContent,
    filed_at: datetime,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """A new pending report, once the gate (`check_filing`) allowed it and the content is
    valid."""
    _require_aware(filed_at, "filed_at")
    ensure_may_file(filing)
    ensure_valid_report(
        content,
        limits,
        nip=nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    return DailyReport(report_id, nip, content, ReportStatus.PENDING, filed_at)


def _replace_content(
    report: DailyReport,
    action: ReportAction,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits,
    targets: Mapping[str, SkpTarget] | None,
    minutes_already_reported: int,
) -> DailyReport:
    status = next_status(report.status, action)
    if content.report_date != report.report_date:
        # Moving a report to another date would bypass the gate of that date.
        raise DomainError(
            "date_change",
            "Tanggal laporan tidak dapat diubah. Tarik laporan ini dan buat laporan baru untuk "
            "tanggal yang benar.",
        )
    ensure_may_file(filing)
    ensure_valid_report(
        content,
        limits,
        nip=report.nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    return dataclasses.replace(report, content=content, status=status, revision=report.revision + 1)


def edit_report(
    report: DailyReport,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """Change a pending report (still within the filing gate of its date)."""
    return _replace_content(
        report,
        ReportAction.EDIT,
        content,
        filing,
        limits,
        targets,
        minutes_already_reported,
    )


def revise_report(
    report: DailyReport,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """Send the revision the atasan asked for: back to pending, to the atasan again.

    `filing` comes from `check_revision` (deadline counted from the request), or from
    `check_filing` when BKPSDM opened the date.
    """
    return _replace_content(
        report,
        ReportAction.REVISE,
        content,
        filing,
        limits,
        targets,
        minutes_already_reported,
    )


def withdraw_report(report: DailyReport) -> DailyReport:
    return dataclasses.replace(report, status=next_status(report.status, ReportAction.WITHDRAW))


def apply_decision(report: DailyReport, action: ReportAction) -> DailyReport:
    """Record the atasan's decision (arriving from the approval service) on the report."""
    if action not in (
        ReportAction.APPROVE,
        ReportAction.REJECT,
        ReportAction.REQUEST_REVISION,
    ):
        raise ValueError(f"{action} is not a decision")
    return dataclasses.replace(report, status=next_status(report.status, action))


def minutes_reported(reports: Iterable[DailyReport], nip: str, day: date) -> int:
    """Minutes in the employee's live (not withdrawn or rejected) reports for `day`."""
    return sum(
        r.content.minutes_spent
        for r in reports
        if r.nip == nip
        and r.report_date == day
        and r.status not in (ReportStatus.WITHDRAWN, ReportStatus.REJECTED)
    )


__all__ = [
    "DEFAULT_DEADLINE_TIME",
    "DEFAULT_DEADLINE_WORKING_DAYS",
    "TERMINAL",
    "TRANSITIONS",
    "WIB",
    "DailyReport",
    "DomainError",
    "FilingCode",
    "FilingDecision",
    "Opening",
    "Problem",
    "ReportAction",
    "ReportContent",
    "ReportLimits",
    "ReportStatus",
    "SkpTarget",
    "Unlock",
    "UnlockSource",
    "apply_decision",
    "check_filing",
    "check_revision",
    "edit_report",
    "ensure_may_file",
    "ensure_valid_report",
    "file_report",
    "filing_deadline",
    "format_tanggal",
    "format_waktu",
    "minutes_reported",
    "next_status",
    "revise_report",
    "validate_opening",
    "validate_report",
    "withdraw_report",
]
