"""The working day (docs/rules.md, "The working day"): pure rules of attendance.

No framework, no wall clock: every "now" is an argument. Attendance only states facts
(times, minutes late/early, status); the TPP service turns facts into money.

Decision fixed here (the brief left it open): on a day decided by an absence record,
`minutes_late` and `minutes_early` are 0 — "no late or early deduction" — while
`check_in`/`check_out` still show the scans that were kept. On a tanpa_keterangan day
both minutes are None (there is no check-in or check-out to measure). The TPP engine
reads the minutes only when the status is present.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Protocol

from contracts.nip import nip_refusal
from services.kernel.calendar import WIB, WorkCalendar, year_problem
from services.kernel.uploads import DOCUMENT_TYPES as DOCUMENT_TYPES  # the kit's sniffing
from services.kernel.uploads import document_kind as document_kind
from services.kernel.vocabulary import (
    ABSENCE_KINDS,
    STATUS_NON_WORKING,
    STATUS_PRESENT,
    STATUS_TK,
)

_MINUTE = timedelta(minutes=1)


def _to_time(value: str | time, what: str) -> time:
    if isinstance(value, time):
        return value
    try:
        hh, mm = str(value).strip().split(":")[:2]
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"jam {what} '{value}' tidak valid; gunakan format HH:MM") from None


class OfficeHoursRules(Protocol):
    """What WorkHours.from_ruleset reads of a ruleset."""

    @property
    def work_start(self) -> str | time: ...
    @property
    def work_end(self) -> str | time: ...
    @property
    def single_scan_cutoff(self) -> str | time: ...


@dataclass(frozen=True)
class WorkHours:
    """Office hours in WIB. Defaults are Perwali Kota Bekasi 69/2019 (07:30–16:00)."""

    start: time = time(7, 30)
    end: time = time(16, 0)
    single_scan_cutoff: time = time(12, 0)

    @classmethod
    def from_ruleset(cls, rules: OfficeHoursRules) -> WorkHours:
        """Duck-typed: `rules.work_start`, `.work_end`, `.single_scan_cutoff` ("HH:MM" or time)."""
        return cls(
            start=_to_time(rules.work_start, "masuk"),
            end=_to_time(rules.work_end, "pulang"),
            single_scan_cutoff=_to_time(rules.single_scan_cutoff, "batas satu pindaian"),
        )


@dataclass(frozen=True)
class DayFacts:
    nip: str
    day: date
    status: str  # STATUS_PRESENT, STATUS_TK or an absence kind
    check_in: datetime | None
    check_out: datetime | None
    minutes_late: int | None  # None when there is no check-in (0 on absence days)
    minutes_early: int | None  # None when there is no check-out (0 on absence days)


def _require_aware(ts: datetime) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("waktu pindaian harus memiliki zona waktu")


def wib_date(ts: datetime) -> date:
    """The business date (WIB) of an instant."""
    _require_aware(ts)
    return ts.astimezone(WIB).date()


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=WIB)


def minutes_late(check_in: datetime, hours: WorkHours) -> int:
    """Whole minutes from the start of work to `check_in`, rounded down; 0 when on time."""
    start = _at(wib_date(check_in), hours.start)
    return max(0, (check_in - start) // _MINUTE)


def minutes_early(check_out: datetime, hours: WorkHours) -> int:
    """Whole minutes from `check_out` to the end of work, rounded down; 0 when not early."""
    end = _at(wib_date(check_out), hours.end)
    return max(0, (end - check_out) // _MINUTE)


def _whole_second(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(microsecond=0)


def close_day(
    nip: str,
    day: date,
    scans: Iterable[datetime],
    absence_kind: str | None,
    calendar: WorkCalendar,
    hours: WorkHours,
) -> DayFacts | None:
    """The facts of `day` for `nip`; None when `day` is not a working day.

    Scans of other WIB dates are ignored; scans within the same second count once.
    """
    if absence_kind is not None and (problem := absence_kind_problem(absence_kind)):
        raise ValueError(problem)
    if not calendar.is_working_day(day):
        return None
    todays = sorted({_whole_second(s) for s in scans if wib_date(s) == day})
    todays_wib = [s.astimezone(WIB) for s in todays]
    check_in: datetime | None = None
    check_out: datetime | None = None
    if len(todays_wib) == 1:
        only = todays_wib[0]
        if only.time() < hours.single_scan_cutoff:
            check_in = only
        else:
            check_out = only
    elif todays_wib:
        check_in, check_out = todays_wib[0], todays_wib[-1]

    if absence_kind is not None:
        # The absence record decides; scans are kept but carry no deduction.
        return DayFacts(nip, day, absence_kind, check_in, check_out, 0, 0)
    if check_in is None and check_out is None:
        return DayFacts(nip, day, STATUS_TK, None, None, None, None)
    return DayFacts(
        nip,
        day,
        STATUS_PRESENT,
        check_in,
        check_out,
        minutes_late(check_in, hours) if check_in else None,
        minutes_early(check_out, hours) if check_out else None,
    )


# --- scan times -------------------------------------------------------------------------

_SCAN_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


# A scan time outside [1900, 3000) UTC is refused (a bad line, never a failed batch): no
# clock of ours says such a thing, and times nearer the ends of `datetime` overflow when
# shifted to UTC or WIB, to the days around them or to the calendar's neighbouring years.
SCAN_TIME_MIN = datetime(1900, 1, 1, tzinfo=UTC)
SCAN_TIME_END = datetime(3000, 1, 1, tzinfo=UTC)


def scan_time_problem(ts: datetime) -> str | None:
    """Why `ts` cannot be stored as a scan time (Bahasa Indonesia), or None."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        return "waktu pindaian harus memiliki zona waktu"
    try:
        inside = SCAN_TIME_MIN <= ts.astimezone(UTC) < SCAN_TIME_END
    except OverflowError:
        inside = False
    if inside:
        return None
    return (
        f"waktu '{ts.replace(tzinfo=None).isoformat(sep=' ')}' di luar rentang tahun "
        f"{SCAN_TIME_MIN.year}-{SCAN_TIME_END.year - 1} (jam mesin salah)"
    )


