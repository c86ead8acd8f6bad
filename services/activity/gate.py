"""The filing gate of daily reports: may an employee file (or edit, or revise) a report for a
date at a given moment. A fingerprint or a dinas_luar record on the date unlocks it
(`Unlock`), the deadline closes it, a BKPSDM opening (`Opening`) lifts both. domain.py's
lifecycle takes the `FilingDecision` made here.

Pure: no framework, no clock (every "now" is an argument), plain dataclasses.

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from services.activity.problems import DomainError
from services.kernel import bahasa
from services.kernel.calendar import WIB, WorkCalendar

DEFAULT_DEADLINE_WORKING_DAYS = 1
DEFAULT_DEADLINE_TIME = time(23, 59)


def format_tanggal(day: date) -> str:
    """'Senin, 5 Oktober 2026' — how dates are written to users."""
    return bahasa.tanggal(day)


def format_waktu(moment: datetime) -> str:
    """'Selasa, 6 Oktober 2026 pukul 23.59 WIB' (Indonesian writes the hour with a dot)."""
    local = moment.astimezone(WIB)
    return f"{format_tanggal(local.date())} pukul {local:%H.%M} WIB"


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime is a programming error upstream, not a user mistake.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


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
    NOT_ACTIVE = "not_active"  # the date is outside the employee's employment periods


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
    active: bool = True,
) -> FilingDecision:
    """May the employee file (or edit, or revise) a report for `report_date` at `now`?

    `unlock` is the projection entry for this employee and date (None when there is none).
    `openings` may hold other dates or, when `nip` is given (or known from `unlock`), other
    employees: those are ignored. `active`: one of the employee's periods covers the date
    (RULES.md "Employment within a month"). Order of refusals: a future date first; then a
    date outside the employment (no opening lifts it: the employment data must be
    corrected); then an active opening allows everything; then the deadline (no use
    telling someone to wait for the fingerprint when the time is over anyway); then the
    fingerprint.
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

    if not active:
        return FilingDecision(
            allowed=False,
            code=FilingCode.NOT_ACTIVE,
            message=(
                f"Laporan untuk {tanggal} tidak dapat diisi karena pada tanggal itu Anda tidak "
                "tercatat sebagai pegawai aktif (di luar masa kerja Anda dalam data "
                "kepegawaian). Jika data masa kerja Anda keliru, hubungi operator kepegawaian "
                "OPD Anda atau BKPSDM untuk memperbaikinya, lalu isi laporan kembali."
            ),
            deadline=None,
            counts_for_tpp=False,
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

    open_now = [
        o
        for o in openings
        if o.day == report_date and (nip is None or o.nip == nip) and o.is_active(now)
    ]
    if open_now:
        opening = max(open_now, key=lambda o: o.until)
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


# -- on-time filing, for the city dashboard ---------------------------------------------------
ON_THE_DAY, BEFORE_DEADLINE, AFTER_DEADLINE = "hari_itu", "sebelum_batas", "lewat_batas"


def on_time_bounds(report_date: date, deadline: datetime) -> tuple[datetime, datetime]:
    """When a date's first report counts as filed `hari_itu` (before the first bound),
    `sebelum_batas` (by the second, the filing deadline) or `lewat_batas` (after it).

    "Tepat waktu" is filed by the filing deadline (`filing_deadline`: 23:59 WIB of the next
    working day in the Bekasi rule set): that is the moment the rule itself calls late, the
    gate closes and, without an approved report, the day costs the LKH line; a BKPSDM that
    called a Monday report sent on Tuesday morning late would be counting against the rule.
    The two on-time kinds stay apart so the habit shows too: `hari_itu` (filed on the work
    date itself, before midnight WIB after D) and `sebelum_batas` (later, within the
    deadline); `lewat_batas` is after the deadline (only through a BKPSDM opening)."""
    day_end = datetime.combine(report_date, time(0), tzinfo=WIB) + timedelta(days=1)
    return day_end, deadline
