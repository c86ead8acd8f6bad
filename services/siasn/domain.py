"""Employee master data from SIASN exports or BKPSDM files (employees.csv / .xlsx): pure
parsing and validation, a report per rejected line, good lines kept.

Periods (RULES.md "Employment within a month"): a line is one period of one NIP, from
`aktif_mulai` to `aktif_sampai` (optional columns, YYYY-MM-DD, empty = open); a NIP may have
several lines, and a line overlapping another line of its NIP is refused on its own. A line
without `aktif_mulai` is dated by `undated_first` (the import day for a NIP new to SIKERJA).
A leaving ASN is ended by an `aktif_sampai` on their last line: EmployeeUpserted with that
end, then EmployeeDeactivated with the same `aktif_sampai` (a dated upsert restates only the
days it covers, services/kernel/employment.py `merge_period`, so the rest of an open period
would otherwise stay); services/siasn/commands.py `upsert_employees` sends both.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from contracts.events import EmployeeUpserted
from contracts.nip import nip_problem
from services.kernel.calendar import parse_period
from services.kernel.employment import ONE_DAY, Period, latest, overlap_problem, period_on
from services.kernel.kinerja import BAIK as BAIK
from services.kernel.kinerja import BUTUH_PERBAIKAN as BUTUH_PERBAIKAN
from services.kernel.kinerja import KURANG as KURANG
from services.kernel.kinerja import PREDIKAT_NAMA as PREDIKAT_NAMA
from services.kernel.kinerja import RATING_CODE as RATING_CODE
from services.kernel.kinerja import SANGAT_BAIK as SANGAT_BAIK
from services.kernel.kinerja import SANGAT_KURANG as SANGAT_KURANG
from services.kernel.kinerja import predikat as predikat
from services.kernel.uploads import CsvLine, csv_lines, not_text_reason

COLUMNS = ("nip", "nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu")
PIN_COLUMN = "pin"  # optional: the PIN on the devices when it is not the NIP
# optional: the period of the line (YYYY-MM-DD, empty = open at that end)
FIRST_COLUMN, LAST_COLUMN = "aktif_mulai", "aktif_sampai"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Rp 1 miliar a month: far above any pagu, and well inside the stores' INTEGER (2^31 - 1)
TPP_PAGU_MAX = 1_000_000_000


@dataclass(frozen=True)
class EmployeeRow:
    nip: str
    nama: str
    opd: str
    jabatan: str
    kelas_jabatan: int
    atasan_nip: str | None
    tpp_pagu: int
    pin: str | None = None
    aktif_mulai: date | None = None  # the period's first day (None: open)
    aktif_sampai: date | None = None  # its last day, inclusive (None: open)

    def period(self) -> Period:
        return Period(
            first=self.aktif_mulai,
            last=self.aktif_sampai,
            nama=self.nama,
            opd=self.opd,
            jabatan=self.jabatan,
            kelas_jabatan=self.kelas_jabatan,
            atasan_nip=self.atasan_nip,
            tpp_pagu=self.tpp_pagu,
        )

    def upserted(self, now: datetime) -> EmployeeUpserted:
        """The period as siasn announces it (import and sync alike)."""
        return EmployeeUpserted(
            occurred_at=now,
            producer="siasn",
            nip=self.nip,
            nama=self.nama,
            opd=self.opd,
            jabatan=self.jabatan,
            kelas_jabatan=self.kelas_jabatan,
            atasan_nip=self.atasan_nip,
            tpp_pagu=self.tpp_pagu,
            pin=self.pin,
            aktif_mulai=self.aktif_mulai,
            aktif_sampai=self.aktif_sampai,
        )


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str


def undated_first(known: Sequence[Period], last: date | None, today: date) -> date | None:
    """The first day of a line without `aktif_mulai`, `today` being the import's WIB day.

    A NIP new to SIKERJA starts on the import day: it is never charged (nor paid) for days
    before it existed in SIKERJA, and a file of today's staff needs no dates. A migration
    import that must carry history gives `aktif_mulai` explicitly. A known NIP's undated line
    restates its latest period (a correction of its data, or its end when the line has
    `aktif_sampai`); only when that period ended before the import day and the line is
    open does the ASN start again, on the import day (never over the gap)."""
    current = latest(known)
    if current is None:
        return today
    if current.last is None or current.last >= today or last is not None:
        return current.first
    return today


def _day(text: str, column: str) -> date | str | None:
    """The date in `text` (None: empty), or the Bahasa reason it is not one."""
    if not text:
        return None
    try:
        if _ISO_DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    return f"{column} harus tanggal YYYY-MM-DD (mis. 2026-07-01), bukan {text!r}"


def parse_employees(
    text: str,
    known_atasan: Mapping[str, str | None] | None = None,
    known_periods: Mapping[str, Sequence[Period]] | None = None,
    today: date | None = None,
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    """The file's good rows and a reason per bad line. `known_atasan`: the atasan of the
    employees already in the store (a file row replaces its NIP's), so that an atasan cycle
    through them is refused too. `known_periods` and `today` (the import's WIB day) date
    the lines without `aktif_mulai` (`undated_first`); without `today` they stay undated
    (open at the start), as `sikerja simulate` reads them."""
    if reason := not_text_reason(text[:8192].encode("utf-8", "replace")):
        return [], [RejectedLine(1, reason)]
    # line by line: a quote left open spoils its own line, not the ones after it
    lines = csv_lines(text.lstrip("\ufeff"))
    first = next((ln for ln in lines if ln.error or any(f.strip() for f in ln.fields)), None)
    if first is not None and first.error:
        return [], [RejectedLine(first.line_no, first.error)]
    header = [h.strip().lower() for h in (first.fields if first else [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [RejectedLine(1, "kolom wajib tidak ada: " + ", ".join(missing))]
    return _rows(_records(header, lines), known_atasan or {}, known_periods or {}, today)


XLSX_MAGIC = b"PK\x03\x04"  # an XLSX is a ZIP archive


def _records(
    header: list[str], lines: Iterator[CsvLine]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, the fields by column) of each non-blank line, or (line, why it is unreadable)."""
    for line in lines:
        if line.error is not None:
            yield line.line_no, line.error
        elif any(f.strip() for f in line.fields):
            padded = line.fields + [""] * (len(header) - len(line.fields))
            yield line.line_no, dict(zip(header, padded, strict=False))


def _rows(
    numbered: Iterable[tuple[int, dict[str, str] | str]],
    known_atasan: Mapping[str, str | None],
    known_periods: Mapping[str, Sequence[Period]],
    today: date | None,
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    good: list[tuple[int, EmployeeRow]] = []
    bad: list[RejectedLine] = []
    periods: dict[str, list[Period]] = {}  # the accepted lines' periods, by NIP
    line_of: dict[str, int] = {}  # the line of each NIP's latest period (atasan cycles)
    atasan_now: dict[str, str | None] = {}  # that period's atasan
    for line, raw in numbered:
        if isinstance(raw, str):
            bad.append(RejectedLine(line, raw))
            continue
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        reason = nip_problem(row["nip"])
        if reason is None and row["atasan_nip"]:
            atasan_problem = nip_problem(row["atasan_nip"])
            reason = f"atasan_nip: {atasan_problem}" if atasan_problem else None
        if reason is None and not row["nama"]:
            reason = "nama wajib diisi"
        if reason is None and not row["opd"]:
            reason = "opd wajib diisi"
        first = _day(row.get(FIRST_COLUMN, ""), FIRST_COLUMN)
        last = _day(row.get(LAST_COLUMN, ""), LAST_COLUMN)
        if reason is None and isinstance(first, str):
            reason = first
        if reason is None and isinstance(last, str):
            reason = last
        if reason is None and row["atasan_nip"] == row["nip"]:
            reason = "atasan_nip tidak boleh sama dengan NIP sendiri"
        try:
            kelas = int(row["kelas_jabatan"])
            pagu = int(row["tpp_pagu"])
        except ValueError:
            reason = reason or "kelas_jabatan dan tpp_pagu harus bilangan bulat"
            kelas = pagu = 0
        if reason is None and not 1 <= kelas <= 17:
            reason = "kelas_jabatan harus 1 sampai 17"
        if reason is None and pagu < 0:
            reason = "tpp_pagu tidak boleh negatif"
        if reason is None and pagu > TPP_PAGU_MAX:
            reason = f"tpp_pagu paling besar {TPP_PAGU_MAX:,}".replace(",", ".")
        if reason:
            bad.append(RejectedLine(line, reason))
            continue
        assert not isinstance(first, str) and not isinstance(last, str)
        if first is None and today is not None:
            first = undated_first(known_periods.get(row["nip"], ()), last, today)
        if overlap := overlap_problem(periods.get(row["nip"], ()), first, last):
            bad.append(RejectedLine(line, overlap))
            continue
        accepted = EmployeeRow(
            nip=row["nip"],
            nama=row["nama"],
            opd=row["opd"],
            jabatan=row["jabatan"],
            kelas_jabatan=kelas,
            atasan_nip=row["atasan_nip"] or None,
            tpp_pagu=pagu,
            pin=row.get(PIN_COLUMN) or None,
            aktif_mulai=first,
            aktif_sampai=last,
        )
        mine = periods.setdefault(row["nip"], [])
        newest = latest(mine)
        if newest is None or (first or date.min) > (newest.first or date.min):
            line_of[row["nip"]] = line
            atasan_now[row["nip"]] = accepted.atasan_nip
        mine.append(accepted.period())
        good.append((line, accepted))
    # An atasan chain that comes back to itself has no top: the line of each NIP's latest
    # period in it is refused (the chain of today's atasan; older periods are history).
    cycles = atasan_cycles({**known_atasan, **atasan_now})
    refused = {line_of[nip] for nip in cycles if nip in line_of}
    bad += [RejectedLine(line, "atasan membentuk lingkaran") for line in sorted(refused)]
    bad.sort(key=lambda b: b.line)
    return [r for line, r in good if line not in refused], bad


# --- sync from SIASN ------------------------------------------------------------------------
# (pure: the caller reads SIASN through services/siasn/adapter.py and passes "today" in)


@dataclass(frozen=True)
class SiasnRecord:
    """What the sync read of one ASN, in SIKERJA's words (the adapter maps SIASN's)."""

    nip: str
    nama: str
    unor_id: str
    jabatan: str
    kelas_jabatan: int | None
    atasan_nip: str | None
    tmt_jabatan: date | None = None  # SIASN's tmtJabatan: from when the jabatan holds


@dataclass(frozen=True)
class PaguEntry:
    kelas_jabatan: int
    berlaku_mulai: date
    pagu: int


@dataclass(frozen=True)
class Rejected:
    nip: str
    reason: str


def pagu_version_on(table: Iterable[PaguEntry], kelas: int, on: date) -> PaguEntry | None:
    """The version of `kelas`'s pagu in force on `on`: the newest that began by then."""
    versions = [e for e in table if e.kelas_jabatan == kelas and e.berlaku_mulai <= on]
    return max(versions, key=lambda e: e.berlaku_mulai) if versions else None


def pagu_on(table: Iterable[PaguEntry], kelas: int, on: date) -> int | None:
    """The pagu of `kelas` in force on `on`: the newest version that began by then."""
    version = pagu_version_on(table, kelas, on)
    return version.pagu if version is not None else None


def atasan_cycles(atasan_of: Mapping[str, str | None]) -> set[str]:
    """The NIPs that are their own atasan through a chain (A -> B -> A)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    in_cycle: set[str] = set()
    for start in atasan_of:
        path: list[str] = []
        nip: str | None = start
        while nip is not None and nip in atasan_of and state.get(nip) != 2:
            if state.get(nip) == 1:
                in_cycle.update(path[path.index(nip) :])
                break
            state[nip] = 1
            path.append(nip)
            nip = atasan_of[nip]
        for n in path:
            state[n] = 2
    return in_cycle


def resolve(
    records: Iterable[SiasnRecord],
    unit_opd: Mapping[str, str],
    pagu_table: Iterable[PaguEntry],
    on: date,
    others_atasan: Mapping[str, str | None],
    pins: Mapping[str, str | None],
) -> tuple[list[EmployeeRow], list[Rejected]]:
    """SIASN's records as the employee master: OPD by BKPSDM's unit table, pagu by kelas on
    `on`. A record that cannot be placed is reported with its reason, never blocking the
    others. `others_atasan`: the atasan of employees not in this read (from files), so a
    cycle through them is seen too; `pins`: device PINs kept from the files."""
    table = list(pagu_table)
    good: list[EmployeeRow] = []
    bad: list[Rejected] = []
    for r in records:
        problem = nip_problem(r.nip)
        if problem is None and r.atasan_nip:
            atasan_problem = nip_problem(r.atasan_nip)
            problem = f"NIP atasan: {atasan_problem}" if atasan_problem else None
        if problem is None and r.atasan_nip == r.nip:
            problem = "atasan tidak boleh dirinya sendiri"
        opd = unit_opd.get(r.unor_id)
        if problem is None and opd is None:
            problem = f"unit SIASN {r.unor_id or '(kosong)'} belum dipetakan ke OPD oleh BKPSDM"
        if problem is None and (r.kelas_jabatan is None or not 1 <= r.kelas_jabatan <= 17):
            problem = "kelas jabatan tidak ada atau di luar 1 sampai 17"
        pagu = None
        if problem is None and r.kelas_jabatan is not None:
            pagu = pagu_on(table, r.kelas_jabatan, on)
            if pagu is None:
                problem = f"pagu TPP kelas jabatan {r.kelas_jabatan} belum ditetapkan BKPSDM"
        if problem is not None or opd is None or pagu is None or r.kelas_jabatan is None:
            bad.append(Rejected(r.nip, problem or "data tidak lengkap"))
            continue
        good.append(
            EmployeeRow(
                nip=r.nip,
                nama=r.nama,
                opd=opd,
                jabatan=r.jabatan,
                kelas_jabatan=r.kelas_jabatan,
                atasan_nip=r.atasan_nip,
                tpp_pagu=pagu,
                pin=pins.get(r.nip),
            )
        )
    chain = {**others_atasan, **{row.nip: row.atasan_nip for row in good}}
    cycles = atasan_cycles(chain)
    bad += [Rejected(row.nip, "atasan membentuk lingkaran") for row in good if row.nip in cycles]
    return [row for row in good if row.nip not in cycles], bad


@dataclass(frozen=True)
class Changes:
    upserts: list[EmployeeRow]  # each a period: aktif_mulai (None: the current one's) to open
    leavers: list[str]
    unchanged: int
    last_day: date  # the leavers' last active day


def diff(
    known: Mapping[str, Sequence[Period]],
    rows: Iterable[EmployeeRow],
    from_siasn: Iterable[str],
    seen: set[str],
    on: date,
    tmt: Mapping[str, date | None],
    pagu_table: Iterable[PaguEntry],
) -> Changes:
    """Only what changed since the last known state, as periods (RULES.md "Employment within
    a month"); `on` is the sync's WIB day, `known` the NIPs' periods, `tmt` SIASN's
    tmtJabatan by NIP.

    - A new ASN (or one back after their last period ended) starts on tmtJabatan when it is
      plausible (not after `on`, after the end of their last period), else on `on`.
    - A new jabatan or kelas jabatan (hence a new pagu) starts a new period on tmtJabatan
      when it is plausible (after the current period's first day, not after `on`: SIASN
      moves the TMT with the jabatan, so an unchanged old TMT is not this change's date),
      else on `on`.
    - A transfer (OPD) or a new atasan alone starts a new period on `on`: SIASN gives no
      date for them (tmtJabatan is the jabatan's).
    - A new pagu alone (BKPSDM's dated table) starts on its `berlaku_mulai`; when that is
      not after the current period's first day, the whole current period takes it.
    - A new name (gelar) corrects the current period in place (same first day).
    - An ASN SIASN no longer lists (`from_siasn` minus `seen`: a record refused or not
      readable this time is not a leaver) leaves with `on` - 1 as their last day: SIASN
      gives no date of leaving, and the sync day is the first day SIKERJA knows they are
      gone; their days up to it stand as they were.
    """
    table = list(pagu_table)
    upserts: list[EmployeeRow] = []
    unchanged = 0
    for row in rows:
        periods = known.get(row.nip, ())
        current = period_on(periods, on)
        start: date | None
        if current is None:
            before = latest(p for p in periods if p.first is None or p.first <= on)
            floor = before.last if before is not None else None
            start = _plausible(tmt.get(row.nip), floor, on) or on
        elif _same(current, row) and current.last is None:
            unchanged += 1
            continue
        elif (current.jabatan, current.kelas_jabatan) != (row.jabatan, row.kelas_jabatan):
            start = _plausible(tmt.get(row.nip), current.first, on) or on
        elif (current.opd, current.atasan_nip) != (row.opd, row.atasan_nip):
            start = on
        elif current.tpp_pagu != row.tpp_pagu:
            version = pagu_version_on(table, row.kelas_jabatan, on)
            since = version.berlaku_mulai if version is not None else on
            start = since if current.first is None or since > current.first else current.first
        else:  # the name only (or an end the file had set): the current period, corrected
            start = current.first
        upserts.append(replace(row, aktif_mulai=start, aktif_sampai=None))
    leavers = sorted(
        nip
        for nip in from_siasn
        if nip not in seen and any(p.last is None or p.last >= on for p in known.get(nip, ()))
    )
    return Changes(upserts, leavers, unchanged, on - ONE_DAY)


def _plausible(tmt: date | None, after: date | None, on: date) -> date | None:
    """`tmt` when it lies after `after` (None: no bound) and not after `on`, else None."""
    if tmt is None or tmt > on or (after is not None and tmt <= after):
        return None
    return tmt


def _same(current: Period, row: EmployeeRow) -> bool:
    return (
        current.nama,
        current.opd,
        current.jabatan,
        current.kelas_jabatan,
        current.atasan_nip,
        current.tpp_pagu,
    ) == (row.nama, row.opd, row.jabatan, row.kelas_jabatan, row.atasan_nip, row.tpp_pagu)


# --- monthly kinerja result (docs/rules.md "Monthly kinerja result") ------------------------
# The codes and the predikat matrix live in the kernel (approval shows the predikat too):
# imported at the top of this module.


def retry_delay_s(attempts: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Wait before the next delivery attempt: doubling from `base_s`, at most `cap_s`, a
    `jitter` in [0, 1) spreading retries of many results over the window."""
    return min(cap_s, base_s * 2 ** max(0, attempts - 1)) * (0.5 + jitter / 2)


def month_placement(periods: Iterable[Period], period: str) -> Period | None:
    """Who the person was in the month `period` (YYYY-MM): their last period in the month
    (RULES.md: the month belongs to the OPD of the last active day; siasn keeps no work
    calendar, so the last calendar day stands in for it). None when not employed then."""
    year, month = parse_period(period)
    first, last = date(year, month, 1), date(year, month, monthrange(year, month)[1])
    in_month = [p for p in periods if p.overlaps(first, last)]
    return max(in_month, key=lambda p: p.first or date.min) if in_month else None
