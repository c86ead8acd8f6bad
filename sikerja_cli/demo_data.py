"""`sikerja demo-data`: a realistic synthetic city as CSV files, deterministic by seed.

Writes, in `out_dir` (the formats `sikerja simulate` and the CSV imports read):
  employees.csv  nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu,aktif_mulai,aktif_sampai
                 (aktif_mulai: the month's first day, so each ASN is active all month)
  scans.csv      nip,waktu                 (YYYY-MM-DD HH:MM:SS, WIB)
  absences.csv   nip,mulai,selesai,jenis   (inclusive dates)
  reports.csv    nip,tanggal,status        (approved, pending, rejected)

The city: Kota Bekasi's OPDs, each a tree kepala -> kepala bidang / sekretaris ->
kepala seksi / subbagian -> staf, with at most 30 direct subordinates per atasan. The month:
every working day of the period (WorkCalendar.indonesia); most ASN are on time, some are
late in every deduction band, some leave early, some scan once, some are absent without
notice, some are on cuti, sick, on dinas luar or absent with an invalid notice. Most
report days are approved; some reports are pending, rejected or never filed. A report is
only written for a day it could be filed (a scan or dinas luar that day, docs/rules.md).

With `changes` (a share of the ASN, 0 by default), some ASN change within the month
(RULES.md "Employment within a month"): a transfer to another OPD with a new pagu, a join,
a leave, a new pagu, or a gap (unpaid leave); employees.csv then has the columns
`aktif_mulai,aktif_sampai` and several rows for such a NIP, and nobody scans, reports or
is absent on a day they are not active. Only ASN who are nobody's atasan change.

With `opd_annulments` / `nip_annulments` (0 by default), it also writes annulments.csv
(nip,opd,tanggal,kode,alasan; RULES.md "Annulled cuts"): that many OPD-wide days (a device
or power outage: every line of the day, or one code) and that many by NIP, on days where
that ASN has a cut (late, early, absent, an unapproved report day), half of them naming
the code, half the whole day. Drawn from their own random stream after the month, so the
other files stay byte-identical.

Files are written row by row (one employee's month at a time), so a 15,000-ASN month
(~650k scan lines) takes a few seconds and little memory. One `random.Random(seed)` drives
everything, in a fixed order: the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from contracts.nip import is_valid_nip
from services.kernel import bahasa
from services.kernel.calendar import WIB, WorkCalendar, parse_period

EMPLOYEE_HEADER = (
    "nip",
    "nama",
    "opd",
    "jabatan",
    "kelas_jabatan",
    "atasan_nip",
    "tpp_pagu",
)
SCAN_HEADER = ("nip", "waktu")
ABSENCE_HEADER = ("nip", "mulai", "selesai", "jenis")
REPORT_HEADER = ("nip", "tanggal", "status")
ANNULMENT_HEADER = ("nip", "opd", "tanggal", "kode", "alasan")
OUTAGE_REASONS = (
    "Mesin sidik jari rusak",
    "Pemadaman listrik di kantor",
    "Jaringan kantor terputus",
)
PERSONAL_REASONS = (
    "Mesin sidik jari tidak membaca jari",
    "Atasan berhalangan menilai laporan",
    "Salah input data oleh operator",
)
PERIOD_HEADER = ("aktif_mulai", "aktif_sampai")
CHANGE_KINDS = ("pindah", "masuk", "keluar", "pagu_baru", "jeda")

MAX_SUBORDINATES = 30

# Monthly TPP pagu by kelas jabatan, integer rupiah: rising with the kelas (2–25 million).
PAGU_BY_KELAS: dict[int, int] = {
    1: 2_000_000,
    2: 2_300_000,
    3: 2_650_000,
    4: 3_050_000,
    5: 3_500_000,
    6: 4_000_000,
    7: 4_600_000,
    8: 5_300_000,
    9: 6_200_000,
    10: 7_300_000,
    11: 8_700_000,
    12: 10_500_000,
    13: 13_500_000,
    14: 18_000_000,
    15: 25_000_000,
}


@dataclass(frozen=True)
class Opd:
    name: str
    head_title: str
    weight: float  # relative head count (Dinas Pendidikan holds the teachers)
    staff_titles: tuple[str, ...] = ()


_GENERAL_STAFF = (
    "Pengadministrasi Umum",
    "Pengelola Keuangan",
    "Analis Kebijakan",
    "Pranata Komputer",
    "Arsiparis",
    "Pengelola Data",
    "Penyusun Program",
    "Bendahara",
    "Pengemudi",
    "Pramu Kantor",
)
_SCHOOL_STAFF = ("Guru Ahli Pertama", "Guru Ahli Muda", "Guru Ahli Madya", "Pengawas Sekolah")
_HEALTH_STAFF = ("Perawat", "Bidan", "Dokter", "Apoteker", "Nutrisionis", "Sanitarian")
_KECAMATAN = (
    "Bekasi Timur",
    "Bekasi Barat",
    "Bekasi Utara",
    "Bekasi Selatan",
    "Rawalumbu",
    "Medan Satria",
    "Bantargebang",
    "Pondok Gede",
    "Jatiasih",
    "Jatisampurna",
    "Mustikajaya",
    "Pondok Melati",
)

# The first five in the order a small demo city should have them; then the rest.
OPDS: tuple[Opd, ...] = (
    Opd("Dinas Pendidikan", "Kepala Dinas", 8.0, _SCHOOL_STAFF),
    Opd("Dinas Kesehatan", "Kepala Dinas", 4.0, _HEALTH_STAFF),
    Opd("BKPSDM", "Kepala Badan", 1.0),
    Opd("Inspektorat", "Inspektur", 1.0, ("Auditor", "Pengawas Penyelenggaraan Urusan Pemda")),
    Opd("Kecamatan Bekasi Timur", "Camat", 1.5),
    Opd("Sekretariat Daerah", "Sekretaris Daerah", 2.0),
    Opd("Sekretariat DPRD", "Sekretaris DPRD", 1.0),
    Opd("Bappelitbangda", "Kepala Badan", 1.0),
    Opd("BPKAD", "Kepala Badan", 1.2),
    Opd("Bapenda", "Kepala Badan", 1.5),
    Opd("BPBD", "Kepala Pelaksana", 0.8),
    Opd("Badan Kesatuan Bangsa dan Politik", "Kepala Badan", 0.6),
    Opd("RSUD dr. Chasbullah Abdulmadjid", "Direktur", 3.0, _HEALTH_STAFF),
    Opd("Satuan Polisi Pamong Praja", "Kepala Satuan", 1.5, ("Polisi Pamong Praja",)),
    Opd("Dinas Pemadam Kebakaran dan Penyelamatan", "Kepala Dinas", 1.2, ("Pemadam Kebakaran",)),
    Opd("Dinas Bina Marga dan Sumber Daya Air", "Kepala Dinas", 1.5),
    Opd("Dinas Perumahan, Kawasan Permukiman dan Pertanahan", "Kepala Dinas", 1.0),
    Opd("Dinas Tata Ruang", "Kepala Dinas", 0.8),
    Opd("Dinas Sosial", "Kepala Dinas", 0.8),
    Opd("Dinas Tenaga Kerja", "Kepala Dinas", 0.7),
    Opd("Dinas Pemberdayaan Perempuan dan Perlindungan Anak", "Kepala Dinas", 0.6),
    Opd("Dinas Ketahanan Pangan, Pertanian dan Perikanan", "Kepala Dinas", 0.7),
    Opd("Dinas Lingkungan Hidup", "Kepala Dinas", 1.5),
    Opd("Dinas Kependudukan dan Pencatatan Sipil", "Kepala Dinas", 1.0),
    Opd("Dinas Pengendalian Penduduk dan Keluarga Berencana", "Kepala Dinas", 0.7),
    Opd("Dinas Perhubungan", "Kepala Dinas", 1.2),
    Opd("Dinas Komunikasi, Informatika, Statistik dan Persandian", "Kepala Dinas", 0.7),
    Opd("Dinas Koperasi dan Usaha Kecil Menengah", "Kepala Dinas", 0.5),
    Opd("Dinas Penanaman Modal dan PTSP", "Kepala Dinas", 0.7),
    Opd("Dinas Kepemudaan dan Olahraga", "Kepala Dinas", 0.5),
    Opd("Dinas Pariwisata dan Kebudayaan", "Kepala Dinas", 0.5),
    Opd("Dinas Perpustakaan dan Kearsipan", "Kepala Dinas", 0.5, ("Pustakawan", "Arsiparis")),
    Opd("Dinas Perdagangan dan Perindustrian", "Kepala Dinas", 0.7),
    *(Opd(f"Kecamatan {name}", "Camat", 1.5) for name in _KECAMATAN[1:]),
)

_BIDANG = (
    "Perencanaan",
    "Pelayanan",
    "Pembinaan",
    "Pengendalian",
    "Pengembangan",
    "Data dan Informasi",
    "Pengawasan",
    "Pemberdayaan",
)
_SUBBAGIAN = ("Umum dan Kepegawaian", "Keuangan", "Perencanaan dan Pelaporan")

_MALE = (
    "Agus", "Ahmad", "Andi", "Bambang", "Budi", "Cecep", "Dedi", "Dimas", "Eko", "Fajar",
    "Hadi", "Hendra", "Irfan", "Joko", "Kurnia", "Lukman", "Muhammad", "Nanang", "Rizki",
    "Rudi", "Slamet", "Teguh", "Ujang", "Wahyu", "Yusuf", "Asep", "Dadang", "Iwan", "Arif",
    "Bayu", "Dani", "Galih", "Ilham", "Rahmat", "Sutrisno", "Taufik", "Yogi", "Zainal",
)  # fmt: skip
_FEMALE = (
    "Siti", "Dewi", "Sri", "Rina", "Yuni", "Nurul", "Ratna", "Fitri", "Indah", "Lestari",
    "Wulan", "Ayu", "Putri", "Ani", "Euis", "Neneng", "Tuti", "Dian", "Eka", "Heni",
    "Ika", "Kartika", "Lina", "Mega", "Novi", "Rini", "Santi", "Tri", "Wati", "Yanti",
    "Anisa", "Desi", "Maya", "Rahma", "Intan", "Nining", "Susi", "Winda",
)  # fmt: skip
_FAMILY = (
    "Santoso", "Wijaya", "Saputra", "Hidayat", "Kurniawan", "Setiawan", "Nugroho", "Pratama",
    "Susanto", "Gunawan", "Rahman", "Hasibuan", "Siregar", "Nasution", "Suryadi",
    "Firmansyah", "Permana", "Hermawan", "Sudrajat",
    "Maulana", "Ramadhan", "Hakim", "Syahputra", "Kusuma",
    "Sembiring", "Simanjuntak", "Lubis", "Harahap", "Munandar", "Suherman", "Sopandi",
    "Mulyadi", "Supriadi", "Wibowo", "Utomo",
)  # fmt: skip
_FEMALE_FAMILY = (
    "Rahayu", "Wulandari", "Handayani", "Purnamasari", "Sulistyowati", "Hasanah", "Fauziah",
    "Anggraini", "Kartini", "Lestari", "Rahmawati", "Susanti",
)  # fmt: skip
_DEGREES = ("S.Pd.", "S.E.", "S.H.", "S.Kom.", "S.Sos.", "S.Kep.", "S.T.", "M.Si.", "M.M.")

ABSENCE_PLAN: tuple[tuple[str, float, int], ...] = (
    # (jenis, share of ASN with one in the month, longest run in working days)
    ("cuti_tahunan", 0.06, 5),
    ("cuti_sakit", 0.03, 3),
    ("dinas_luar", 0.08, 3),
    ("izin_tidak_sah", 0.01, 1),
)
# Late arrival bands of docs/rules.md (minutes), chosen in this proportion when someone is late.
_LATE_BANDS = ((16, 60, 0.6), (61, 120, 0.25), (121, 180, 0.1), (181, 270, 0.05))
_EARLY_BANDS = ((1, 60, 0.6), (61, 120, 0.25), (121, 180, 0.1), (181, 300, 0.05))


@dataclass(frozen=True)
class Employee:
    nip: str
    nama: str
    opd: str
    jabatan: str
    kelas_jabatan: int
    atasan_nip: str
    tpp_pagu: int


def _opd_list(count: int) -> list[Opd]:
    opds = list(OPDS[:count])
    opds += [Opd(f"OPD {n}", "Kepala", 1.0) for n in range(len(OPDS) + 1, count + 1)]
    return opds


def _head_counts(opds: Sequence[Opd], employees: int) -> list[int]:
    """One head per OPD, the rest by weight (largest remainder: exact and deterministic)."""
    rest = employees - len(opds)
    total = sum(o.weight for o in opds)
    shares = [rest * o.weight / total for o in opds]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(opds)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[: rest - sum(counts)]:
        counts[i] += 1
    return [1 + c for c in counts]


class _NipMaker:
    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.year = year
        self.used: set[str] = set()

    def make(self, min_age: int, max_age: int, sex: int) -> str:
        rng = self.rng
        while True:
            birth_year = self.year - rng.randint(min_age, max_age)
            birth_month = rng.randint(1, 12)
            birth_day = rng.randint(1, calendar.monthrange(birth_year, birth_month)[1])
            tmt_year = min(birth_year + rng.randint(22, 35), self.year - 1)
            tmt_month = (
                rng.choice((1, 1, 3, 3, 4, 12)) if rng.random() < 0.7 else rng.randint(1, 12)
            )
            nip = (
                f"{birth_year:04d}{birth_month:02d}{birth_day:02d}"
                f"{tmt_year:04d}{tmt_month:02d}{sex}{rng.randint(1, 999):03d}"
            )
            if nip not in self.used and is_valid_nip(nip):
                self.used.add(nip)
                return nip


def _name(rng: random.Random, sex: int, kelas: int) -> str:
    first = rng.choice(_MALE if sex == 1 else _FEMALE)
    parts = [first]
    if rng.random() < 0.35:
        parts.append(rng.choice(_MALE if sex == 1 else _FEMALE))
    if rng.random() < 0.85:
        parts.append(rng.choice(_FAMILY if sex == 1 else _FAMILY + _FEMALE_FAMILY))
    name = " ".join(dict.fromkeys(parts))  # no "Siti Siti"
    if kelas >= 7 and rng.random() < 0.6:
        name += ", " + rng.choice(_DEGREES)
    return name


def _build_opd(
    opd: Opd, size: int, rng: random.Random, nips: _NipMaker, is_city_secretary: bool
) -> list[Employee]:
    """The tree of one OPD: kepala, then bidang heads, then seksi heads, then staf.

    Seksi count keeps every seksi at most 26 staf, bidang at most 4 seksi, so no atasan
    exceeds MAX_SUBORDINATES direct subordinates for any OPD size this generator meets.
    """
    out: list[Employee] = []

    def person(jabatan: str, kelas: int, atasan: str, min_age: int, max_age: int) -> str:
        sex = 1 if rng.random() < 0.5 else 2
        nip = nips.make(min_age, max_age, sex)
        out.append(
            Employee(
                nip, _name(rng, sex, kelas), opd.name, jabatan, kelas, atasan, PAGU_BY_KELAS[kelas]
            )
        )
        return nip

    head_kelas = 15 if is_city_secretary else (13 if opd.head_title == "Camat" else 14)
    head = person(opd.head_title, head_kelas, "", 45, 57)
    below = size - 1
    if below < 4:
        seksi, bidang = 0, 0  # too small for a structure: staf report to the kepala
    else:
        seksi = math.ceil(below / 27)
        bidang = math.ceil(seksi / 4)
    staf = below - bidang - seksi
    kecamatan = opd.head_title == "Camat"

    bidang_nips: list[str] = []
    bidang_names: list[str] = []
    for b in range(bidang):
        if b == 0:
            name = "Sekretariat"
            title = "Sekretaris Kecamatan" if kecamatan else "Sekretaris"
        else:
            name = _BIDANG[(b - 1) % len(_BIDANG)]
            if b > len(_BIDANG):
                name += f" {(b - 1) // len(_BIDANG) + 1}"
            title = ("Kepala Seksi " if kecamatan else "Kepala Bidang ") + name
        bidang_names.append(name)
        # Sekretaris ranks above a kepala bidang (kelas 12 against 11).
        bidang_nips.append(person(title, 12 if b == 0 else 11, head, 38, 56))

    seksi_nips: list[str] = []
    for s in range(seksi):
        b, n = s % bidang, s // bidang + 1
        if b == 0:
            title = "Kepala Subbagian " + _SUBBAGIAN[(n - 1) % len(_SUBBAGIAN)]
            if n > len(_SUBBAGIAN):
                title += f" {(n - 1) // len(_SUBBAGIAN) + 1}"
        elif kecamatan:
            title = f"Koordinator Pelaksana {bidang_names[b]} {n}"
        else:
            title = f"Kepala Seksi {bidang_names[b]} {n}"
        # Kepala seksi of a bidang kelas 10, kepala subbagian and koordinator kelas 9.
        kelas = 10 if title.startswith("Kepala Seksi") else 9
        seksi_nips.append(person(title, kelas, bidang_nips[b], 32, 55))

    bosses = seksi_nips or [head]
    titles = opd.staff_titles or _GENERAL_STAFF
    for i in range(staf):
        # Specialised OPDs: most staf hold the OPD's functional posts (guru, perawat, ...).
        if opd.staff_titles and rng.random() < 0.8:
            jabatan = rng.choice(titles)
            # Below their kepala seksi (kelas 9-10): an atasan always outranks the staf.
            kelas = 8 if "Ahli Madya" in jabatan else rng.choice((6, 7, 7, 8))
        else:
            jabatan = rng.choice(_GENERAL_STAFF)
            kelas = rng.choices(range(1, 9), weights=(1, 2, 3, 5, 8, 9, 7, 4))[0]
        person(jabatan, kelas, bosses[i % len(bosses)], 23, 57)
    return out


def build_employees(employees: int, opds: int, year: int, rng: random.Random) -> list[Employee]:
    """The whole city's employees, OPD by OPD (kepala first in each OPD)."""
    if opds < 1:
        raise ValueError("jumlah OPD minimal 1")
    if employees < opds:
        raise ValueError("jumlah pegawai harus paling sedikit sama dengan jumlah OPD")
    nips = _NipMaker(rng, year)
    chosen = _opd_list(opds)
    out: list[Employee] = []
    for opd, size in zip(chosen, _head_counts(chosen, employees), strict=True):
        out += _build_opd(opd, size, rng, nips, opd.name == "Sekretariat Daerah")
    return out


