"""The working day (docs/rules.md "The working day"), one test per rule, plus property tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.attendance.domain import (
    ABSENCE_KINDS,
    ANOMALY_DEVICE_CLOCK,
    ANOMALY_DEVICE_HOP,
    ANOMALY_FOREIGN_DEVICE,
    ANOMALY_HOLIDAY_BRIDGE,
    FLAG_CLOCK_WRONG,
    FLAG_FUTURE,
    STATUS_PRESENT,
    STATUS_TK,
    WIB,
    Absence,
    DayFacts,
    OpdOn,
    Scan,
    WorkHours,
    absence_on,
    affected_days,
    affected_nip_days,
    close_day,
    dedup_scans,
    device_clock_anomalies,
    device_hops,
    flag_scan,
    foreign_device_scans,
    holiday_bridge_absences,
    is_holiday_bridge_day,
    parse_scan_time,
    scan_key,
    wib_date,
)
from services.kernel.calendar import WorkCalendar

NIP = "199001012015011001"
NIP2 = "198503152010122002"
MON = date(2026, 1, 5)  # 2026-01-01 is a Thursday, so the 5th is a Monday
HOLIDAY = date(2026, 1, 7)  # a Wednesday made a holiday for these tests
CAL = WorkCalendar.from_dates([HOLIDAY])
HOURS = WorkHours()


def wib(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=WIB)


def close(scans: list[datetime], absence: str | None = None, day: date = MON) -> DayFacts:
    facts = close_day(NIP, day, scans, absence, CAL, HOURS)
    assert facts is not None
    return facts


# --- working days -----------------------------------------------------------------------


def test_weekend_is_not_a_working_day() -> None:
    saturday = date(2026, 1, 10)
    assert close_day(NIP, saturday, [wib(saturday, 7, 0)], None, CAL, HOURS) is None


def test_holiday_is_not_a_working_day_even_with_scans() -> None:
    assert close_day(NIP, HOLIDAY, [wib(HOLIDAY, 7, 0)], None, CAL, HOURS) is None


def test_no_scan_no_absence_is_tanpa_keterangan() -> None:
    assert close([]) == DayFacts(NIP, MON, STATUS_TK, None, None, None, None)


# --- hours 07:30–16:00 ------------------------------------------------------------------


def test_on_time_in_and_out_exactly_at_the_edges() -> None:
    facts = close([wib(MON, 7, 30, 0), wib(MON, 16, 0, 0)])
    assert facts.status == STATUS_PRESENT
    assert (facts.minutes_late, facts.minutes_early) == (0, 0)


def test_early_arrival_and_late_leaving_count_zero() -> None:
    facts = close([wib(MON, 6, 45), wib(MON, 18, 10)])
    assert (facts.minutes_late, facts.minutes_early) == (0, 0)


def test_hours_from_ruleset_strings_and_times() -> None:
    @dataclass
    class Rules:
        work_start: object
        work_end: object
        single_scan_cutoff: object

    assert WorkHours.from_ruleset(Rules("07:30", "16:00", "12:00")) == HOURS
    other = WorkHours.from_ruleset(Rules(time(8, 0), "16:30", "12:30"))
    assert other == WorkHours(time(8, 0), time(16, 30), time(12, 30))
    # 08:10:00 with work starting 08:00 -> 10 whole minutes late
    facts = close_day(NIP, MON, [wib(MON, 8, 10)], None, CAL, other)
    assert facts is not None and facts.minutes_late == 10
    with pytest.raises(ValueError, match="tidak valid"):
        WorkHours.from_ruleset(Rules("tujuh", "16:00", "12:00"))


# --- absence decides --------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ABSENCE_KINDS))
def test_absence_decides_status_and_scans_carry_no_deduction(kind: str) -> None:
    # Scans 09:00 (90 min late) and 14:00 (120 min early) are kept but cost nothing.
    facts = close([wib(MON, 9, 0), wib(MON, 14, 0)], kind)
    assert facts.status == kind
    assert facts.check_in == wib(MON, 9, 0) and facts.check_out == wib(MON, 14, 0)
    assert (facts.minutes_late, facts.minutes_early) == (0, 0)


def test_absence_without_scans() -> None:
    assert close([], "cuti_sakit") == DayFacts(NIP, MON, "cuti_sakit", None, None, 0, 0)


def test_unknown_absence_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="tidak dikenal"):
        close([], "liburan")


# --- first and last scan; the one-scan rule ---------------------------------------------


def test_first_scan_is_check_in_last_is_check_out() -> None:
    scans = [wib(MON, 12, 0), wib(MON, 7, 40), wib(MON, 16, 5), wib(MON, 10, 0)]
    facts = close(scans)
    assert facts.check_in == wib(MON, 7, 40) and facts.check_out == wib(MON, 16, 5)
    # 07:40:00 - 07:30:00 = 10 min late; 16:05 is after 16:00 -> 0 early
    assert (facts.minutes_late, facts.minutes_early) == (10, 0)


def test_one_scan_before_noon_is_check_in_only() -> None:
    facts = close([wib(MON, 11, 59, 59)])
    assert facts.check_in == wib(MON, 11, 59, 59) and facts.check_out is None
    # 11:59:59 - 07:30:00 = 4 h 29 min 59 s -> 269 whole minutes
    assert (facts.minutes_late, facts.minutes_early) == (269, None)


def test_one_scan_at_noon_is_check_out_only() -> None:
    facts = close([wib(MON, 12, 0, 0)])
    assert facts.check_in is None and facts.check_out == wib(MON, 12, 0, 0)
    # 16:00:00 - 12:00:00 = 240 minutes early
    assert (facts.minutes_late, facts.minutes_early) == (None, 240)


def test_same_second_on_two_devices_is_one_scan() -> None:
    # The duplicate makes it a one-scan day: 08:00 is before 12:00 -> check-in only.
    facts = close([wib(MON, 8, 0, 0), wib(MON, 8, 0, 0).astimezone(UTC)])
    assert facts.check_in == wib(MON, 8, 0) and facts.check_out is None


# --- minute rounding --------------------------------------------------------------------


def test_late_rounds_down_example_from_rules() -> None:
    # 07:45:59 - 07:30:00 = 15 min 59 s -> 15
    assert close([wib(MON, 7, 45, 59), wib(MON, 16, 0)]).minutes_late == 15


def test_late_sixteen_minutes() -> None:
    # 07:46:00 - 07:30:00 = 16 min exactly
    assert close([wib(MON, 7, 46, 0), wib(MON, 16, 0)]).minutes_late == 16


def test_early_rounds_down_example_from_rules() -> None:
    # 16:00:00 - 15:59:30 = 30 s -> 0
    assert close([wib(MON, 7, 0), wib(MON, 15, 59, 30)]).minutes_early == 0


def test_early_one_minute_one_second() -> None:
    # 16:00:00 - 15:58:59 = 61 s -> 1
    assert close([wib(MON, 7, 0), wib(MON, 15, 58, 59)]).minutes_early == 1


def test_microseconds_do_not_round_up() -> None:
    # 07:31:00.999 is treated as 07:31:00 (scans are per second): 1 minute late
    ts = wib(MON, 7, 31, 0).replace(microsecond=999_000)
    assert close([ts, wib(MON, 16, 0)]).minutes_late == 1


_DAY_SECONDS = st.integers(min_value=0, max_value=24 * 3600 - 1)


def _at_second(second: int) -> datetime:
    return wib(MON, 0, 0) + timedelta(seconds=second)


@given(st.integers(min_value=0, max_value=24 * 3600 - 2))
def test_property_minutes_late_is_floor_of_elapsed(second: int) -> None:
    check_in = _at_second(second)
    facts = close([check_in, wib(MON, 23, 59, 59)])  # 23:59:59 is always the last scan
    elapsed = (check_in - wib(MON, 7, 30)).total_seconds()
    late = facts.minutes_late
    assert late is not None
    if elapsed <= 0:
        assert late == 0
    else:
        # whole minutes, rounded down: late*60 <= elapsed < (late+1)*60
        assert late * 60 <= elapsed < (late + 1) * 60


@given(st.integers(min_value=1, max_value=24 * 3600 - 1))
def test_property_minutes_early_is_floor_of_remaining(second: int) -> None:
    check_out = _at_second(second)
    facts = close([wib(MON, 0, 0, 0), check_out])  # 00:00:00 is always the first scan
    remaining = (wib(MON, 16, 0) - check_out).total_seconds()
    early = facts.minutes_early
    assert early is not None
    if remaining <= 0:
        assert early == 0
    else:
        assert early * 60 <= remaining < (early + 1) * 60


@given(_DAY_SECONDS)
def test_property_one_scan_is_in_before_noon_else_out(second: int) -> None:
    ts = _at_second(second)
    facts = close([ts])
    before_noon = second < 12 * 3600
    assert facts.status == STATUS_PRESENT
    assert (facts.check_in == ts) is before_noon
    assert (facts.check_out == ts) is (not before_noon)
    assert (facts.check_in is None) is (not before_noon)
    assert (facts.check_out is None) is before_noon


@given(st.lists(_DAY_SECONDS, min_size=2, max_size=8, unique=True))
def test_property_many_scans_first_in_last_out(seconds: list[int]) -> None:
    facts = close([_at_second(s) for s in seconds])
    assert facts.check_in == _at_second(min(seconds))
    assert facts.check_out == _at_second(max(seconds))


# --- other dates, compared in WIB -------------------------------------------------------


def test_scans_of_other_dates_are_ignored() -> None:
    scans = [wib(MON - timedelta(days=1), 7, 0), wib(MON, 7, 35), wib(MON + timedelta(1), 17, 0)]
    facts = close(scans)
    # only 07:35 on the 5th remains: one scan before noon, 5 minutes late
    assert (facts.check_in, facts.check_out, facts.minutes_late) == (wib(MON, 7, 35), None, 5)


def test_dates_compared_in_wib_not_utc() -> None:
    # 2026-01-05 00:45 UTC = 07:45 WIB on the 5th; 2026-01-05 23:30 UTC = 06:30 WIB on the 6th
    morning = datetime(2026, 1, 5, 0, 45, tzinfo=UTC)
    next_day = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    facts = close([morning, next_day])
    assert facts.check_in == wib(MON, 7, 45) and facts.check_out is None
    assert facts.minutes_late == 15  # 07:45:00 - 07:30:00
    tuesday = close([morning, next_day], day=date(2026, 1, 6))
    assert tuesday.check_in == wib(date(2026, 1, 6), 6, 30) and tuesday.minutes_late == 0


# --- parse_scan_time, wib_date ----------------------------------------------------------


def test_parse_scan_time_plain_is_wib() -> None:
    assert parse_scan_time("2026-01-05 07:30:00") == wib(MON, 7, 30)
    assert parse_scan_time("2026-01-05 07:30:00").utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    "text",
    ["2026-01-05T00:30:00+00:00", "2026-01-05T00:30:00Z", "2026-01-05T09:30:00+09:00"],
)
def test_parse_scan_time_iso_with_offset(text: str) -> None:
    # each is 07:30 WIB (UTC+7) on 2026-01-05
    assert parse_scan_time(text) == wib(MON, 7, 30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("05-01-2026 07:30:00", "tidak valid"),
        ("2026-01-05", "tidak valid"),
        ("", "tidak valid"),
        ("2026-02-30 07:00:00", "bukan tanggal"),
        ("2026-01-05 25:00:00", "bukan tanggal"),
    ],
)
def test_parse_scan_time_refuses_in_bahasa(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_scan_time(text)


def test_wib_date_crosses_midnight() -> None:
    # 17:00 UTC = 00:00 WIB of the next day
    assert wib_date(datetime(2026, 1, 5, 17, 0, tzinfo=UTC)) == date(2026, 1, 6)
    assert wib_date(datetime(2026, 1, 5, 16, 59, 59, tzinfo=UTC)) == date(2026, 1, 5)
    with pytest.raises(ValueError, match="zona waktu"):
        wib_date(datetime(2026, 1, 5, 7, 0))


# --- dedup, flags, affected days --------------------------------------------------------


def test_scan_key_same_second_any_zone_any_device() -> None:
    a = scan_key(NIP, wib(MON, 7, 30, 5))
    b = scan_key(NIP, datetime(2026, 1, 5, 0, 30, 5, 400_000, tzinfo=UTC))
    assert a == b == f"{NIP}@2026-01-05T00:30:05Z"
    assert scan_key(NIP, wib(MON, 7, 30, 6)) != a
    assert scan_key(NIP2, wib(MON, 7, 30, 5)) != a


def test_dedup_scans_across_devices() -> None:
    scans = [
        Scan(NIP, wib(MON, 7, 30), "DEV-A"),
        Scan(NIP, wib(MON, 7, 30), "DEV-B"),  # same NIP, same second: dropped
        Scan(NIP2, wib(MON, 7, 30), "DEV-A"),  # other NIP: kept
        Scan(NIP, wib(MON, 7, 30, 1), "DEV-A"),  # next second: kept
    ]
    assert dedup_scans(scans) == [scans[0], scans[2], scans[3]]


RECEIVED = wib(MON, 8, 0)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (RECEIVED + timedelta(minutes=4), None),
        (RECEIVED + timedelta(minutes=5), None),  # exactly at the limit
        (RECEIVED + timedelta(minutes=6), FLAG_FUTURE),
        (RECEIVED - timedelta(days=20), None),  # backlog upload: fine
        (datetime(1999, 12, 31, 23, 0, tzinfo=WIB), FLAG_CLOCK_WRONG),
        (RECEIVED + timedelta(days=400), FLAG_CLOCK_WRONG),
    ],
)
def test_flag_scan(ts: datetime, expected: str | None) -> None:
    assert flag_scan(ts, RECEIVED) == expected


def test_flag_scan_custom_tolerance() -> None:
    assert flag_scan(RECEIVED + timedelta(minutes=6), RECEIVED, timedelta(minutes=10)) is None


def test_affected_days_of_a_backlog() -> None:
    scans = [
        Scan(NIP, wib(MON, 7, 0)),
        Scan(NIP2, wib(MON, 16, 0)),
        Scan(NIP, datetime(2026, 1, 6, 17, 30, tzinfo=UTC)),  # 00:30 WIB on the 7th
    ]
    assert affected_days(scans) == {MON, date(2026, 1, 7)}
    assert affected_days([s.ts for s in scans]) == {MON, date(2026, 1, 7)}
    assert affected_nip_days(scans) == {(NIP, MON), (NIP2, MON), (NIP, date(2026, 1, 7))}


# --- absences ---------------------------------------------------------------------------


def test_absence_on_latest_non_cancelled_wins() -> None:
    records = [
        Absence(NIP, date(2026, 1, 5), date(2026, 1, 9), "cuti_tahunan"),
        Absence(NIP, date(2026, 1, 6), date(2026, 1, 6), "dinas_luar"),
        Absence(NIP, date(2026, 1, 8), date(2026, 1, 8), "cuti_sakit", cancelled=True),
        Absence(NIP2, date(2026, 1, 5), date(2026, 1, 9), "tugas_belajar"),
    ]
    assert absence_on(records, NIP, date(2026, 1, 5)).kind == "cuti_tahunan"  # type: ignore[union-attr]
    assert absence_on(records, NIP, date(2026, 1, 6)).kind == "dinas_luar"  # type: ignore[union-attr]
    # the cancelled sick leave does not hide the annual leave under it
    assert absence_on(records, NIP, date(2026, 1, 8)).kind == "cuti_tahunan"  # type: ignore[union-attr]
    assert absence_on(records, NIP, date(2026, 1, 12)) is None
    assert absence_on(records, "000", date(2026, 1, 6)) is None


def test_absence_validation() -> None:
    with pytest.raises(ValueError, match="tidak dikenal"):
        Absence(NIP, MON, MON, "bolos")
    with pytest.raises(ValueError, match="sebelum tanggal mulai"):
        Absence(NIP, MON, MON - timedelta(days=1), "cuti_tahunan")


# --- anomalies --------------------------------------------------------------------------


def test_foreign_device_scans() -> None:
    scans = [
        Scan(NIP, wib(MON, 7, 0), "DISKOMINFO-1"),
        Scan(NIP2, wib(MON, 7, 5), "DISKOMINFO-1"),
        Scan(NIP, wib(MON, 16, 0), "UNKNOWN-9"),
    ]
    found = foreign_device_scans(
        scans, by_nip({NIP: "DISKOMINFO", NIP2: "DINKES"}), {"DISKOMINFO-1": "DISKOMINFO"}
    )
    assert [(a.kind, a.nip, a.device_sn) for a in found] == [
        (ANOMALY_FOREIGN_DEVICE, NIP2, "DISKOMINFO-1")
    ]
    assert "DINKES" in found[0].detail and found[0].day == MON


def by_nip(opds: dict[str, str]) -> OpdOn:
    """One OPD per NIP whatever the date (a single open period)."""
    return lambda nip, day: opds.get(nip)


def test_foreign_device_scans_use_the_opd_of_the_scans_date() -> None:
    # NIP moves from DISKOMINFO to DINKES on Tuesday; NIP2 is not active on Tuesday.
    def opd_on(nip: str, day: date) -> str | None:
        if nip == NIP:
            return "DISKOMINFO" if day < MON + timedelta(days=1) else "DINKES"
        return "DINKES" if day == MON else None

    tue = MON + timedelta(days=1)
    scans = [
        Scan(NIP, wib(MON, 7, 0), "DISKOMINFO-1"),  # still DISKOMINFO's: not foreign
        Scan(NIP, wib(tue, 7, 0), "DISKOMINFO-1"),  # DINKES's from Tuesday: foreign
        Scan(NIP2, wib(tue, 7, 0), "DISKOMINFO-1"),  # not active: nothing to compare
    ]
    found = foreign_device_scans(scans, opd_on, {"DISKOMINFO-1": "DISKOMINFO"})
    assert [(a.nip, a.day, a.opd) for a in found] == [(NIP, tue, "DINKES")]


def test_device_hops_within_window_at_other_location() -> None:
    locations = {"A1": "Gedung A", "A2": "Gedung A", "B1": "Gedung B"}
    scans = [
        Scan(NIP, wib(MON, 7, 0), "A1"),
        Scan(NIP, wib(MON, 7, 2), "A2"),  # same building: not an anomaly
        Scan(NIP, wib(MON, 7, 9), "B1"),  # 7 minutes after A2, another building
        Scan(NIP2, wib(MON, 7, 0), "A1"),
        Scan(NIP2, wib(MON, 7, 40), "B1"),  # 40 minutes later: outside the window
    ]
    found = device_hops(scans, timedelta(minutes=15), locations)
    assert [(a.kind, a.nip, a.device_sn, a.at) for a in found] == [
        (ANOMALY_DEVICE_HOP, NIP, "B1", wib(MON, 7, 9))
    ]
    assert "7 menit" in found[0].detail


def test_device_hops_without_locations_compare_devices() -> None:
    scans = [Scan(NIP, wib(MON, 7, 0), "A1"), Scan(NIP, wib(MON, 7, 1), "A2")]
    assert len(device_hops(scans, timedelta(minutes=5))) == 1


BRIDGE_CAL = WorkCalendar.from_dates([date(2026, 1, 16)])  # a Friday holiday


def test_bridge_days() -> None:
    assert is_holiday_bridge_day(BRIDGE_CAL, date(2026, 1, 15))  # Thursday before
    assert is_holiday_bridge_day(BRIDGE_CAL, date(2026, 1, 19))  # Monday after Fri-Sun
    assert not is_holiday_bridge_day(BRIDGE_CAL, date(2026, 1, 9))  # an ordinary Friday
    assert not is_holiday_bridge_day(BRIDGE_CAL, date(2026, 1, 20))
    assert not is_holiday_bridge_day(BRIDGE_CAL, date(2026, 1, 16))  # the holiday itself


def _facts(opd_nips: list[str], day: date, absent: int, status: str = STATUS_TK) -> list[DayFacts]:
    out = []
    for i, nip in enumerate(opd_nips):
        s = status if i < absent else STATUS_PRESENT
        out.append(DayFacts(nip, day, s, None, None, None, None))
    return out


def test_holiday_bridge_absences() -> None:
    opd_a = [f"A{i}" for i in range(10)]
    opd_b = [f"B{i}" for i in range(10)]
    employee_opd = by_nip({n: "A" for n in opd_a} | {n: "B" for n in opd_b})
    facts: list[DayFacts] = []
    normal_days = [date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 14)]
    for n, day in enumerate(normal_days):
        facts += _facts(opd_a, day, 1 if n == 0 else 0)  # A normal: 1 of 30 = 3.3%
        facts += _facts(opd_b, day, 1)  # B normal: 3 of 30 = 10%
    facts += _facts(opd_a, date(2026, 1, 15), 4)  # A Thursday: 4/10 = 40% >= 2 x 3.3%
    facts += _facts(opd_a, date(2026, 1, 19), 0)  # A Monday: 0%
    facts += _facts(opd_b, date(2026, 1, 15), 1)  # B Thursday: 10% < 2 x 10%
    found = holiday_bridge_absences(facts, employee_opd, BRIDGE_CAL)
    assert [(a.kind, a.opd, a.day) for a in found] == [
        (ANOMALY_HOLIDAY_BRIDGE, "A", date(2026, 1, 15))
    ]
    assert "4 dari 10" in found[0].detail and "40,0%" in found[0].detail
    assert "3,3%" in found[0].detail  # 1/30 = 3.33..%


def test_holiday_bridge_ignores_granted_leave_and_small_opds() -> None:
    opd = [f"C{i}" for i in range(10)]
    employee_opd = by_nip(dict.fromkeys(opd, "C"))
    leave = _facts(opd, date(2026, 1, 15), 6, "cuti_tahunan")  # granted leave: not suspect
    assert holiday_bridge_absences(leave, employee_opd, BRIDGE_CAL) == []
    small = _facts(opd[:3], date(2026, 1, 15), 3)  # 3 facts < min_employees 5
    assert holiday_bridge_absences(small, employee_opd, BRIDGE_CAL) == []
    # with a lower threshold the same small OPD is flagged: 3/3 = 100% vs 0% normal
    assert len(holiday_bridge_absences(small, employee_opd, BRIDGE_CAL, min_employees=3)) == 1
    # 1 of 5 = 20% on the bridge day vs 0% normal, but under a min_rate of 25%
    few = _facts(opd[:5], date(2026, 1, 15), 1)
    assert holiday_bridge_absences(few, employee_opd, BRIDGE_CAL, min_rate=Decimal("0.25")) == []
    assert len(holiday_bridge_absences(few, employee_opd, BRIDGE_CAL)) == 1


def test_holiday_bridge_counts_each_day_under_that_days_opd() -> None:
    # Ten employees: in OPD A on the normal days (12-14 Jan, 3 of 10 absent each day: 30%),
    # transferred to OPD B from the 15th, where 4 of 10 are absent (40%). Counted under
    # one OPD, 40% < 2 x 30% would pass unflagged; per date the bridge day is B's, whose
    # normal rate is 0 (no other day), and 40% >= 5% is flagged.
    nips = [f"T{i}" for i in range(10)]
    facts: list[DayFacts] = []
    for day in (date(2026, 1, 12), date(2026, 1, 13), date(2026, 1, 14)):
        facts += _facts(nips, day, 3)
    facts += _facts(nips, date(2026, 1, 15), 4)

    def opd_on(nip: str, day: date) -> str | None:
        return "A" if day < date(2026, 1, 15) else "B"

    found = holiday_bridge_absences(facts, opd_on, BRIDGE_CAL)
    assert [(a.opd, a.day) for a in found] == [("B", date(2026, 1, 15))]
    assert "4 dari 10" in found[0].detail
    # Not active on the bridge day: those facts count for no OPD.
    assert holiday_bridge_absences(facts, lambda n, d: None, BRIDGE_CAL) == []


def test_device_clock_anomalies() -> None:
    rec = wib(MON, 8, 0)
    scans = [
        Scan(NIP, datetime(2000, 1, 1, 0, 0, tzinfo=WIB) - timedelta(days=1), "OLD", rec),
        Scan(NIP2, datetime(1999, 6, 1, 7, 0, tzinfo=WIB), "OLD", rec),
        Scan(NIP, rec + timedelta(hours=1), "FAST", rec),
        Scan(NIP, rec - timedelta(minutes=1), "GOOD", rec),
        Scan(NIP, rec + timedelta(hours=1), "NORECEIPT", None),
    ]
    found = device_clock_anomalies(scans)
    assert [(a.kind, a.device_sn) for a in found] == [
        (ANOMALY_DEVICE_CLOCK, "FAST"),
        (ANOMALY_DEVICE_CLOCK, "OLD"),
    ]
    assert found[1].detail.startswith("mesin OLD: 2 pindaian")
