"""Employee master data from SIASN exports or BKPSDM files (employees.csv / .xlsx): pure
parsing and validation, a report per rejected line, good lines kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from contracts.nip import nip_problem
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


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str


def parse_employees(
    text: str, known_atasan: Mapping[str, str | None] | None = None
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    """The file's good rows and a reason per bad line. `known_atasan`: the atasan of the
    employees already in the store (a file row replaces its NIP's), so that an atasan cycle
    through them is refused too."""
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
    return _rows(_records(header, lines), known_atasan or {})


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
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    good: list[EmployeeRow] = []
    bad: list[RejectedLine] = []
    seen: set[str] = set()
    line_of: dict[str, int] = {}
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
        if reason is None and row["nip"] in seen:
            reason = "NIP muncul lebih dari sekali dalam berkas"
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
        seen.add(row["nip"])
        line_of[row["nip"]] = line
        good.append(
            EmployeeRow(
                nip=row["nip"],
                nama=row["nama"],
                opd=row["opd"],
                jabatan=row["jabatan"],
                kelas_jabatan=kelas,
                atasan_nip=row["atasan_nip"] or None,
                tpp_pagu=pagu,
                pin=row.get(PIN_COLUMN) or None,
            )
        )
    # an atasan chain that comes back to itself has no top: each of its lines is refused
    cycles = atasan_cycles({**known_atasan, **{r.nip: r.atasan_nip for r in good}})
    bad += [
        RejectedLine(line_of[r.nip], "atasan membentuk lingkaran") for r in good if r.nip in cycles
    ]
    bad.sort(key=lambda b: b.line)
    return [r for r in good if r.nip not in cycles], bad


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


@dataclass(frozen=True)
class PaguEntry:
    kelas_jabatan: int
    berlaku_mulai: date
    pagu: int


@dataclass(frozen=True)
class Rejected:
    nip: str
    reason: str


def pagu_on(table: Iterable[PaguEntry], kelas: int, on: date) -> int | None:
    """The pagu of `kelas` in force on `on`: the newest version that began by then."""
    versions = [e for e in table if e.kelas_jabatan == kelas and e.berlaku_mulai <= on]
    return max(versions, key=lambda e: e.berlaku_mulai).pagu if versions else None


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
    upserts: list[EmployeeRow]
    leavers: list[str]
    unchanged: int


def diff(
    known: Mapping[str, tuple[EmployeeRow, bool]],
    rows: Iterable[EmployeeRow],
    from_siasn: Iterable[str],
    seen: set[str],
) -> Changes:
    """Only what changed since the last known state: new ASN, a move, a new atasan, jabatan,
    kelas or pagu (EmployeeUpserted); those SIASN no longer lists (EmployeeDeactivated).

    `known`: the master now (row, active); `from_siasn`: the NIPs a sync put there before;
    `seen`: every NIP this read listed (a record refused or not readable this time is not
    a leaver)."""
    upserts: list[EmployeeRow] = []
    unchanged = 0
    for row in rows:
        current = known.get(row.nip)
        if current is not None and current[1] and _same(current[0], row):
            unchanged += 1
        else:
            upserts.append(row)
    leavers = sorted(
        nip for nip in from_siasn if nip not in seen and nip in known and known[nip][1]
    )
    return Changes(upserts, leavers, unchanged)


def _same(a: EmployeeRow, b: EmployeeRow) -> bool:
    return (a.nama, a.opd, a.jabatan, a.kelas_jabatan, a.atasan_nip, a.tpp_pagu, a.pin) == (
        b.nama,
        b.opd,
        b.jabatan,
        b.kelas_jabatan,
        b.atasan_nip,
        b.tpp_pagu,
        b.pin,
    )


# --- monthly kinerja result (docs/rules.md "Monthly kinerja result") ------------------------
# The codes and the predikat matrix live in the kernel (approval shows the predikat too):
# imported at the top of this module.


def retry_delay_s(attempts: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Wait before the next delivery attempt: doubling from `base_s`, at most `cap_s`, a
    `jitter` in [0, 1) spreading retries of many results over the window."""
    return min(cap_s, base_s * 2 ** max(0, attempts - 1)) * (0.5 + jitter / 2)