def last_month(today: date) -> str:
    """The demo's default period: the month before `today` (`up` and `demo-data` agree)."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _band(rng: random.Random, bands: Sequence[tuple[int, int, float]]) -> int:
    r = rng.random()
    for low, high, share in bands:
        if r < share:
            return rng.randint(low, high)
        r -= share
    low, high, _ = bands[-1]
    return rng.randint(low, high)


_START = 7 * 3600 + 30 * 60  # 07:30:00
_END = 16 * 3600  # 16:00:00
_NOON = 12 * 3600  # a single scan before it is a check-in (RULES.md)


def _plan_absences(rng: random.Random, n_days: int) -> list[tuple[int, int, str]]:
    """Non-overlapping (first index, last index, jenis) runs over the month's working days."""
    taken = [False] * n_days
    runs: list[tuple[int, int, str]] = []
    for jenis, share, longest in ABSENCE_PLAN:
        if n_days == 0 or rng.random() >= share:
            continue
        length = min(rng.randint(1, longest), n_days)
        first = rng.randrange(n_days - length + 1)
        if any(taken[first : first + length]):
            continue  # clashes with another absence: this ASN simply does not take it
        for i in range(first, first + length):
            taken[i] = True
        runs.append((first, first + length - 1, jenis))
    runs.sort()
    return runs


