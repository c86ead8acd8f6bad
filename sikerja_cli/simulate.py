"""`sikerja simulate`: the TPP of a month from CSV files, with the live services' own rules.

Scans become day facts through the attendance domain (`close_day`), day facts become money
through the TPP domain (`compute_statement`): there is no second implementation here, only
CSV reading. Files are streamed with the csv module and scans are grouped per (NIP, day),
so a city-sized month (15,000 ASN, ~1M scans) fits in a minute and well under 2 GiB.

Input files (UTF-8 CSV with a header row) in the data directory:
  employees.csv  nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu
                 [,aktif_mulai,aktif_sampai]  (optional, YYYY-MM-DD, empty = open; several
                 rows per NIP = its employment periods, RULES.md "Employment within a month")
  scans.csv      nip,waktu            (YYYY-MM-DD HH:MM:SS in WIB, or ISO 8601 with offset)
  absences.csv   nip,mulai,selesai,jenis   (optional; inclusive dates)
  reports.csv    nip,tanggal,status        (optional; approved/rejected/pending)
  holidays.csv   tanggal,keterangan        (optional; replaces the national calendar)
  annulments.csv nip,opd,tanggal,kode,alasan (optional; BKPSDM's annulled cuts, exactly one
                 of nip and opd; a bad line is listed in `rejected_inputs`, the rest apply)

A file that cannot be read as specified (missing file or column, bad encoding, a value
not in its format) raises InputError with the file and line. Rows that are well formed
but refused by the rules (unknown NIP, a report that could not have been filed) are left
out and listed in `rejected_inputs`; so is an employees.csv row whose period overlaps an
earlier row of its NIP (the NIP's other rows still count).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from contracts.nip import nip_unregistered
from services.attendance.config import AttendanceConfig
from services.attendance.domain import Absence, WorkHours, close_day, parse_absence, wib_date
from services.attendance.importer import parse_import_time
from services.kernel import bahasa
from services.kernel.calendar import WorkCalendar, month_days, parse_period
from services.kernel.employment import Period, last_active, latest, overlap_problem, period_on
from services.kernel.ruleset import (
    DEFAULT_REGION,
    RuleSet,
    available_rulesets,
    load_ruleset,
    ruleset_in_force,
)
from services.kernel.uploads import csv_lines
from services.siasn.domain import parse_employees
from services.tpp.domain import (
    Annulment,
    DayRecord,
    Statement,
    annulments_for,
    line_codes,
    month_statement,
    not_active_refusal,
    opd_empty_refusal,
    parse_annulment,
    report_filing_allowed,
)

REPORT_STATUSES = frozenset({"approved", "rejected", "pending"})

EMPLOYEES = "employees.csv"
SCANS = "scans.csv"
ABSENCES = "absences.csv"
REPORTS = "reports.csv"
HOLIDAYS = "holidays.csv"
ANNULMENTS = "annulments.csv"


class InputError(Exception):
    """A data file that cannot be read as specified; `line` is 1-based (header = 1)."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}, baris {line}" if line else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Employee:
    nip: str
    nama: str
    opd: str
    jabatan: str
    kelas_jabatan: str
    atasan_nip: str
    pagu: int


@dataclass(frozen=True)
class RejectedInput:
    file: str
    line: int
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class SimulationResult:
    period: str
    rules: RuleSet
    employees: dict[str, Employee]
    statements: list[Statement]  # sorted by NIP
    rejected_inputs: list[RejectedInput]
    # Bahasa sentences: the input looks incomplete for this period (no scans at all, or
    # employees with no scan and no absence), so TK lines may be a lack of data.
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "rules": self.rules.name,
            "warnings": self.warnings,
            "statements": [s.to_dict() for s in self.statements],
            "rejected_inputs": [r.to_dict() for r in self.rejected_inputs],
        }


# -- CSV reading ----------------------------------------------------------------------------


