"""Activity domain: filing gate, deadlines, openings, report validation, lifecycle, SKP recap.

Calendar used below (October 2026):
    Mo Tu We Th Fr Sa Su
              1  2  3  4
     5  6  7  8  9 10 11
Holidays are given explicitly with WorkCalendar.from_dates so the tests do not depend on
the `holidays` package's data.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.activity.domain import (
    DailyReport,
    DomainError,
    ReportAction,
    ReportContent,
    ReportStatus,
    SkpTarget,
    apply_decision,
    edit_report,
    file_report,
    minutes_reported,
    next_status,
    revise_report,
    validate_report,
    withdraw_report,
)
from services.activity.evidence_rules import MIB, EvidenceFile, validate_evidence
from services.activity.gate import (
    FilingCode,
    Opening,
    Unlock,
    UnlockSource,
    check_filing,
    check_revision,
    filing_deadline,
    format_tanggal,
    validate_opening,
)
from services.activity.skp import monthly_realisation, validate_skp_target
from services.kernel.calendar import WIB, WorkCalendar

NIP = "198501012010011001"
OTHER_NIP = "199002022015022002"
BKPSDM_NIP = "197003032000031003"

PLAIN = WorkCalendar.from_dates([])  # only weekends are off
THU, FRI, SAT, SUN, MON, TUE, WED = (date(2026, 10, d) for d in range(1, 8))
SHA = "a" * 64


def wib(day: date, hh: int, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, us, tzinfo=WIB)


def scan(day: date, nip: str = NIP) -> Unlock:
    return Unlock(nip, day, UnlockSource.SCAN)


def content(day: date = FRI, **overrides: object) -> ReportContent:
    fields: dict[str, object] = {
        "report_date": day,
        "description": "Menyusun draf surat undangan rapat koordinasi",
        "output": "surat",
        "quantity": 2,
        "minutes_spent": 90,
    }
    fields.update(overrides)
    return ReportContent(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the gate


def test_scan_on_the_day_allows_filing_until_next_working_day() -> None:
    # Thursday 1 Oct, scanned; asked at 15:00 the same day. Next working day is Friday 2 Oct,
    # so the deadline is Friday 23:59 (inclusive of that minute).
    d = check_filing(THU, wib(THU, 15), scan(THU), [], PLAIN)
    assert d.allowed and d.code is FilingCode.OK
    assert d.deadline == wib(FRI, 23, 59, 59, 999_999)
    assert d.counts_for_tpp is True
    assert d.unlock_source is UnlockSource.SCAN


def test_no_scan_is_refused_with_advice_to_wait_or_ask_the_operator() -> None:
    d = check_filing(THU, wib(THU, 8), None, [], PLAIN)
    assert not d.allowed and d.code is FilingCode.NO_SCAN_YET
    assert "belum tercatat" in d.message
    assert "coba lagi" in d.message and "operator" in d.message


def test_dinas_luar_unlocks_without_a_scan() -> None:
    d = check_filing(THU, wib(THU, 20), Unlock(NIP, THU, UnlockSource.DINAS_LUAR), [], PLAIN)
    assert d.allowed and d.unlock_source is UnlockSource.DINAS_LUAR


def test_future_date_is_refused_even_with_an_opening() -> None:
    # Asked on Thursday for Friday; BKPSDM "opened" Friday, which must not help.
    opening = Opening(NIP, FRI, BKPSDM_NIP, "mesin rusak", wib(THU, 9), wib(WED, 23))
    d = check_filing(FRI, wib(THU, 23, 59), None, [opening], PLAIN)
    assert not d.allowed and d.code is FilingCode.FUTURE_DATE
    assert d.deadline is None


def test_future_date_is_judged_in_wib_not_utc() -> None:
    # 2026-10-01 18:30 UTC is Friday 2 Oct 01:30 WIB: Friday is today in Bekasi, not future.
    now = datetime(2026, 10, 1, 18, 30, tzinfo=UTC)
    assert check_filing(FRI, now, scan(FRI), [], PLAIN).allowed


def test_friday_report_deadline_is_monday_night() -> None:
    # Friday 2 Oct: the next working day is Monday 5 Oct (Sat/Sun skipped).
    assert filing_deadline(FRI, PLAIN) == wib(MON, 23, 59, 59, 999_999)
    # Saturday and Sunday: still open.
    assert check_filing(FRI, wib(SUN, 10), scan(FRI), [], PLAIN).allowed
    # Monday 23:59:30 shows 23:59 on the clock: on time.
    assert check_filing(FRI, wib(MON, 23, 59, 30), scan(FRI), [], PLAIN).allowed
    # Tuesday 00:00:00: late.
    late = check_filing(FRI, wib(TUE, 0, 0), scan(FRI), [], PLAIN)
    assert not late.allowed and late.code is FilingCode.DEADLINE_PASSED
    assert "Senin, 5 Oktober 2026 pukul 23.59 WIB" in late.message
    assert "BKPSDM" in late.message


def test_deadline_is_compared_in_wib_when_now_arrives_in_utc() -> None:
    # Monday 5 Oct 17:00 UTC = Tuesday 6 Oct 00:00 WIB (UTC+7): one minute past Monday 23:59.
    now = datetime(2026, 10, 5, 17, 0, tzinfo=UTC)
    assert check_filing(FRI, now, scan(FRI), [], PLAIN).code is FilingCode.DEADLINE_PASSED
    # 16:59 UTC = 23:59 WIB: on time.
    now = datetime(2026, 10, 5, 16, 59, 45, tzinfo=UTC)
    assert check_filing(FRI, now, scan(FRI), [], PLAIN).allowed


def test_holiday_after_the_report_day_is_skipped() -> None:
    # Monday 5 Oct reported; Tuesday 6 Oct is a holiday, so the next working day is Wed 7.
    cal = WorkCalendar.from_dates([TUE])
    assert filing_deadline(MON, cal) == wib(WED, 23, 59, 59, 999_999)
    assert check_filing(MON, wib(WED, 22), scan(MON), [], cal).allowed
    thu8 = date(2026, 10, 8)
    assert check_filing(MON, wib(thu8, 0, 0), scan(MON), [], cal).code is FilingCode.DEADLINE_PASSED


def test_weekend_then_holiday() -> None:
    # Friday 2 Oct, Monday 5 Oct a holiday: Sat, Sun, Mon skipped → Tuesday 6 Oct 23:59.
    cal = WorkCalendar.from_dates([MON])
    assert filing_deadline(FRI, cal) == wib(TUE, 23, 59, 59, 999_999)
    assert check_filing(FRI, wib(TUE, 23, 59), scan(FRI), [], cal).allowed
    assert not check_filing(FRI, wib(WED, 0, 0), scan(FRI), [], cal).allowed


def test_deadline_parameters() -> None:
    # Two working days after Thursday 1 Oct: Fri 2 (1), Mon 5 (2); at 12:00 → through 12:00:59.
    deadline = filing_deadline(THU, PLAIN, deadline_working_days=2, deadline_time=time(12, 0))
    assert deadline == wib(MON, 12, 0, 59, 999_999)
    d = check_filing(THU, wib(MON, 12, 1), scan(THU), [], PLAIN, 2, time(12, 0))
    assert d.code is FilingCode.DEADLINE_PASSED


def test_deadline_passed_wins_over_no_scan() -> None:
    # Nothing to wait for when the time is over: the message must point at BKPSDM.
    d = check_filing(THU, wib(TUE, 9), None, [], PLAIN)
    assert d.code is FilingCode.DEADLINE_PASSED


def test_opening_lifts_deadline_and_fingerprint_requirement() -> None:
    opening = Opening(NIP, THU, BKPSDM_NIP, "mesin sidik jari rusak", wib(TUE, 8), wib(WED, 16))
    # Tuesday 10:00: Thursday's deadline (Friday 23:59) has passed and there is no scan.
    d = check_filing(THU, wib(TUE, 10), None, [opening], PLAIN)
    assert d.allowed and d.code is FilingCode.OPENED
    assert d.opening == opening
    assert d.deadline == wib(WED, 16)
    assert "mesin sidik jari rusak" in d.message


def test_a_date_outside_the_employment_is_refused_and_no_opening_lifts_it() -> None:
    opening = Opening(NIP, THU, BKPSDM_NIP, "mesin sidik jari rusak", wib(TUE, 8), wib(WED, 16))
    d = check_filing(THU, wib(THU, 15), scan(THU), [opening], PLAIN, active=False)
    assert (d.allowed, d.code, d.counts_for_tpp) == (False, FilingCode.NOT_ACTIVE, False)
    assert "operator kepegawaian OPD Anda atau BKPSDM" in d.message
    # a future date is still told so first (nothing to correct yet)
    assert check_filing(FRI, wib(THU, 15), None, [], PLAIN, active=False).code is (
        FilingCode.FUTURE_DATE
    )


def test_opening_only_counts_for_its_employee_date_and_window() -> None:
    other_nip = Opening(OTHER_NIP, THU, BKPSDM_NIP, "mesin rusak", wib(TUE, 8), wib(WED, 16))
    other_day = Opening(NIP, FRI, BKPSDM_NIP, "mesin rusak", wib(TUE, 8), wib(WED, 16))
    expired = Opening(NIP, THU, BKPSDM_NIP, "mesin rusak", wib(MON, 8), wib(MON, 16))
    not_yet = Opening(NIP, THU, BKPSDM_NIP, "mesin rusak", wib(TUE, 11), wib(WED, 16))
    openings = [other_nip, other_day, expired, not_yet]
    d = check_filing(THU, wib(TUE, 10), None, openings, PLAIN, nip=NIP)
    assert d.code is FilingCode.DEADLINE_PASSED
    # the NIP is also taken from the unlock when not given
    d = check_filing(THU, wib(TUE, 10), scan(THU), [other_nip], PLAIN)
    assert d.code is FilingCode.DEADLINE_PASSED


def test_non_working_day_with_scan_is_allowed_but_does_not_count() -> None:
    # Saturday 3 Oct, scanned (kerja bakti). Deadline: next working day Monday 5 Oct 23:59.
    d = check_filing(SAT, wib(SAT, 14), scan(SAT), [], PLAIN)
    assert d.allowed and d.counts_for_tpp is False
    assert "bukan hari kerja" in d.message and "tidak diperhitungkan dalam TPP" in d.message
    assert d.deadline == wib(MON, 23, 59, 59, 999_999)
    # ... and without a scan or dinas luar it is refused like any other day.
    assert check_filing(SAT, wib(SAT, 14), None, [], PLAIN).code is FilingCode.NO_SCAN_YET


def test_holiday_is_a_non_working_day_too() -> None:
    cal = WorkCalendar.from_dates([THU])
    assert check_filing(THU, wib(THU, 14), scan(THU), [], cal).counts_for_tpp is False


def test_unlock_of_another_date_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_filing(THU, wib(THU, 14), scan(FRI), [], PLAIN)
    with pytest.raises(ValueError):
        check_filing(THU, datetime(2026, 10, 1, 14), scan(THU), [], PLAIN)  # naive now


@settings(max_examples=200, deadline=None)
@given(
    d=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    holidays=st.sets(st.dates(date(2026, 1, 1), date(2027, 1, 31)), max_size=30),
)
def test_deadline_is_the_first_working_day_after_d(d: date, holidays: set[date]) -> None:
    cal = WorkCalendar.from_dates(holidays)
    deadline = filing_deadline(d, cal)
    last_day = deadline.date()
    assert last_day > d and cal.is_working_day(last_day)
    # no working day strictly between D and the deadline day
    between = [d + timedelta(days=i) for i in range(1, (last_day - d).days)]
    assert not any(cal.is_working_day(x) for x in between)
    # allowed at the deadline, refused one microsecond after
    assert check_filing(d, deadline, scan(d), [], cal).allowed
    late = check_filing(d, deadline + timedelta(microseconds=1), scan(d), [], cal)
    assert late.code is FilingCode.DEADLINE_PASSED


def test_validate_opening() -> None:
    good = Opening(NIP, THU, BKPSDM_NIP, "mesin rusak", wib(TUE, 8), wib(WED, 16))
    validate_opening(good)
    cases = {
        "reason_required": Opening(NIP, THU, BKPSDM_NIP, "  ", wib(TUE, 8), wib(WED, 16)),
        "invalid_window": Opening(NIP, THU, BKPSDM_NIP, "x", wib(TUE, 8), wib(TUE, 8)),
        "self_opening": Opening(NIP, THU, NIP, "x", wib(TUE, 8), wib(WED, 16)),
        "future_date": Opening(NIP, WED, BKPSDM_NIP, "x", wib(TUE, 8), wib(WED, 16)),
    }
    for code, opening in cases.items():
        with pytest.raises(DomainError) as err:
            validate_opening(opening)
        assert err.value.code == code


# --------------------------------------------------------------------------- validation


def codes(problems: list) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in problems}


@pytest.mark.parametrize(
    ("name", "ctype"),
    [
        ("nota.pdf", "application/pdf"),
        ("foto.JPG", "image/jpeg"),
        ("foto.jpeg", "image/jpeg; charset=binary"),
        ("layar.png", "image/png"),
        (
            "notulen.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("rekap.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_allowed_evidence_types(name: str, ctype: str) -> None:
    assert validate_evidence(EvidenceFile(name, ctype, 1000, SHA)) == []


@pytest.mark.parametrize(
    ("name", "ctype"),
    [
        ("virus.exe", "application/octet-stream"),
        ("foto.png", "application/pdf"),  # extension and content type disagree
        ("nota.pdf.exe", "application/pdf"),
        ("lama.doc", "application/msword"),  # old Word format is not on the list
        ("tanpa_ekstensi", "application/pdf"),
    ],
)
def test_refused_evidence_types(name: str, ctype: str) -> None:
    problems = validate_evidence(EvidenceFile(name, ctype, 1000, SHA))
    assert ("evidence", "type_not_allowed") in codes(problems)
    assert "PDF, JPG, PNG, DOCX, XLSX" in problems[0].message


def test_evidence_size_limit() -> None:
    # default limit 5 MiB = 5 × 1,048,576 = 5,242,880 bytes; exactly at it is accepted
    at_limit = EvidenceFile("a.pdf", "application/pdf", 5_242_880, SHA)
    assert validate_evidence(at_limit) == []
    over = EvidenceFile("a.pdf", "application/pdf", 5_242_881, SHA)
    [problem] = validate_evidence(over)
    assert problem.code == "too_large" and "5 MB" in problem.message
    # the limit is a parameter: 1 MiB
    assert validate_evidence(EvidenceFile("a.pdf", "application/pdf", MIB + 1, SHA), MIB)
    assert ("evidence", "empty") in codes(
        validate_evidence(EvidenceFile("a.pdf", "application/pdf", 0, SHA))
    )
    assert ("evidence", "invalid_checksum") in codes(
        validate_evidence(EvidenceFile("a.pdf", "application/pdf", 10, "xyz"))
    )
    assert ("evidence", "invalid_name") in codes(
        validate_evidence(EvidenceFile("../a.pdf", "application/pdf", 10, SHA))
    )


def test_report_field_rules() -> None:
    assert validate_report(content()) == []
    bad = content(description="   ", output="", quantity=0, minutes_spent=0)
    assert codes(validate_report(bad)) == {
        ("description", "required"),
        ("output", "required"),
        ("quantity", "not_positive"),
        ("minutes_spent", "out_of_range"),
    }
    assert ("description", "too_long") in codes(validate_report(content(description="x" * 2001)))
    assert validate_report(content(description="x" * 2000)) == []
    assert ("quantity", "not_positive") in codes(validate_report(content(quantity=-1)))
    assert ("quantity", "not_positive") in codes(validate_report(content(quantity=True)))
    # minutes: 1 and 1440 (= 24 × 60) are the bounds
    assert validate_report(content(minutes_spent=1)) == []
    assert validate_report(content(minutes_spent=1440)) == []
    assert ("minutes_spent", "out_of_range") in codes(validate_report(content(minutes_spent=1441)))
    # 1000 minutes already reported that day + 500 = 1500 > 1440
    over = validate_report(content(minutes_spent=500), minutes_already_reported=1000)
    assert ("minutes_spent", "day_overfilled") in codes(over)
    assert "440 menit" in over[0].message  # 1440 − 1000 = 440 left


def test_report_evidence_and_target_rules() -> None:
    pdf = EvidenceFile("a.pdf", "application/pdf", 10, SHA)
    twice = content(evidence=(pdf, EvidenceFile("b.pdf", "application/pdf", 10, SHA.upper())))
    assert ("evidence[1]", "duplicate") in codes(validate_report(twice))
    mine = SkpTarget("t1", NIP, 2026, "Penyusunan surat", "Jumlah surat", 120)
    theirs = SkpTarget("t2", OTHER_NIP, 2026, "Penyusunan surat", "Jumlah surat", 120)
    last_year = SkpTarget("t3", NIP, 2025, "Penyusunan surat", "Jumlah surat", 120)
    targets = {t.id: t for t in (mine, theirs, last_year)}
    assert validate_report(content(skp_target_id="t1"), nip=NIP, targets=targets) == []
    for tid in ("t2", "t3", "nope"):
        found = validate_report(content(skp_target_id=tid), nip=NIP, targets=targets)
        assert codes(found) == {("skp_target_id", "unknown_target")}


def test_validate_skp_target() -> None:
    assert validate_skp_target(SkpTarget("t", NIP, 2026, "a", "b", 1)) == []
    assert codes(validate_skp_target(SkpTarget("t", NIP, 2026, " ", "", 0))) == {
        ("activity", "required"),
        ("indicator", "required"),
        ("target_quantity", "not_positive"),
    }


# --------------------------------------------------------------------------- lifecycle


def _filed() -> DailyReport:
    gate = check_filing(FRI, wib(FRI, 16), scan(FRI), [], PLAIN)
    return file_report("r1", NIP, content(), wib(FRI, 16), gate)


def test_file_report_needs_the_gate_and_valid_content() -> None:
    report = _filed()
    assert report.status is ReportStatus.PENDING and report.revision == 0
    refused = check_filing(FRI, wib(FRI, 16), None, [], PLAIN)
    with pytest.raises(DomainError) as err:
        file_report("r2", NIP, content(), wib(FRI, 16), refused)
    assert err.value.code == "no_scan_yet"
    allowed = check_filing(FRI, wib(FRI, 16), scan(FRI), [], PLAIN)
    with pytest.raises(DomainError) as err:
        file_report("r3", NIP, content(quantity=0), wib(FRI, 16), allowed)
    assert err.value.code == "invalid_report"
    assert err.value.problems[0].field == "quantity"


def test_revision_loop() -> None:
    report = _filed()
    # atasan asks for a revision on Tuesday 6 Oct 10:00, after Friday's own deadline (Mon 23:59)
    report = apply_decision(report, ReportAction.REQUEST_REVISION)
    assert report.status is ReportStatus.REVISION_REQUESTED
    # edit is not the way while revision is requested; revise is
    with pytest.raises(DomainError) as err:
        edit_report(report, content(quantity=3), check_filing(FRI, wib(TUE, 11), None, [], PLAIN))
    assert err.value.code == "invalid_transition" and "revisi" in err.value.message
    # revision deadline counts from the request day: next working day after Tue = Wed 23:59
    gate = check_revision(wib(TUE, 10), wib(WED, 20), PLAIN, report_date=FRI)
    assert gate.allowed and gate.deadline == wib(WED, 23, 59, 59, 999_999)
    report = revise_report(report, content(quantity=3), gate)
    assert report.status is ReportStatus.PENDING and report.revision == 1
    assert report.content.quantity == 3
    # second round, then approval; approved is terminal
    report = apply_decision(report, ReportAction.REQUEST_REVISION)
    report = revise_report(report, content(quantity=4), gate)
    assert report.revision == 2
    report = apply_decision(report, ReportAction.APPROVE)
    assert report.status is ReportStatus.APPROVED
    for action in ReportAction:
        with pytest.raises(DomainError):
            next_status(ReportStatus.APPROVED, action)


def test_revision_after_its_deadline_is_refused() -> None:
    thu8 = date(2026, 10, 8)
    gate = check_revision(wib(TUE, 10), wib(thu8, 0, 0), PLAIN, report_date=FRI)
    assert gate.code is FilingCode.DEADLINE_PASSED


def test_edit_and_withdraw_only_while_pending() -> None:
    report = _filed()
    gate = check_filing(FRI, wib(MON, 9), scan(FRI), [], PLAIN)
    edited = edit_report(report, content(description="Uraian diperbaiki"), gate)
    assert edited.status is ReportStatus.PENDING and edited.revision == 1
    with pytest.raises(DomainError) as err:
        edit_report(report, content(day=THU), gate)
    assert err.value.code == "date_change"
    # past the deadline a pending report is frozen for the atasan
    late = check_filing(FRI, wib(TUE, 9), scan(FRI), [], PLAIN)
    with pytest.raises(DomainError) as err:
        edit_report(report, content(), late)
    assert err.value.code == "deadline_passed"
    withdrawn = withdraw_report(edited)
    assert withdrawn.status is ReportStatus.WITHDRAWN
    for status in (ReportStatus.WITHDRAWN, ReportStatus.REJECTED, ReportStatus.REVISION_REQUESTED):
        with pytest.raises(DomainError) as err:
            next_status(status, ReportAction.WITHDRAW)
        assert err.value.code == "invalid_transition"
    with pytest.raises(DomainError):
        apply_decision(withdrawn, ReportAction.APPROVE)
    with pytest.raises(DomainError):  # revise only after a revision request
        next_status(ReportStatus.PENDING, ReportAction.REVISE)
    with pytest.raises(ValueError):
        apply_decision(report, ReportAction.EDIT)


def test_minutes_reported_ignores_withdrawn_and_rejected() -> None:
    base = _filed()  # 90 minutes on Friday
    reports = [
        base,
        DailyReport("r2", NIP, content(minutes_spent=30), ReportStatus.APPROVED, wib(FRI, 17)),
        DailyReport("r3", NIP, content(minutes_spent=60), ReportStatus.WITHDRAWN, wib(FRI, 17)),
        DailyReport("r4", NIP, content(minutes_spent=45), ReportStatus.REJECTED, wib(FRI, 17)),
        DailyReport("r5", OTHER_NIP, content(minutes_spent=20), ReportStatus.PENDING, wib(FRI, 17)),
    ]
    assert minutes_reported(reports, NIP, FRI) == 90 + 30


# --------------------------------------------------------------------------- SKP recap


def test_monthly_realisation() -> None:
    target = SkpTarget("t1", NIP, 2026, "Penyusunan surat", "Jumlah surat", 120)
    empty = SkpTarget("t2", NIP, 2026, "Rapat", "Jumlah notulen", 12)

    def rep(rid: str, day: date, qty: int, status: ReportStatus, nip: str = NIP) -> DailyReport:
        c = content(day=day, quantity=qty, skp_target_id="t1")
        return DailyReport(rid, nip, c, status, wib(day, 16))

    reports = [
        rep("a", date(2026, 9, 30), 5, ReportStatus.APPROVED),  # September
        rep("b", date(2026, 10, 1), 3, ReportStatus.APPROVED),
        rep("c", date(2026, 10, 3), 4, ReportStatus.APPROVED),  # a Saturday: still output
        rep("d", date(2026, 10, 5), 9, ReportStatus.PENDING),  # not approved
        rep("e", date(2026, 10, 6), 9, ReportStatus.REJECTED),
        rep("f", date(2026, 10, 6), 9, ReportStatus.APPROVED, OTHER_NIP),  # not the owner
        rep("g", date(2026, 11, 2), 9, ReportStatus.APPROVED),  # later month
    ]
    first, second = monthly_realisation([target, empty], reports, 2026, 10)
    # October: 3 + 4 = 7; 7 / 120 × 100 = 5.8333… → 5.83
    assert first.quantity == 7 and first.percent == Decimal("5.83")
    # January..October: 5 + 7 = 12; 12 / 120 × 100 = 10.00
    assert first.cumulative_quantity == 12 and first.cumulative_percent == Decimal("10.00")
    assert second.quantity == 0 and second.percent == Decimal("0.00")
    # 1 / 8 × 100 = 12.5 → 12.50
    one = DailyReport(
        "h",
        NIP,
        content(day=THU, quantity=1, skp_target_id="t3"),
        ReportStatus.APPROVED,
        wib(THU, 16),
    )
    [r] = monthly_realisation([SkpTarget("t3", NIP, 2026, "x", "y", 8)], [one], 2026, 10)
    assert r.percent == Decimal("12.50")
    # 1 / 800 × 100 = 0.125: half up gives 0.13 (half even would give 0.12)
    [r] = monthly_realisation([SkpTarget("t3", NIP, 2026, "x", "y", 800)], [one], 2026, 10)
    assert r.percent == Decimal("0.13")
    # 1 / 600 × 100 = 0.1666… → 0.17
    [r] = monthly_realisation([SkpTarget("t3", NIP, 2026, "x", "y", 600)], [one], 2026, 10)
    assert r.percent == Decimal("0.17")
    # a target of another year is not in this year's recap
    assert monthly_realisation([SkpTarget("t9", NIP, 2025, "x", "y", 1)], [], 2026, 10) == []


def test_format_tanggal() -> None:
    assert format_tanggal(FRI) == "Jumat, 2 Oktober 2026"