def parse_scan_time(text: str) -> datetime:
    """ "YYYY-MM-DD HH:MM:SS" (WIB) or ISO 8601 with an offset -> a tz-aware datetime."""
    s = (text or "").strip()
    if not _SCAN_TIME.match(s):
        raise ValueError(
            f"waktu '{text}' tidak valid; gunakan format YYYY-MM-DD HH:MM:SS "
            "(WIB) atau ISO 8601 dengan zona waktu"
        )
    try:
        ts = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"waktu '{text}' bukan tanggal/jam yang ada") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=WIB)  # no offset given: the business time zone
    if problem := scan_time_problem(ts):
        raise ValueError(problem)
    return ts


# --- scans, dedup, flags ----------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """One fingerprint: who, when, on which device, and when the server received it."""

    nip: str
    ts: datetime
    device_sn: str | None = None
    received_at: datetime | None = None


def scan_key(nip: str, ts: datetime) -> str:
    """Deterministic dedup key: the same NIP in the same second is one scan, on any device."""
    _require_aware(ts)
    return f"{nip}@{_whole_second(ts).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def dedup_scans(scans: Iterable[Scan]) -> list[Scan]:
    """Keep the first scan of each (NIP, second), across devices; order is kept."""
    seen: set[str] = set()
    kept: list[Scan] = []
    for scan in scans:
        key = scan_key(scan.nip, scan.ts)
        if key not in seen:
            seen.add(key)
            kept.append(scan)
    return kept


FLAG_FUTURE = "future"
FLAG_CLOCK_WRONG = "clock_wrong"
FLAG_MESSAGES: dict[str, str] = {
    FLAG_FUTURE: "waktu pindaian lebih maju dari waktu server (jam mesin terlalu cepat)",
    FLAG_CLOCK_WRONG: "jam mesin salah (tahun sebelum 2000 atau jauh di masa depan)",
}
_FAR_FUTURE = timedelta(days=366)


def flag_scan(
    ts: datetime, received_at: datetime, max_future: timedelta = timedelta(minutes=5)
) -> str | None:
    """A flag when the device clock cannot be right, else None.

    FLAG_CLOCK_WRONG: year before 2000 (a reset clock) or more than a year ahead of the
    server; FLAG_FUTURE: ahead of the server by more than `max_future`. Old scans are not
    flagged: a device that was offline uploads its backlog later, legitimately.
    """
    _require_aware(ts)
    _require_aware(received_at)
    if ts.astimezone(WIB).year < 2000 or ts - received_at > _FAR_FUTURE:
        return FLAG_CLOCK_WRONG
    if ts - received_at > max_future:
        return FLAG_FUTURE
    return None