def _rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[tuple[int, list[str]]]:
    """(line number, values in the order of `required` then `optional`) for every non-empty
    row; an optional column the file does not have reads as ""."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(name, None, f"berkas tidak dapat dibuka: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(name, 1, "berkas kosong; baris judul kolom tidak ada") from None
            columns = [c.strip().lower() for c in header]
            missing = [c for c in required if c not in columns]
            if missing:
                raise InputError(name, 1, "kolom wajib tidak ada: " + ", ".join(missing))
            index = [columns.index(c) for c in required]
            width = max(index) + 1
            extra = [columns.index(c) if c in columns else -1 for c in optional]
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) < width:
                    raise InputError(
                        name,
                        reader.line_num,
                        f"baris hanya berisi {len(row)} kolom, diperlukan {len(columns)}",
                    )
                values = [row[i].strip() for i in index]
                values += [row[i].strip() if 0 <= i < len(row) else "" for i in extra]
                yield reader.line_num, values
        except UnicodeDecodeError:
            # Text is decoded in chunks, ahead of the csv reader: find the real line.
            raise InputError(
                name, _first_non_utf8_line(path), "berkas bukan teks UTF-8 yang valid"
            ) from None
        except csv.Error as exc:
            raise InputError(name, reader.line_num, f"format CSV rusak: {exc}") from None


def _first_non_utf8_line(path: Path) -> int | None:
    with path.open("rb") as raw:
        for number, chunk in enumerate(raw, start=1):
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


# The refusals of activity's migration import (POST /reports/import, services/activity/
# api.py), which reads the same reports.csv; tests/unit/test_simulate.py pins them equal.
REPORT_DATE_REFUSAL = "tanggal harus berformat YYYY-MM-DD"
REPORT_STATUS_REFUSAL = "status harus approved, pending atau rejected"
NOT_FILEABLE_REFUSAL = "tidak ada sidik jari atau dinas luar pada tanggal itu"


def _date(text: str, file: str, line: int) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(file, line, REPORT_DATE_REFUSAL) from None


EMPLOYEE_COLUMNS = ("nip", "nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu")
PERIOD_COLUMNS = ("aktif_mulai", "aktif_sampai")
# siasn's refusal of a second row of one NIP: here a second row is another period.


def _period_day(text: str, column: str, line: int) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(EMPLOYEES, line, f"{column} harus berformat YYYY-MM-DD") from None


def _read_employees(path: Path) -> tuple[dict[str, list[Period]], list[RejectedInput]]:
    """Each NIP's employment periods, oldest first, and the rows refused because their period
    overlaps an earlier row of the NIP (RULES.md: a per-line input error).

    The file's structure is checked here (columns, encoding, short rows, dates); the rows are
    then judged by siasn's own import rules and refused in its words. A row siasn refuses
    only beside the others (it passes alone) is an overlap, listed as a rejected input; any
    other refusal stops the run at its line."""
    read = list(_rows(path, EMPLOYEE_COLUMNS, PERIOD_COLUMNS))  # structure first
    text = path.read_text(encoding="utf-8-sig")
    _, refused = parse_employees(text)
    physical = text.splitlines()
    beside_others: dict[int, str] = {}
    for bad in refused:
        _, alone = parse_employees(physical[0] + "\n" + physical[bad.line - 1] + "\n")
        if alone:
            raise InputError(path.name, bad.line, alone[0].reason)
        beside_others[bad.line] = bad.reason
    periods: dict[str, list[Period]] = {}
    rejected: list[RejectedInput] = []
    for line, fields in read:
        nip, nama, opd, jabatan, kelas, atasan, pagu, mulai, sampai = fields
        first = _period_day(mulai, "aktif_mulai", line)
        last = _period_day(sampai, "aktif_sampai", line)
        known = periods.setdefault(nip, [])
        if problem := overlap_problem(known, first, last):
            rejected.append(RejectedInput(EMPLOYEES, line, f"NIP {nip}: {problem}"))
            continue
        if line in beside_others:  # e.g. an atasan cycle through other rows
            raise InputError(path.name, line, beside_others[line])
        # Values as siasn read them (parse_employees accepted the row above).
        known.append(Period(first, last, nama, opd, jabatan, int(kelas), atasan or None, int(pagu)))
    return {nip: sorted(ps, key=_first_day) for nip, ps in periods.items() if ps}, rejected


def _first_day(period: Period) -> date:
    return period.first or date.min


def _employee(nip: str, period: Period) -> Employee:
    return Employee(
        nip,
        period.nama,
        period.opd,
        period.jabatan,
        str(period.kelas_jabatan),
        period.atasan_nip or "",
        period.tpp_pagu,
    )


def _read_holidays(path: Path) -> WorkCalendar:
    days = {_date(text, path.name, line) for line, (text,) in _rows(path, ("tanggal",))}
    return WorkCalendar.from_dates(days)


# -- the simulation -------------------------------------------------------------------------


def _resolve_rules(rules: str | None, first_day: date) -> RuleSet:
    if rules:
        return load_ruleset(rules)
    # A past month is computed with the rule set that was in force on its first day.
    return ruleset_in_force(first_day, available_rulesets(), region=DEFAULT_REGION)


def run_simulation(data_dir: Path, period: str, rules: str | None = None) -> SimulationResult:
    """The statements of `period` for every employee in `data_dir`.

    Raises InputError (bad files), ValueError (bad period) or RuleSetError (bad rule set).
    """
    year, month = parse_period(period)
    days = list(month_days(year, month))
    first, last = days[0], days[-1]
    ruleset = _resolve_rules(rules, first)
    hours = WorkHours.from_ruleset(ruleset)
    data_dir = Path(data_dir)
    for required in (EMPLOYEES, SCANS):
        if not (data_dir / required).is_file():
            raise InputError(required, None, f"berkas wajib tidak ada di {data_dir}")

    periods, rejected = _read_employees(data_dir / EMPLOYEES)
    employees = periods  # the NIPs the other files may name

    holidays_path = data_dir / HOLIDAYS
    calendar = (
        _read_holidays(holidays_path) if holidays_path.is_file() else WorkCalendar.indonesia([year])
    )

    # Absences: the last row covering a day decides it (the live service keeps the latest
    # record, see attendance.domain.absence_on).
    absence: dict[str, dict[date, str]] = {}
    absences_path = data_dir / ABSENCES
    if absences_path.is_file():
        cols = ("nip", "mulai", "selesai", "jenis")
        max_days = AttendanceConfig().max_absence_days  # the live service's limit
        for line, fields in _rows(absences_path, cols):
            try:  # read as attendance reads a typed or imported absence
                nip, start, end, kind = fields
                record = Absence(*parse_absence(nip, start, end, kind, max_days))
            except ValueError as exc:
                raise InputError(ABSENCES, line, str(exc)) from None
            if record.nip not in employees:
                rejected.append(RejectedInput(ABSENCES, line, nip_unregistered(record.nip)))
                continue
            nip = record.nip
            per_day = absence.setdefault(nip, {})
            for day in days:
                if record.covers(day):
                    per_day[day] = record.kind

    # Scans grouped per NIP and WIB date; only the period's dates are kept.
    scans: dict[str, dict[date, list[datetime]]] = {}
    other_months: set[str] = set()  # to say where the data is when the period has none
    for line, (nip, text) in _rows(data_dir / SCANS, ("nip", "waktu")):
        try:  # the live scan import's reading (ISO or day-first, WIB unless an offset)
            ts = parse_import_time(text)
        except ValueError as exc:
            raise InputError(SCANS, line, str(exc)) from None
        if nip not in employees:
            rejected.append(RejectedInput(SCANS, line, nip_unregistered(nip)))
            continue
        day = wib_date(ts)
        if first <= day <= last:
            scans.setdefault(nip, {}).setdefault(day, []).append(ts)
        else:
            other_months.add(f"{day.year:04d}-{day.month:02d}")

    approved: dict[str, set[date]] = {}
    reports_path = data_dir / REPORTS
    if reports_path.is_file():
        for line, (nip, day_s, status) in _rows(reports_path, ("nip", "tanggal", "status")):
            day = _date(day_s, REPORTS, line)
            status = status.lower()
            if status not in REPORT_STATUSES:
                raise InputError(REPORTS, line, REPORT_STATUS_REFUSAL)
            if nip not in employees:
                rejected.append(RejectedInput(REPORTS, line, nip_unregistered(nip)))
                continue
            if not first <= day <= last:
                continue  # another month: neither counted nor judged
            has_scan = day in scans.get(nip, {})
            if not report_filing_allowed(has_scan, absence.get(nip, {}).get(day)):
                rejected.append(
                    RejectedInput(
                        REPORTS,
                        line,
                        f"laporan NIP {nip} tanggal {day.isoformat()}: {NOT_FILEABLE_REFUSAL}",
                    )
                )
                continue
            if status == "approved":
                approved.setdefault(nip, set()).add(day)

    annulled = _read_annulments(data_dir / ANNULMENTS, employees, first, last, ruleset, rejected)

    period_key = f"{year:04d}-{month:02d}"
    working = [day for day in days if calendar.is_working_day(day)]
    statements: list[Statement] = []
    shown: dict[str, Employee] = {}  # as the statement's OPD: the last active working day's
    no_scans: dict[date, list[datetime]] = {}
    no_absence: dict[date, str] = {}
    for nip in sorted(periods):
        own = periods[nip]
        owner = last_active(own, working)
        if owner is None:  # no active working day: no statement (RULES.md)
            continue
        own_scans = scans.get(nip, no_scans)
        own_absence = absence.get(nip, no_absence)
        records: list[DayRecord] = []
        for day in working:
            if len(own) > 1 or not own[0].covers(day):  # one open period: every day
                if period_on(own, day) is None:
                    continue  # not active: attendance closes no day for them
            facts = close_day(
                nip, day, own_scans.get(day, ()), own_absence.get(day), calendar, hours
            )
            if facts is not None:
                records.append(
                    DayRecord(facts.day, facts.status, facts.minutes_late, facts.minutes_early)
                )
        found = month_statement(
            nip, period_key, own, working, records, approved.get(nip, set()), ruleset,
            _annulments_of(nip, annulled, periods),
        )  # fmt: skip
        assert found is not None  # owner is not None
        statements.append(found[0])
        shown[nip] = _employee(nip, found[1])
    for nip, own in periods.items():  # listed without a statement: their latest period
        if nip not in shown and (current := latest(own)) is not None:
            shown[nip] = _employee(nip, current)
    rejected.sort(key=lambda r: (r.file, r.line))
    paid = {s.nip: shown[s.nip] for s in statements}
    warnings = _warnings(period_key, paid, scans, absence, sorted(other_months))
    return SimulationResult(period_key, ruleset, shown, statements, rejected, warnings)


# -- annulments.csv (RULES.md "Annulled cuts") -----------------------------------------------

ANNULMENT_COLUMNS = ("nip", "opd", "tanggal", "kode", "alasan")


def _read_annulments(
    path: Path,
    employees: dict[str, list[Period]],
    first: date,
    last: date,
    rules: RuleSet,
    rejected: list[RejectedInput],
) -> list[Annulment]:
    """The annulments of the period; each bad line is added to `rejected` (read as the live
    tpp reads BKPSDM's form, `parse_annulment`) and the good ones still apply. A line of
    another month is neither applied nor judged beyond its shape."""
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            ANNULMENTS, _first_non_utf8_line(path), "berkas bukan teks UTF-8"
        ) from None
    lines = [ln for ln in csv_lines(text) if ln.fields and any(f.strip() for f in ln.fields)]
    if not lines:
        return []
    header = [c.strip().lower() for c in lines[0].fields]
    missing = [c for c in ANNULMENT_COLUMNS if c not in header]
    if missing:
        raise InputError(
            ANNULMENTS, lines[0].line_no, "kolom wajib tidak ada: " + ", ".join(missing)
        )
    index = [header.index(c) for c in ANNULMENT_COLUMNS]
    codes = line_codes(rules)
    opds = {p.opd for own in employees.values() for p in own}
    found: list[Annulment] = []
    for ln in lines[1:]:
        try:
            if ln.error:
                raise ValueError(ln.error)
            if len(ln.fields) <= max(index):
                raise ValueError(
                    f"baris hanya berisi {len(ln.fields)} kolom, diperlukan {len(header)}"
                )
            nip, opd, tanggal, kode, alasan = (ln.fields[i] for i in index)
            req = parse_annulment(tanggal, nip, opd, kode, alasan, lambda _: codes)
            if req.nip is not None and req.nip not in employees:
                raise ValueError(nip_unregistered(req.nip))
            if req.opd is not None and req.opd not in opds:
                raise ValueError(f"tidak ada pegawai OPD '{req.opd}' dalam {EMPLOYEES}")
            if first <= req.day <= last:  # as the live tpp: it must name someone active then
                _names_someone(req.day, req.nip, req.opd, employees)
        except ValueError as exc:
            rejected.append(RejectedInput(ANNULMENTS, ln.line_no, str(exc)))
            continue
        if first <= req.day <= last:
            found.append(
                Annulment(
                    f"{ANNULMENTS}:{ln.line_no}", req.day, req.nip, req.opd, req.code, req.reason
                )
            )
    return found


def _names_someone(
    day: date, nip: str | None, opd: str | None, employees: dict[str, list[Period]]
) -> None:
    """ValueError (the live tpp's 422 text) when the annulment names nobody whose period
    covers its date: the NIP is not active then, or nobody is in the OPD then."""
    if nip is not None:
        if period_on(employees[nip], day) is None:
            raise ValueError(not_active_refusal(nip, day))
    elif opd is not None and not any(
        (p := period_on(own, day)) is not None and p.opd == opd for own in employees.values()
    ):
        raise ValueError(opd_empty_refusal(opd, day))


def _annulments_of(
    nip: str, annulled: list[Annulment], periods: dict[str, list[Period]]
) -> list[Annulment]:
    """The annulments naming `nip`: by NIP, or by the OPD the employee was in on the date
    (their period of that date; none when not active)."""
    if not annulled:
        return []

    def opd_on(day: date) -> str | None:
        found = period_on(periods[nip], day)
        return found.opd if found is not None else None

    return annulments_for(nip, annulled, opd_on)


def _warnings(
    period: str,
    employees: dict[str, Employee],
    scans: dict[str, dict[date, list[datetime]]],
    absence: dict[str, dict[date, str]],
    other_months: list[str],
) -> list[str]:
    """Why a month of TK may be missing data rather than missing people."""
    if not scans:
        held = f" (berkas berisi periode {', '.join(other_months)})" if other_months else ""
        return [
            f"tidak ada pindaian pada periode {period} di {SCANS}{held}: setiap pegawai "
            "tanpa ketidakhadiran dihitung tanpa keterangan (TK) pada setiap hari kerja"
        ]
    empty = [nip for nip in sorted(employees) if nip not in scans and not absence.get(nip)]
    if not empty:
        return []
    shown = ", ".join(empty[:10]) + (f" dan {len(empty) - 10} lainnya" if len(empty) > 10 else "")
    return [
        f"{len(empty)} dari {len(employees)} pegawai tidak punya pindaian maupun "
        f"ketidakhadiran pada periode {period} dan dihitung tanpa keterangan (TK) pada setiap "
        f"hari kerja: {shown}"
    ]


# -- output ---------------------------------------------------------------------------------


def render_json(result: SimulationResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"


_TABLE_HEAD = (
    "NIP",
    "Nama",
    "Pagu",
    "Disiplin",
    "Produktivitas",
    "Pot. Hadir",
    "Pot. LKH",
    "Bersih",
)


def render_table(result: SimulationResult) -> str:
    """A plain-text summary: one row per ASN, totals, then the rejected inputs."""
    rows: list[tuple[str, ...]] = []
    totals = [0, 0, 0, 0, 0, 0]
    for s in result.statements:
        nums = (
            s.pagu,
            s.discipline,
            s.productivity,
            s.attendance_deduction,
            s.productivity_deduction,
            s.net,
        )
        totals = [t + n for t, n in zip(totals, nums, strict=True)]
        rows.append((s.nip, result.employees[s.nip].nama, *(bahasa.ribuan(n) for n in nums)))
    rows.append(("JUMLAH", f"{len(result.statements)} ASN", *(bahasa.ribuan(n) for n in totals)))
    widths = [max(len(r[i]) for r in [_TABLE_HEAD, *rows]) for i in range(len(_TABLE_HEAD))]

    def fmt(row: tuple[str, ...]) -> str:
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(row))]
        return "  ".join(left + right).rstrip()

    out = [
        f"Simulasi TPP periode {result.period} — aturan {result.rules.name}",
        "",
        fmt(_TABLE_HEAD),
        "  ".join("-" * w for w in widths),
        *(fmt(r) for r in rows[:-1]),
        "  ".join("-" * w for w in widths),
        fmt(rows[-1]),
    ]
    if result.rejected_inputs:
        out += ["", f"Input ditolak ({len(result.rejected_inputs)}):"]
        out += [f"- {r.file}, baris {r.line}: {r.reason}" for r in result.rejected_inputs]
    return "\n".join(out) + "\n"


_CSV_HEAD = (
    "nip",
    "nama",
    "opd",
    "pagu",
    "disiplin",
    "produktivitas",
    "potongan_kehadiran",
    "potongan_lkh",
    "tpp_bersih",
    "hari_wajib_lapor",
    "hari_laporan_disetujui",
)


def render_csv(result: SimulationResult) -> str:
    """One row per ASN with a header row; amounts as plain integer rupiah."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_HEAD)
    for s in result.statements:
        emp = result.employees[s.nip]
        writer.writerow(
            (
                s.nip,
                emp.nama,
                emp.opd,
                s.pagu,
                s.discipline,
                s.productivity,
                s.attendance_deduction,
                s.productivity_deduction,
                s.net,
                s.required_report_days,
                s.approved_report_days,
            )
        )
    return out.getvalue()


def write_xlsx(result: SimulationResult, path: Path) -> None:
    """A workbook: Ringkasan (one row per ASN), Rincian (every line), Input Ditolak."""
    from openpyxl import Workbook  # only the xlsx output needs it
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    summary = wb.create_sheet("Ringkasan")
    summary.append([f"Simulasi TPP periode {result.period}", f"aturan {result.rules.name}"])
    summary.append(
        [
            "NIP",
            "Nama",
            "OPD",
            "Pagu",
            "Disiplin",
            "Produktivitas",
            "Potongan Kehadiran",
            "Potongan LKH",
            "TPP Bersih",
            "Hari Wajib Lapor",
            "Hari Laporan Disetujui",
        ]
    )
    for s in result.statements:
        emp = result.employees[s.nip]
        summary.append(
            [
                s.nip,
                emp.nama,
                emp.opd,
                s.pagu,
                s.discipline,
                s.productivity,
                s.attendance_deduction,
                s.productivity_deduction,
                s.net,
                s.required_report_days,
                s.approved_report_days,
            ]
        )
    detail = wb.create_sheet("Rincian")
    detail.append(
        ["NIP", "Tanggal", "Kode", "Persen", "Jumlah", "Dasar", "Dibatalkan", "Alasan Pembatalan"]
    )
    for s in result.statements:
        for ln in s.lines:
            # A number the sheet can sum, shown as a percent (0.25 % of the pagu = 0.0025).
            percent = WriteOnlyCell(detail, value=float(ln.percent / 100))
            percent.number_format = "0.00##%"
            annulled = [ln.annulled_amount, ln.annulled_reason] if ln.annulled_amount else []
            detail.append([s.nip, ln.day, ln.code, percent, ln.amount, ln.article, *annulled])
    refused = wb.create_sheet("Input Ditolak")
    refused.append(["Berkas", "Baris", "Alasan"])
    for r in result.rejected_inputs:
        refused.append([r.file, r.line, r.reason])
    wb.save(str(path))