# One period row: (opd, kelas_jabatan, tpp_pagu, aktif_mulai, aktif_sampai).
PeriodRow = tuple[str, int, int, date | None, date | None]


def _plan_change(
    rng: random.Random, e: Employee, days: Sequence[date], opd_names: Sequence[str]
) -> list[PeriodRow]:
    """The period rows of an ASN who changes within the month (one change, on a working day
    strictly inside the month, so that every row has an active working day)."""
    one = timedelta(days=1)
    kind = rng.choice(CHANGE_KINDS)
    k = rng.randint(1, len(days) - 1)  # the first day of what changes
    higher = min(e.kelas_jabatan + 1, max(PAGU_BY_KELAS))
    raised = PAGU_BY_KELAS[higher] if higher > e.kelas_jabatan else e.tpp_pagu + 1_000_000
    if kind == "pindah":
        others = [o for o in opd_names if o != e.opd] or [e.opd]
        return [
            (e.opd, e.kelas_jabatan, e.tpp_pagu, None, days[k] - one),
            (rng.choice(others), higher, raised, days[k], None),
        ]
    if kind == "masuk":
        return [(e.opd, e.kelas_jabatan, e.tpp_pagu, days[k], None)]
    if kind == "keluar":
        return [(e.opd, e.kelas_jabatan, e.tpp_pagu, None, days[k - 1])]
    if kind == "pagu_baru":
        return [
            (e.opd, e.kelas_jabatan, e.tpp_pagu, None, days[k] - one),
            (e.opd, higher, raised, days[k], None),
        ]
    back = rng.randint(k + 1, len(days) - 1) if k + 1 < len(days) else k  # jeda: a gap
    return [
        (e.opd, e.kelas_jabatan, e.tpp_pagu, None, days[k - 1]),
        (e.opd, e.kelas_jabatan, e.tpp_pagu, days[back], None),
    ]