def affected_days(scans: Iterable[datetime | Scan]) -> set[date]:
    """The WIB dates touched by `scans` (datetimes or Scan), to re-close after a backlog."""
    return {wib_date(s.ts if isinstance(s, Scan) else s) for s in scans}


def affected_nip_days(scans: Iterable[Scan]) -> set[tuple[str, date]]:
    """The (NIP, WIB date) pairs touched by `scans`: exactly the days to re-close."""
    return {(s.nip, wib_date(s.ts)) for s in scans}


# --- absences ---------------------------------------------------------------------------


def absence_kind_problem(kind: str) -> str | None:
    """None for a known jenis, else the refusal (the form, the import and simulate say it)."""
    if kind in ABSENCE_KINDS:
        return None
    known = ", ".join(sorted(ABSENCE_KINDS))
    return f"jenis ketidakhadiran '{kind}' tidak dikenal; pilih salah satu: {known}"


_DAY_FIRST_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_absence_date(text: str, field: str) -> date:
    """'2026-01-05' or the Indonesian day-first '05/01/2026'; ValueError in Bahasa."""
    value = (text or "").strip()
    if not value:
        raise ValueError(f"kolom {field} kosong")
    m = _DAY_FIRST_DATE.match(value)
    try:
        day = date(int(m[3]), int(m[2]), int(m[1])) if m else date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{field} '{value}' bukan tanggal yang valid (YYYY-MM-DD atau DD/MM/YYYY)"
        ) from None
    if problem := year_problem(day.year):
        raise ValueError(f"{field} '{value}' tidak valid: {problem}")
    return day


# The columns of the absence import, in order (the form's fields have the same names).
ABSENCE_COLUMNS = ("nip", "mulai", "selesai", "jenis")


def parse_absence(
    nip: str, mulai: str, selesai: str, jenis: str, max_days: int
) -> tuple[str, date, date, str]:
    """One absence as typed (the form, the CSV import, `sikerja simulate`): (nip, start, end,
    kind) or ValueError with the reason in Bahasa Indonesia."""
    nip = (nip or "").strip()
    if refusal := nip_refusal(nip):
        raise ValueError(refusal)
    start = parse_absence_date(mulai, "mulai")
    end = parse_absence_date(selesai, "selesai")
    kind = (jenis or "").strip().lower()
    if problem := absence_kind_problem(kind):
        raise ValueError(problem)
    if end < start:
        raise ValueError("tanggal selesai tidak boleh sebelum tanggal mulai")
    if (end - start).days + 1 > max_days:
        raise ValueError(f"rentang ketidakhadiran lebih dari {max_days} hari")
    return nip, start, end, kind


@dataclass(frozen=True)
class Absence:
    """An absence record for the inclusive date range [start, end]."""

    nip: str
    start: date
    end: date
    kind: str
    cancelled: bool = False

    def __post_init__(self) -> None:
        if problem := absence_kind_problem(self.kind):
            raise ValueError(problem)
        if self.end < self.start:
            raise ValueError("tanggal selesai tidak boleh sebelum tanggal mulai")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def absence_on(absences: Iterable[Absence], nip: str, day: date) -> Absence | None:
    """The record deciding `day` for `nip`: the latest (last given) non-cancelled one.

    `absences` must come in recording order (the store's insertion order).
    """
    found: Absence | None = None
    for a in absences:
        if a.nip == nip and not a.cancelled and a.covers(day):
            found = a
    return found


# --- anomalies for the Inspektorat ------------------------------------------------------

ANOMALY_FOREIGN_DEVICE = "foreign_device"
ANOMALY_DEVICE_HOP = "device_hop"
ANOMALY_HOLIDAY_BRIDGE = "holiday_bridge_absence"
ANOMALY_DEVICE_CLOCK = "device_clock"


@dataclass(frozen=True)
class Anomaly:
    kind: str
    detail: str  # Bahasa Indonesia, for the auditor
    nip: str | None = None
    opd: str | None = None
    device_sn: str | None = None
    day: date | None = None
    at: datetime | None = None


OpdOn = Callable[[str, date], str | None]  # (NIP, date) -> the OPD of that date's period


