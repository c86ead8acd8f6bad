"""The notifier's rules (docs/rules.md "Warnings (notifier)"): who is due a warning or a reminder,
and what the messages say.

Pure: no framework, no clock (`now` is passed in), plain values. Messages are in Bahasa
Indonesia for users with little digital literacy: short, one point each, and they say what
to do next.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from services.kernel import bahasa
from services.kernel.calendar import WIB, WorkCalendar

# docs/rules.md: "At 15:00 WIB ... a warning", "At 09:00 WIB ... a reminder". The service reads
# its own settings for these (defaults below); they are not rule-set values.
DEFAULT_WARNING_AT = time(15, 0)
DEFAULT_REMINDER_AT = time(9, 0)


class Kind(StrEnum):
    """What a message is about; with the NIP and a date it names one warning."""

    LKH_MISSING = "lkh_belum_diisi"  # 15:00: scanned, no report
    ATASAN_REMINDER = "pengingat_atasan"  # 09:00: reports waiting for the atasan
    REPORT_REJECTED = "laporan_ditolak"
    REVISION_REQUESTED = "perbaikan_diminta"
    TPP_CHANGED = "tpp_berubah"


@dataclass(frozen=True)
class Notice:
    """A message due to one person. `dedup_key` is unique forever: the store refuses a
    second message with the same key, so a restart or a redelivery never sends it twice."""

    nip: str
    kind: Kind
    ref_date: date
    title: str
    body: str
    dedup_key: str


@dataclass(frozen=True)
class PendingReport:
    """A report waiting for its atasan (the notifier's own projection)."""

    report_id: str
    nip: str
    atasan_nip: str | None
    work_date: date
    filed_on: date  # WIB date of the latest filing (a revision restarts the wait)


def warning_key(kind: Kind, nip: str, day: date) -> str:
    """One warning per employee, kind and date."""
    return f"{kind.value}:{nip}:{day.isoformat()}"


def event_key(kind: Kind, event_id: str) -> str:
    """Messages caused by one event: one per event."""
    return f"{kind.value}:{event_id}"


def local_date(instant: datetime) -> date:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: pass an aware instant")
    return instant.astimezone(WIB).date()


# One wording of dates and money for every message: services/kernel/bahasa.py.
format_date = bahasa.tanggal
format_period = bahasa.periode
format_rupiah = bahasa.rupiah


def is_active_report(filed_at: datetime, withdrawn_at: datetime | None) -> bool:
    """A report counts as filed unless its latest event is a withdrawal (order-independent)."""
    return withdrawn_at is None or filed_at > withdrawn_at


def is_waiting(
    filed_at: datetime, decided_at: datetime | None, withdrawn_at: datetime | None
) -> bool:
    """Waiting for the atasan: active, and filed (or revised) after the latest decision."""
    return is_active_report(filed_at, withdrawn_at) and (
        decided_at is None or filed_at > decided_at
    )


# -- 15:00: scanned but not filed ------------------------------------------------------------


def due_warnings(
    now: datetime,
    scanned: Collection[str],
    filed: Collection[str],
    calendar: WorkCalendar,
    sent: Collection[str],
    *,
    at: time = DEFAULT_WARNING_AT,
    deadline_working_days: int = 1,
    deadline_time: time = time(23, 59),
) -> list[Notice]:
    """Warnings due at `now` for the WIB date of `now`.

    `scanned`: NIPs with a scan that day (it may already exclude the filed ones, e.g. a
    Redis SDIFF); `filed`: NIPs with a report for that day; `sent`: NIPs already warned for
    that day. Nothing is due before `at` WIB or on a day that is not a working day. The
    deadline in the text comes from the rule set (filing_deadline_*).
    """
    local = now.astimezone(WIB)
    day = local.date()
    if not calendar.is_working_day(day) or local.time() < at:
        return []
    deadline_day = calendar.add_working_days(day, deadline_working_days)
    deadline = f"{format_date(deadline_day)} pukul {deadline_time:%H.%M} WIB"
    missing = set(scanned) - set(filed) - set(sent)
    return [
        Notice(
            nip=nip,
            kind=Kind.LKH_MISSING,
            ref_date=day,
            title="Laporan kegiatan hari ini belum diisi",
            body=(
                f"Anda sudah absen sidik jari hari ini ({format_date(day)}), tetapi belum "
                "mengisi laporan kegiatan harian. Silakan isi laporan kegiatan hari ini. "
                f"Batas waktunya {deadline}. Laporan yang tidak diisi akan memotong TPP Anda."
            ),
            dedup_key=warning_key(Kind.LKH_MISSING, nip, day),
        )
        for nip in sorted(missing)
    ]


# -- 09:00: reports waiting for the atasan ---------------------------------------------------


def report_age(filed_on: date, today: date, calendar: WorkCalendar) -> int:
    """Working days a report has waited: working days in (filed_on, today].

    Reading fixed here: filed on Friday, Monday is 1 (the weekend does not count) and
    Tuesday is 2.
    """
    return calendar.working_days_between(filed_on, today)


def due_reminders(
    now: datetime,
    pending: Iterable[PendingReport],
    calendar: WorkCalendar,
    *,
    at: time = DEFAULT_REMINDER_AT,
    sent: Collection[str] = (),
    max_wait_working_days: int = 1,
) -> list[Notice]:
    """One reminder per atasan whose subordinates' reports have waited more than
    `max_wait_working_days` working days; only at or after `at` WIB on a working day.
    Reports without a known atasan are skipped (nobody to remind); `sent`: atasan NIPs
    already reminded that day."""
    local = now.astimezone(WIB)
    today = local.date()
    if not calendar.is_working_day(today) or local.time() < at:
        return []
    late: dict[str, list[PendingReport]] = defaultdict(list)
    for report in pending:
        if report.atasan_nip is None or report.atasan_nip in sent:
            continue
        if report_age(report.filed_on, today, calendar) > max_wait_working_days:
            late[report.atasan_nip].append(report)
    notices = []
    for atasan, reports in sorted(late.items()):
        oldest = min(r.filed_on for r in reports)
        count = len(reports)
        notices.append(
            Notice(
                nip=atasan,
                kind=Kind.ATASAN_REMINDER,
                ref_date=today,
                title="Ada laporan bawahan yang menunggu persetujuan Anda",
                body=(
                    f"Ada {count} laporan kegiatan bawahan Anda yang sudah menunggu lebih dari "
                    f"{max_wait_working_days} hari kerja (paling lama sejak "
                    f"{format_date(oldest)}). Silakan buka menu Persetujuan, lalu setujui, "
                    "tolak, atau minta perbaikan."
                ),
                dedup_key=warning_key(Kind.ATASAN_REMINDER, atasan, today),
            )
        )
    return notices


# -- at once: decisions and TPP changes ------------------------------------------------------


def rejection_notice(nip: str, work_date: date, reason: str, event_id: str) -> Notice:
    return Notice(
        nip=nip,
        kind=Kind.REPORT_REJECTED,
        ref_date=work_date,
        title="Laporan kegiatan Anda ditolak",
        body=(
            f"Laporan kegiatan Anda untuk {format_date(work_date)} ditolak oleh atasan. "
            f"Alasan: {reason.strip()} "
            "Silakan baca alasannya, lalu hubungi atasan Anda jika ada yang kurang jelas."
        ),
        dedup_key=event_key(Kind.REPORT_REJECTED, event_id),
    )


def revision_notice(nip: str, work_date: date, note: str, event_id: str) -> Notice:
    return Notice(
        nip=nip,
        kind=Kind.REVISION_REQUESTED,
        ref_date=work_date,
        title="Atasan meminta Anda memperbaiki laporan",
        body=(
            f"Atasan meminta Anda memperbaiki laporan kegiatan untuk {format_date(work_date)}. "
            f"Catatan atasan: {note.strip()} "
            "Silakan buka laporan itu, perbaiki sesuai catatan, lalu kirim lagi."
        ),
        dedup_key=event_key(Kind.REVISION_REQUESTED, event_id),
    )


# Why a statement changed, in words an ASN understands (TppRecomputed.cause_event_type).
_CAUSES = {
    "ReportApproved": "ada laporan kegiatan Anda yang disetujui atasan",
    "ReportRejected": "ada laporan kegiatan Anda yang ditolak atasan",
    "RevisionRequested": "ada laporan kegiatan Anda yang diminta untuk diperbaiki",
    "ActivityWithdrawn": "ada laporan kegiatan Anda yang ditarik kembali",
    "AttendanceDayClosed": "data kehadiran harian Anda sudah direkap",
    "FingerprintRecorded": "ada data absen sidik jari baru",
    "AbsenceRecorded": "ada data cuti, izin, atau dinas luar yang baru",
    "EmployeeUpserted": "data kepegawaian Anda (misalnya besaran TPP) diperbarui",
    "RuleSetChanged": "aturan perhitungan TPP diperbarui",
    # tpp's own causes: BKPSDM annulled a cut that was not the employee's fault, or revoked it
    "AnnulmentRecorded": "BKPSDM membatalkan potongan yang bukan kesalahan Anda",
    "AnnulmentRevoked": "BKPSDM mencabut pembatalan potongan",
}


def cause_text(cause_event_type: str) -> str:
    return _CAUSES.get(cause_event_type, "ada perubahan data yang memengaruhi perhitungan")


def tpp_notice(
    nip: str,
    period: str,
    old_net: int | None,
    new_net: int,
    cause_event_type: str,
    event_id: str,
    ref_date: date,
) -> Notice | None:
    """'TPP bulan X berubah dari Rp a menjadi Rp b karena ...'; None when nothing changed."""
    if old_net == new_net:
        return None
    month = format_period(period)
    cause = cause_text(cause_event_type)
    if old_net is None:
        change = f"TPP bulan {month} Anda sekarang {format_rupiah(new_net)} karena {cause}."
    else:
        change = (
            f"TPP bulan {month} berubah dari {format_rupiah(old_net)} menjadi "
            f"{format_rupiah(new_net)} karena {cause}."
        )
    return Notice(
        nip=nip,
        kind=Kind.TPP_CHANGED,
        ref_date=ref_date,
        title=f"TPP bulan {month} berubah",
        body=change + " Rincian potongannya dapat dilihat di menu TPP.",
        dedup_key=event_key(Kind.TPP_CHANGED, event_id),
    )


def rate_limited(attempts_this_hour: int, limit_per_hour: int) -> bool:
    """True when one more send to the configured channel would exceed the hourly limit
    (`attempts_this_hour` includes the one being decided)."""
    return attempts_this_hour > limit_per_hour


# -- channels: what is sent, when it may be sent again -----------------------------------------

_KEY_SPACE = uuid.UUID("5b7f3c1e-2a43-4a8e-9d0f-6c1b2e7a9f10")

# The portal page where the next step is done, per kind ({d}: the date, {p}: the period).
_PAGES = {
    Kind.LKH_MISSING: "/laporan/baru?tanggal={d}",
    Kind.ATASAN_REMINDER: "/persetujuan",
    Kind.REPORT_REJECTED: "/laporan?tanggal={d}",
    Kind.REVISION_REQUESTED: "/laporan?tanggal={d}",
    Kind.TPP_CHANGED: "/tpp?periode={p}",
}


def idempotency_key(dedup_key: str) -> str:
    """The key a channel receives (Message-ID, Idempotency-Key): the same for every attempt
    of one message on every replica, so a receiver drops a re-send."""
    return str(uuid.uuid5(_KEY_SPACE, dedup_key))


def portal_link(base_url: str, kind: str, ref_date: date) -> str:
    known = {k.value: k for k in Kind}
    page = _PAGES[known[kind]] if kind in known else "/kotak-masuk"
    return base_url.rstrip("/") + page.format(d=ref_date.isoformat(), p=f"{ref_date:%Y-%m}")


def channel_text(title: str, body: str, link: str) -> str:
    """The plain text sent on a channel: what happened, what to do, where to do it."""
    return f"{title}\n\n{body}\n\nBuka di SIKERJA: {link}"


def backoff_s(failures: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Wait before the next attempt after `failures` failed ones: exponential, capped, and
    scaled by `jitter` in [0, 1] to between half and all of it (replicas do not retry in step)."""
    full = min(cap_s, base_s * 2 ** max(failures - 1, 0))
    return full * (0.5 + 0.5 * jitter)


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours (WIB) `now` falls in, or None when sending is fine.
    A window may cross midnight (21.00-06.00)."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(WIB)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
    else:
        inside = t >= start or t < end
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until


def wants(kinds: str | None, kind: str) -> bool:
    """The channel preferences: None (or empty) means every kind."""
    if not kinds:
        return True
    return kind in {k.strip() for k in kinds.split(",")}