def _active(rows: Sequence[PeriodRow], day: date) -> bool:
    return any(
        (first is None or first <= day) and (last is None or day <= last)
        for _, _, _, first, last in rows
    )


def generate(
    out_dir: Path,
    employees: int,
    opds: int,
    period: str,
    seed: int = 7,
    changes: float = 0.0,
    opd_annulments: int = 0,
    nip_annulments: int = 0,
) -> dict[str, int]:
    """Write the demo city's CSV files into `out_dir`; return the row counts per file (and
    `opds`, `working_days`, `changed`). The caller chooses the month (the CLI: last_month of
    today). `changes`: the share of ASN who change within the month; `opd_annulments`,
    `nip_annulments`: rows of annulments.csv (module docstring)."""
    year, month = parse_period(period)
    rng = random.Random(seed)
    staff = build_employees(employees, opds, year, rng)
    change_rng = random.Random(f"changes-{seed}")  # the rest of the city stays as without
    atasan = {e.atasan_nip for e in staff if e.atasan_nip}
    opd_names = sorted({e.opd for e in staff})
    changed = 0
    days = WorkCalendar.indonesia([year]).working_days_in_month(year, month)
    day_iso = [d.isoformat() for d in days]
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {"employees": 0, "scans": 0, "absences": 0, "reports": 0}
    cut_days: list[tuple[str, str, str]] = []  # (nip, date, code or "") of a day with a cut

    with (
        open(out_dir / "employees.csv", "w", newline="", encoding="utf-8") as f_emp,
        open(out_dir / "scans.csv", "w", newline="", encoding="utf-8") as f_scan,
        open(out_dir / "absences.csv", "w", newline="", encoding="utf-8") as f_abs,
        open(out_dir / "reports.csv", "w", newline="", encoding="utf-8") as f_rep,
    ):
        w_emp, w_scan, w_abs, w_rep = (
            csv.writer(f, lineterminator="\n") for f in (f_emp, f_scan, f_abs, f_rep)
        )
        w_emp.writerow(EMPLOYEE_HEADER + PERIOD_HEADER)
        w_scan.writerow(SCAN_HEADER)
        w_abs.writerow(ABSENCE_HEADER)
        w_rep.writerow(REPORT_HEADER)

        # Every ASN active from the month's first day: loaded later, an undated row would
        # start on the import day (services/siasn/domain.py undated_first).
        since = date(year, month, 1).isoformat()
        for e in staff:
            rows: list[PeriodRow] = [(e.opd, e.kelas_jabatan, e.tpp_pagu, None, None)]
            if changes and len(days) > 2 and e.nip not in atasan:
                if change_rng.random() < changes:
                    rows = _plan_change(change_rng, e, days, opd_names)
                    changed += 1
            for opd, kelas, pagu, mulai, sampai in rows:
                w_emp.writerow(
                    [e.nip, e.nama, opd, e.jabatan, kelas, e.atasan_nip, pagu,
                     mulai.isoformat() if mulai else since,
                     sampai.isoformat() if sampai else ""]
                )  # fmt: skip
            active = [_active(rows, d) for d in days]
            counts["employees"] += 1
            # Habits of this ASN: most are punctual and diligent, a few are not.
            habit = rng.random()
            p_late = 0.02 if habit < 0.7 else (0.12 if habit < 0.95 else 0.35)
            p_early = 0.02 if rng.random() < 0.85 else 0.12
            p_skip_report = 0.03 if rng.random() < 0.8 else 0.25
            p_absent = 0.005 if rng.random() < 0.9 else 0.05

            kind_of_day: list[str | None] = [None] * len(days)
            for first, last, jenis in _plan_absences(rng, len(days)):
                if not all(active[first : last + 1]):
                    continue  # no absence on a day they are not employed
                w_abs.writerow((e.nip, day_iso[first], day_iso[last], jenis))
                counts["absences"] += 1
                for i in range(first, last + 1):
                    kind_of_day[i] = jenis

            for i, iso in enumerate(day_iso):
                if not active[i]:
                    continue  # not employed that day: no scan, no report
                kind = kind_of_day[i]
                scans: list[int] = []
                if kind is None:
                    if rng.random() >= p_absent:
                        scans = _day_scans(rng, p_late, p_early)
                elif kind == "dinas_luar" and rng.random() < 0.1:
                    scans = [_START - rng.randint(0, 1800)]  # scanned in before leaving
                for second in scans:
                    w_scan.writerow((e.nip, f"{iso} {_clock(second)}"))
                counts["scans"] += len(scans)
                if nip_annulments and (cut := _cut_code(kind, scans)) is not None:
                    cut_days.append((e.nip, iso, cut))

                # docs/rules.md: a report needs a scan or dinas_luar on its day; the demo is
                # loaded through the live import, so it files no report the rules refuse.
                may_file = bool(scans) or kind == "dinas_luar"
                if not may_file or rng.random() < p_skip_report:
                    if nip_annulments and (kind is None or kind in _REPORT_DAY_KINDS):
                        cut_days.append((e.nip, iso, "LKH"))  # a required day, no report
                    continue
                r = rng.random()
                status = "approved" if r < 0.92 else ("pending" if r < 0.97 else "rejected")
                w_rep.writerow((e.nip, iso, status))
                counts["reports"] += 1
                if nip_annulments and status != "approved":
                    cut_days.append((e.nip, iso, "LKH"))

    if opd_annulments or nip_annulments:
        counts["annulments"] = _write_annulments(
            out_dir / "annulments.csv",
            random.Random(f"annulments-{seed}"),
            opd_names,
            day_iso,
            cut_days,
            opd_annulments,
            nip_annulments,
        )

    return {**counts, "opds": opds, "working_days": len(days), "changed": changed}