def foreign_device_scans(
    scans: Iterable[Scan], opd_on: OpdOn, device_opd: Mapping[str, str]
) -> list[Anomaly]:
    """Scans on a device that belongs to another OPD than the employee's on that date.

    Scans whose employee (on that date) or device has no known OPD are skipped: nothing to
    compare.
    """
    found: list[Anomaly] = []
    for s in scans:
        own = opd_on(s.nip, wib_date(s.ts))
        dev = device_opd.get(s.device_sn or "")
        if own is None or dev is None or own == dev:
            continue
        found.append(
            Anomaly(
                ANOMALY_FOREIGN_DEVICE,
                f"NIP {s.nip} (OPD {own}) memindai di mesin {s.device_sn} milik OPD {dev}",
                nip=s.nip,
                opd=own,
                device_sn=s.device_sn,
                day=wib_date(s.ts),
                at=s.ts,
            )
        )
    return found


def device_hops(
    scans: Iterable[Scan],
    window: timedelta,
    device_location: Mapping[str, str] | None = None,
) -> list[Anomaly]:
    """The same NIP on two devices at different locations within `window`.

    `device_location` maps a device SN to its location; devices without a known location
    count as their own location. One anomaly per consecutive pair of scans.
    """
    locations = device_location or {}

    def where(sn: str | None) -> str:
        return locations.get(sn or "", sn or "")

    by_nip: dict[str, list[Scan]] = defaultdict(list)
    for s in scans:
        if s.device_sn is not None:
            by_nip[s.nip].append(s)
    found: list[Anomaly] = []
    for nip, items in sorted(by_nip.items()):
        items.sort(key=lambda s: s.ts)
        for a, b in pairwise(items):
            if b.ts - a.ts <= window and where(a.device_sn) != where(b.device_sn):
                gap = int((b.ts - a.ts).total_seconds() // 60)
                found.append(
                    Anomaly(
                        ANOMALY_DEVICE_HOP,
                        f"NIP {nip} memindai di mesin {a.device_sn} ({where(a.device_sn)}) "
                        f"lalu di mesin {b.device_sn} ({where(b.device_sn)}) "
                        f"dalam {gap} menit",
                        nip=nip,
                        device_sn=b.device_sn,
                        day=wib_date(b.ts),
                        at=b.ts,
                    )
                )
    return found


# Statuses that suggest a stretched holiday; granted annual leave is not suspicious.
SUSPECT_ABSENCE_STATUSES: frozenset[str] = frozenset({STATUS_TK, "izin_tidak_sah", "cuti_sakit"})


def _non_working_run_has_holiday(calendar: WorkCalendar, day: date, step: int) -> bool:
    d = day + timedelta(days=step)
    for _ in range(31):
        if calendar.is_working_day(d):
            return False
        if d in calendar.holidays:
            return True
        d += timedelta(days=step)
    return False


def is_holiday_bridge_day(calendar: WorkCalendar, day: date) -> bool:
    """A working day right before or after a stretch of days off that holds a holiday.

    Weekends alone do not count: a Friday before an ordinary weekend is not a bridge day,
    a Friday before a Monday holiday is.
    """
    return calendar.is_working_day(day) and (
        _non_working_run_has_holiday(calendar, day, 1)
        or _non_working_run_has_holiday(calendar, day, -1)
    )


def holiday_bridge_absences(
    facts: Iterable[DayFacts],
    opd_on: OpdOn,
    calendar: WorkCalendar,
    ratio: Decimal = Decimal(2),
    min_employees: int = 5,
    min_rate: Decimal = Decimal("0.05"),
    suspect: frozenset[str] = SUSPECT_ABSENCE_STATUSES,
) -> list[Anomaly]:
    """OPD-days right before/after holidays whose absence rate is unusually high.

    An OPD's normal rate is its share of `suspect` statuses over its other working days
    in `facts`. A bridge day is flagged when its rate is at least `min_rate` and at least
    `ratio` times the normal rate, and at least `min_employees` facts exist for that day.
    """
    normal: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])  # opd -> [absent, total]
    # (opd, day) -> [absent, total]
    bridge: defaultdict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        opd = opd_on(f.nip, f.day)  # the OPD of that date; None: not active then
        if opd is None or f.status == STATUS_NON_WORKING:
            continue
        bucket = bridge[(opd, f.day)] if is_holiday_bridge_day(calendar, f.day) else normal[opd]
        bucket[0] += f.status in suspect
        bucket[1] += 1
    found: list[Anomaly] = []
    for (opd, day), (absent, total) in sorted(bridge.items()):
        if total < min_employees:
            continue
        rate = Decimal(absent) / Decimal(total)
        n_absent, n_total = normal[opd]
        base = Decimal(n_absent) / Decimal(n_total) if n_total else Decimal(0)
        if rate >= min_rate and rate >= base * ratio:
            found.append(
                Anomaly(
                    ANOMALY_HOLIDAY_BRIDGE,
                    f"OPD {opd} pada {day.isoformat()} (sekitar hari libur): "
                    f"{absent} dari {total} pegawai tidak hadir ({_pct(rate)}), "
                    f"biasanya {_pct(base)}",
                    opd=opd,
                    day=day,
                )
            )
    return found


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.1'))}%".replace(".", ",")


