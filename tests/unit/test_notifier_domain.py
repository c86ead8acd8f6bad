"""The notifier's pure rules: when warnings and reminders are due, and what they say."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hypothesis import given
from hypothesis import strategies as st

from services.kernel.calendar import WorkCalendar
from services.notifier import domain
from services.notifier.domain import Kind, PendingReport

# Monday 2026-10-05 is a working day; 2026-10-06 (Tuesday) is a holiday in this calendar.
CAL = WorkCalendar.from_dates([date(2026, 10, 6)])
A, B, C = "198001012005011001", "198502022010012002", "199003032015011003"
ATASAN, ATASAN2 = "197001012000011001", "197202022001012001"


def wib(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=domain.WIB)


# -- 15:00 warnings ------------------------------------------------------------------------


def test_warning_at_15_on_a_working_day_goes_to_scanned_minus_filed() -> None:
    # scanned {A, B, C}, filed {B} -> A and C are warned, in NIP order
    notices = domain.due_warnings(wib(2026, 10, 5, 15), {A, B, C}, {B}, CAL, set())
    assert [n.nip for n in notices] == [A, C]
    assert all(n.kind is Kind.LKH_MISSING and n.ref_date == date(2026, 10, 5) for n in notices)
    assert notices[0].dedup_key == f"lkh_belum_diisi:{A}:2026-10-05"


def test_no_warning_before_15_wib() -> None:
    assert domain.due_warnings(wib(2026, 10, 5, 14, 59), {A}, set(), CAL, set()) == []
    # 07:59 UTC is 14:59 WIB (UTC+7): still too early
    utc = datetime(2026, 10, 5, 7, 59, tzinfo=UTC)
    assert domain.due_warnings(utc, {A}, set(), CAL, set()) == []
    # 08:00 UTC is 15:00 WIB: due
    utc = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
    assert [n.nip for n in domain.due_warnings(utc, {A}, set(), CAL, set())] == [A]


def test_no_warning_on_weekend_or_holiday() -> None:
    # Saturday 2026-10-10 and the holiday Tuesday 2026-10-06
    assert domain.due_warnings(wib(2026, 10, 10, 15), {A}, set(), CAL, set()) == []
    assert domain.due_warnings(wib(2026, 10, 6, 16), {A}, set(), CAL, set()) == []


def test_warning_date_is_the_wib_date() -> None:
    # 2026-10-05 23:30 UTC is 2026-10-06 06:30 WIB: a holiday morning, nothing due;
    # 2026-10-07 09:00 UTC is 16:00 WIB on Wednesday 2026-10-07
    late_utc = datetime(2026, 10, 5, 23, 30, tzinfo=UTC)
    assert domain.due_warnings(late_utc, {A}, set(), CAL, set()) == []
    notices = domain.due_warnings(datetime(2026, 10, 7, 9, tzinfo=UTC), {A}, set(), CAL, set())
    assert notices[0].ref_date == date(2026, 10, 7)


def test_no_double_warning() -> None:
    first = domain.due_warnings(wib(2026, 10, 5, 15), {A, B}, set(), CAL, set())
    # a later run the same day: A already warned -> only B; and B's key is the same as in
    # the first run, so the store's unique key refuses it if it was stored already
    again = domain.due_warnings(wib(2026, 10, 5, 16, 30), {A, B}, set(), CAL, {A})
    assert [n.nip for n in again] == [B]
    assert again[0].dedup_key == first[1].dedup_key
    assert domain.due_warnings(wib(2026, 10, 5, 17), {A, B}, set(), CAL, {A, B}) == []


def test_warning_text_names_the_day_and_the_deadline() -> None:
    # deadline = 1 working day after Monday 5 Oct; Tuesday 6 Oct is a holiday -> Wednesday 7
    (notice,) = domain.due_warnings(
        wib(2026, 10, 5, 15), {A}, set(), CAL, set(), deadline_time=time(23, 59)
    )
    assert "Senin, 5 Oktober 2026" in notice.body
    assert "Rabu, 7 Oktober 2026 pukul 23.59 WIB" in notice.body
    assert "Silakan isi laporan kegiatan" in notice.body


@given(
    scanned=st.sets(st.sampled_from([A, B, C])),
    filed=st.sets(st.sampled_from([A, B, C])),
    sent=st.sets(st.sampled_from([A, B, C])),
)
def test_warnings_never_reach_the_filed_or_the_warned(
    scanned: set[str], filed: set[str], sent: set[str]
) -> None:
    notices = domain.due_warnings(wib(2026, 10, 5, 15, 30), scanned, filed, CAL, sent)
    nips = [n.nip for n in notices]
    assert len(nips) == len(set(nips))  # one per employee
    assert set(nips) <= scanned
    assert not set(nips) & (filed | sent)
    assert set(nips) | filed | sent >= scanned  # and nobody scanned is forgotten


# -- 09:00 reminders -----------------------------------------------------------------------

CAL_PLAIN = WorkCalendar.from_dates([])


def report(rid: str, nip: str, atasan: str | None, filed_on: date) -> PendingReport:
    return PendingReport(rid, nip, atasan, filed_on, filed_on)


def test_reminder_age_across_a_weekend() -> None:
    # filed Friday 9 Oct; Monday 12 Oct: working days in (Fri, Mon] = {Mon} = 1 -> not more
    # than one; Tuesday 13 Oct: {Mon, Tue} = 2 -> more than one -> reminder
    pending = [report("r1", A, ATASAN, date(2026, 10, 9))]
    assert domain.report_age(date(2026, 10, 9), date(2026, 10, 12), CAL_PLAIN) == 1
    assert domain.due_reminders(wib(2026, 10, 12, 9), pending, CAL_PLAIN) == []
    (notice,) = domain.due_reminders(wib(2026, 10, 13, 9), pending, CAL_PLAIN)
    assert notice.nip == ATASAN and notice.kind is Kind.ATASAN_REMINDER
    assert notice.dedup_key == f"pengingat_atasan:{ATASAN}:2026-10-13"
    assert "Jumat, 9 Oktober 2026" in notice.body


def test_no_reminder_before_09_or_on_a_weekend() -> None:
    pending = [report("r1", A, ATASAN, date(2026, 10, 1))]
    assert domain.due_reminders(wib(2026, 10, 13, 8, 59), pending, CAL_PLAIN) == []
    assert domain.due_reminders(wib(2026, 10, 10, 9), pending, CAL_PLAIN) == []  # Saturday


def test_one_reminder_per_atasan_counting_their_reports() -> None:
    # Wednesday 14 Oct: reports of 9 Oct (age 3) and 12 Oct (age 2) are late for ATASAN;
    # 13 Oct (age 1) is not; ATASAN2's report of 8 Oct is late but already reminded today;
    # a report without a known atasan reminds nobody
    pending = [
        report("r1", A, ATASAN, date(2026, 10, 9)),
        report("r2", B, ATASAN, date(2026, 10, 12)),
        report("r3", B, ATASAN, date(2026, 10, 13)),
        report("r4", C, ATASAN2, date(2026, 10, 8)),
        report("r5", C, None, date(2026, 10, 1)),
    ]
    notices = domain.due_reminders(wib(2026, 10, 14, 9), pending, CAL_PLAIN, sent={ATASAN2})
    assert [n.nip for n in notices] == [ATASAN]
    assert "Ada 2 laporan kegiatan" in notices[0].body


# -- messages at once ----------------------------------------------------------------------


def test_rejection_and_revision_carry_the_reason() -> None:
    rej = domain.rejection_notice(A, date(2026, 10, 5), "Uraian terlalu singkat.", "e1")
    assert rej.kind is Kind.REPORT_REJECTED and rej.dedup_key == "laporan_ditolak:e1"
    assert "Senin, 5 Oktober 2026 ditolak" in rej.body
    assert "Alasan: Uraian terlalu singkat." in rej.body
    rev = domain.revision_notice(A, date(2026, 10, 5), "Lampirkan foto kegiatan.", "e2")
    assert "Catatan atasan: Lampirkan foto kegiatan." in rev.body
    assert "perbaiki" in rev.body


def test_tpp_change_message_with_its_cause() -> None:
    notice = domain.tpp_notice(
        A, "2026-10", 5_000_000, 4_750_000, "ReportRejected", "e3", date(2026, 10, 20)
    )
    assert notice is not None
    assert notice.body.startswith(
        "TPP bulan Oktober 2026 berubah dari Rp 5.000.000 menjadi Rp 4.750.000 karena ada "
        "laporan kegiatan Anda yang ditolak atasan."
    )
    # no change, no message
    assert domain.tpp_notice(A, "2026-10", 100, 100, "X", "e4", date(2026, 10, 20)) is None
    first = domain.tpp_notice(A, "2026-11", None, 1_250_500, "Unknown", "e5", date(2026, 11, 2))
    assert first is not None and "sekarang Rp 1.250.500 karena ada perubahan data" in first.body


def test_tpp_change_by_an_annulment_says_so() -> None:
    # tpp's TppRecomputed names an annulment as cause_event_type (not an event type)
    notice = domain.tpp_notice(
        A, "2026-10", 9_975_000, 10_000_000, "AnnulmentRecorded", "e6", date(2026, 10, 20)
    )
    assert notice is not None and "BKPSDM membatalkan potongan" in notice.body
    back = domain.tpp_notice(
        A, "2026-10", 10_000_000, 9_975_000, "AnnulmentRevoked", "e7", date(2026, 10, 21)
    )
    assert back is not None and "mencabut pembatalan" in back.body


def test_formats() -> None:
    assert domain.format_rupiah(0) == "Rp 0"
    assert domain.format_rupiah(1_234_567) == "Rp 1.234.567"
    assert domain.format_date(date(2026, 12, 25)) == "Jumat, 25 Desember 2026"
    assert domain.format_period("2026-01") == "Januari 2026"


def test_report_state_is_order_independent() -> None:
    t1, t2, t3 = (datetime(2026, 10, 5, h, tzinfo=UTC) for h in (1, 2, 3))
    assert domain.is_waiting(t1, None, None)
    assert not domain.is_waiting(t1, t2, None)  # decided after filing
    assert domain.is_waiting(t3, t2, None)  # revised after the decision: waits again
    assert not domain.is_active_report(t1, t2)  # withdrawn after filing
    assert domain.is_active_report(t3, t2)  # filed again after the withdrawal


def test_rate_limit_allows_the_limit_and_refuses_one_more() -> None:
    # limit 5 per hour: the 5th attempt goes out, the 6th is refused
    assert not domain.rate_limited(5, 5)
    assert domain.rate_limited(6, 5)