# Kinds whose days are required report days besides a plain working day (RULES.md).
_REPORT_DAY_KINDS = ("dinas_luar", "izin_tidak_sah")


def _cut_code(kind: str | None, scans: Sequence[int]) -> str | None:
    """The code of a whole-day attendance line of the day (TK, ITS), "" when the day has
    late or early lines (RULES.md; the band does not matter here), None when it has none."""
    if kind == "izin_tidak_sah":
        return "ITS"
    if kind is not None:
        return None
    if not scans:
        return "TK"
    first, last = scans[0], scans[-1]
    if len(scans) == 1:
        return ""  # one scan: no check-out (or no check-in), a 1.5% line
    if first >= _START + 16 * 60 or last <= _END - 60:
        return ""
    return None


def _write_annulments(
    path: Path,
    rng: random.Random,
    opd_names: Sequence[str],
    day_iso: Sequence[str],
    cut_days: Sequence[tuple[str, str, str]],
    by_opd: int,
    by_nip: int,
) -> int:
    """annulments.csv: `by_opd` OPD-wide outage days and `by_nip` annulments of one ASN's
    cut, half with a code and half for the whole day."""
    rows: list[tuple[str, str, str, str, str]] = []
    for i in range(by_opd):
        code = "" if i % 2 == 0 else rng.choice(("TL1", "TK", "LKH"))
        rows.append(
            ("", rng.choice(opd_names), rng.choice(day_iso), code, rng.choice(OUTAGE_REASONS))
        )
    for i, (nip, iso, cut) in enumerate(rng.sample(cut_days, min(by_nip, len(cut_days)))):
        code = cut if i % 2 == 1 else ""  # "" (TL/PSW of an unknown band): the whole day
        rows.append((nip, "", iso, code, rng.choice(PERSONAL_REASONS)))
    # the same annulment twice is refused live (409): keep the first of each
    unique: dict[tuple[str, str, str, str], tuple[str, str, str, str, str]] = {}
    for row in rows:
        unique.setdefault(row[:4], row)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ANNULMENT_HEADER)
        writer.writerows(unique.values())
    return len(unique)