def device_clock_anomalies(
    scans: Iterable[Scan], max_future: timedelta = timedelta(minutes=5)
) -> list[Anomaly]:
    """One anomaly per device whose scans carry a clock flag (see flag_scan)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[str, Scan] = {}
    for s in scans:
        if s.received_at is None:
            continue
        flag = flag_scan(s.ts, s.received_at, max_future)
        if flag is None:
            continue
        sn = s.device_sn or "?"
        counts[sn][flag] += 1
        first.setdefault(sn, s)
    found: list[Anomaly] = []
    for sn in sorted(counts):
        flags = sorted(counts[sn].items())
        parts = ", ".join(f"{n} pindaian: {FLAG_MESSAGES[f]}" for f, n in flags)
        found.append(
            Anomaly(ANOMALY_DEVICE_CLOCK, f"mesin {sn}: {parts}", device_sn=sn, at=first[sn].ts)
        )
    return found


# --- absurd scan rates -------------------------------------------------------------------


def scan_key_parts(key: str) -> tuple[str, datetime]:
    """The NIP and UTC second of a scan_key."""
    nip, _, when = key.partition("@")
    return nip, datetime.fromisoformat(when)


def excess_scans(total: int, new: int, limit: int) -> int:
    """How many of the `new` scans that brought a NIP-day to `total` lie beyond `limit`."""
    return max(0, min(new, total - limit))


def crowded_minutes(times: Iterable[datetime], limit: int) -> dict[datetime, int]:
    """The minutes (UTC) holding more than `limit` of `times`, with their count: more than
    one reader can take (a verification takes about a second, and people queue)."""
    per_minute: dict[datetime, int] = defaultdict(int)
    for ts in times:
        per_minute[ts.astimezone(UTC).replace(second=0, microsecond=0)] += 1
    return {m: n for m, n in sorted(per_minute.items()) if n > limit}


# --- device outages (RULES.md "Annulled cuts": a proposal for BKPSDM) ---------------------


@dataclass(frozen=True)
class DeviceOutage:
    """No device of `opd` sent anything on `day` while `expected` of its employees were due
    at the office: a proposal that BKPSDM may confirm as an OPD annulment in tpp."""

    opd: str
    day: date
    devices: tuple[str, ...]  # the OPD's devices registered by then, all silent
    expected: int

    @property
    def reference(self) -> str:
        """What an annulment cites as the proposal it confirms."""
        return f"gangguan-mesin:{self.opd}:{self.day.isoformat()}"

    @property
    def reason(self) -> str:
        return (
            f"Tidak ada data dari {len(self.devices)} mesin sidik jari OPD {self.opd} pada "
            f"{self.day:%d-%m-%Y}, padahal {self.expected} pegawai wajib hadir"
        )


def device_outages(
    days: Iterable[date],
    calendar: WorkCalendar,
    devices: Iterable[tuple[str, str, date]],
    heard: set[tuple[str, date]],
    expected: Mapping[tuple[str, date], int],
) -> list[DeviceOutage]:
    """The (OPD, working day) pairs on which every device of the OPD registered by then
    (`devices`: sn, opd, WIB date registered) was silent (`heard`: (sn, day) with any scan
    or contact) while `expected[(opd, day)]` employees were due (active there, not absent).

    A contact without scans (heartbeats only) is heard: the device was up, so nobody
    scanning that day is people not scanning, judged per employee, not an outage."""
    by_opd: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for sn, opd, since in devices:
        by_opd[opd].append((sn, since))
    found: list[DeviceOutage] = []
    for day in sorted(set(days)):
        if not calendar.is_working_day(day):
            continue
        for opd in sorted(by_opd):
            present = sorted(sn for sn, since in by_opd[opd] if since <= day)
            due = expected.get((opd, day), 0)
            if not present or due == 0:
                continue
            if not any((sn, day) in heard for sn in present):
                found.append(DeviceOutage(opd, day, tuple(present), due))
    return found