def _day_scans(rng: random.Random, p_late: float, p_early: float) -> list[int]:
    """Seconds after midnight (WIB) of one present day's scans, in order."""
    r = rng.random()
    if r < p_late:
        check_in = _START + _band(rng, _LATE_BANDS) * 60 + rng.randint(0, 59)
    elif r < p_late + 0.1:
        check_in = _START + rng.randint(0, 15 * 60 + 59)  # within the 15 free minutes
    else:
        check_in = _START - rng.randint(60, 60 * 60)
    if rng.random() < p_early:
        check_out = _END - _band(rng, _EARLY_BANDS) * 60 - rng.randint(0, 59)
    else:
        check_out = _END + rng.randint(0, 90 * 60)
    single = rng.random()
    if single < 0.01:
        return [check_in]  # forgot to scan out
    if single < 0.015:
        return [check_out]  # forgot to scan in
    if check_out <= check_in:
        check_out = check_in + 60
    scans = [check_in, check_out]
    if rng.random() < 0.03:
        scans.insert(1, check_in + rng.randint(2, 40))  # pressed the finger twice
    return scans


def describe(counts: dict[str, int], period: str) -> str:
    """One line a person reads: '120 pegawai di 3 OPD, periode November 2026 (21 hari kerja):
    4.920 pindaian, 26 ketidakhadiran, 2.266 laporan'."""
    n = bahasa.ribuan
    return (
        f"{n(counts['employees'])} pegawai di {n(counts['opds'])} OPD, periode "
        f"{bahasa.periode(period)} ({counts['working_days']} hari kerja): "
        f"{n(counts['scans'])} pindaian, {n(counts['absences'])} ketidakhadiran, "
        f"{n(counts['reports'])} laporan"
    )


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Buat data demo SIKERJA (CSV).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--employees", type=int, default=15000)
    parser.add_argument("--opds", type=int, default=44)
    parser.add_argument("--period", default=None, help="YYYY-MM (bawaan: bulan lalu)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    period = args.period or last_month(datetime.now(WIB).date())
    summary = generate(args.out_dir, args.employees, args.opds, period, args.seed)
    print(f"Data contoh ditulis ke {args.out_dir}: {describe(summary, period)}")


__all__ = [
    "EMPLOYEE_HEADER",
    "OPDS",
    "PAGU_BY_KELAS",
    "Employee",
    "build_employees",
    "describe",
    "generate",
    "last_month",
]

if __name__ == "__main__":
    _main()
