"""The sync's pure rules: pagu by date, atasan cycles, placing SIASN records, the diff."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.kernel.employment import Period
from services.siasn.domain import (
    Changes,
    EmployeeRow,
    PaguEntry,
    SiasnRecord,
    atasan_cycles,
    diff,
    pagu_on,
    resolve,
)

A = "199001012015011001"
B = "198503152010122002"
C = "197001012000011001"
D = "197001012000011002"
UNIT = "unor-1"
PAGU = [
    PaguEntry(7, date(2026, 1, 1), 4_600_000),
    PaguEntry(7, date(2026, 7, 1), 5_000_000),
    PaguEntry(9, date(2026, 1, 1), 6_200_000),
]


def rec(
    nip: str, atasan: str | None = None, kelas: int | None = 7, unit: str = UNIT
) -> SiasnRecord:
    return SiasnRecord(nip, f"Pegawai {nip[-3:]}", unit, "Analis", kelas, atasan)


def row(nip: str, atasan: str | None = None, kelas: int = 7, pagu: int = 5_000_000) -> EmployeeRow:
    return EmployeeRow(nip, f"Pegawai {nip[-3:]}", "DISKOMINFO", "Analis", kelas, atasan, pagu)


def test_pagu_is_the_newest_version_begun_by_the_date() -> None:
    assert pagu_on(PAGU, 7, date(2026, 6, 30)) == 4_600_000
    assert pagu_on(PAGU, 7, date(2026, 7, 1)) == 5_000_000
    assert pagu_on(PAGU, 7, date(2025, 12, 31)) is None
    assert pagu_on(PAGU, 8, date(2026, 7, 1)) is None


def test_atasan_cycles_found_through_a_chain_and_not_elsewhere() -> None:
    chain = {A: B, B: C, C: A, D: A}
    assert atasan_cycles(chain) == {A, B, C}
    assert atasan_cycles({A: B, B: C, C: None, D: C}) == set()
    assert atasan_cycles({A: "199901012020011001"}) == set()  # atasan outside the read


def test_resolve_places_good_records_and_reports_each_bad_one() -> None:
    records = [
        rec(A, atasan=B),
        rec(B, kelas=9),
        rec("123"),  # invalid NIP
        rec(C, unit="unor-baru"),  # unit BKPSDM has not mapped
        rec(D, kelas=8),  # no pagu for kelas 8
    ]
    good, bad = resolve(records, {UNIT: "DISKOMINFO"}, PAGU, date(2026, 7, 15), {}, {A: "77"})
    assert [(g.nip, g.opd, g.tpp_pagu, g.pin) for g in good] == [
        (A, "DISKOMINFO", 5_000_000, "77"),
        (B, "DISKOMINFO", 6_200_000, None),
    ]
    reasons = {r.nip: r.reason for r in bad}
    assert set(reasons) == {"123", C, D}
    assert "unor-baru" in reasons[C] and "belum dipetakan" in reasons[C]
    assert "kelas jabatan 8" in reasons[D]


def test_resolve_refuses_an_atasan_cycle_also_through_a_file_employee() -> None:
    # C came from a CSV (not in this read) and names A as atasan; A names B, B names C
    good, bad = resolve(
        [rec(A, atasan=B), rec(B, atasan=C), rec(D)],
        {UNIT: "DISKOMINFO"},
        PAGU,
        date(2026, 7, 15),
        {C: A},
        {},
    )
    assert [g.nip for g in good] == [D]
    assert sorted(r.nip for r in bad) == sorted([A, B])
    assert {r.reason for r in bad} == {"atasan membentuk lingkaran"}


ON = date(2026, 7, 15)  # the sync's WIB day
SINCE = date(2024, 1, 1)


def known_as(r: EmployeeRow, first: date | None = SINCE, last: date | None = None) -> Period:
    return replace(r, aktif_mulai=first, aktif_sampai=last).period()


def starts(changes: Changes) -> dict[str, tuple[date | None, date | None]]:
    return {u.nip: (u.aktif_mulai, u.aktif_sampai) for u in changes.upserts}


def test_diff_emits_nothing_when_nothing_changed() -> None:
    known = {A: [known_as(row(A, B))], B: [known_as(row(B))]}
    changes = diff(known, [row(A, B), row(B)], {A, B}, {A, B}, ON, {}, PAGU)
    assert changes.upserts == [] and changes.leavers == [] and changes.unchanged == 2


def test_diff_a_new_asn_starts_on_a_plausible_tmt_jabatan_else_on_the_sync_day() -> None:
    e, f, g = "199202022020012001", "199202022020012002", "199202022020012003"
    tmt = {e: date(2026, 7, 1), f: date(2026, 8, 1), g: None}  # f: a TMT still to come
    changes = diff({}, [row(e), row(f), row(g)], set(), {e, f, g}, ON, tmt, PAGU)
    assert starts(changes) == {e: (date(2026, 7, 1), None), f: (ON, None), g: (ON, None)}


def test_diff_each_kind_of_change_starts_its_period_on_its_date() -> None:
    e, f, g = "199202022020012001", "199202022020012002", "199202022020012003"
    base = row(A, B, pagu=4_600_000)
    known = {
        A: [known_as(base)],
        B: [known_as(row(B, pagu=4_600_000))],
        C: [known_as(row(C, pagu=4_600_000))],
        D: [known_as(row(D, pagu=4_600_000), last=date(2026, 3, 31))],  # left in March
        e: [known_as(row(e, pagu=4_600_000))],
        f: [known_as(row(f, pagu=4_600_000), first=date(2026, 7, 5))],
        g: [known_as(row(g, pagu=4_600_000))],
    }
    moved = replace(base, opd="BAPPEDA")
    renamed = replace(row(g, pagu=4_600_000), nama="Dr. Pegawai 003")
    promoted = replace(row(e, pagu=4_600_000), jabatan="Analis Ahli Muda")
    rows = [
        moved,  # transfer: SIASN gives no date for it, the TMT is the jabatan's
        row(B, atasan=C, pagu=4_600_000),  # new atasan: the sync day
        row(C, kelas=9, pagu=6_200_000),  # new kelas from a new TMT
        row(D, pagu=4_600_000),  # back after leaving, TMT from before leaving: the sync day
        promoted,  # new jabatan but the TMT did not move (= the period's first day)
        row(f, pagu=5_000_000),  # the kelas 7 pagu of 2026-07-01; the period began after it
        renamed,  # a new gelar: the current period, corrected
    ]
    tmt = {A: date(2026, 7, 1), C: date(2026, 7, 10), D: date(2024, 1, 1), e: SINCE}
    changes = diff(known, rows, set(known), set(known), ON, tmt, PAGU)
    assert starts(changes) == {
        A: (ON, None),
        B: (ON, None),
        C: (date(2026, 7, 10), None),
        D: (ON, None),
        e: (ON, None),
        f: (date(2026, 7, 5), None),
        g: (SINCE, None),
    }
    assert changes.unchanged == 0


def test_diff_a_new_pagu_version_alone_starts_on_its_berlaku_mulai() -> None:
    # kelas 7: 4,600,000 from 2026-01-01, 5,000,000 from 2026-07-01 (PAGU)
    known = {A: [known_as(row(A, pagu=4_600_000))]}
    changes = diff(known, [row(A, pagu=5_000_000)], {A}, {A}, ON, {A: SINCE}, PAGU)
    assert starts(changes) == {A: (date(2026, 7, 1), None)}


def test_diff_leavers_are_only_siasn_employees_no_longer_listed() -> None:
    e = "199202022020012001"
    known = {
        A: [known_as(row(A))],
        B: [known_as(row(B))],
        C: [known_as(row(C))],
        D: [known_as(row(D), last=date(2026, 3, 31))],
        e: [known_as(row(e), last=date(2026, 12, 31))],  # an end still to come
    }
    # A listed; B and e (from SIASN) gone; C came from a file; D left already
    changes = diff(known, [row(A)], {A, B, D, e}, {A}, ON, {}, PAGU)
    assert changes.leavers == [B, e]
    assert changes.last_day == date(2026, 7, 14)  # the day before the sync


def test_diff_a_listed_but_unreadable_asn_is_not_a_leaver() -> None:
    known = {A: [known_as(row(A))], B: [known_as(row(B))]}
    changes = diff(known, [row(A)], {A, B}, {A, B}, ON, {}, PAGU)  # B listed, not readable
    assert changes.leavers == []


def test_csv_import_reports_an_atasan_cycle_per_line_and_keeps_the_others() -> None:
    from services.siasn.domain import parse_employees

    text = (
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        f"{A},Satu,DISKOMINFO,Analis,7,{B},5000000\n"
        f"{B},Dua,DISKOMINFO,Kepala,9,{A},6200000\n"
        f"{C},Tiga,DISKOMINFO,Staf,5,{B},3500000\n"
    )
    good, bad = parse_employees(text)
    assert [g.nip for g in good] == [C]
    assert [(b.line, "lingkaran" in b.reason) for b in bad] == [(2, True), (3, True)]


def test_csv_import_sees_a_cycle_through_an_employee_already_known() -> None:
    from services.siasn.domain import parse_employees

    # C is in the store (from SIASN or an earlier file) with A as atasan; the file makes
    # A report to B and B to C
    text = (
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        f"{A},Satu,DISKOMINFO,Analis,7,{B},5000000\n"
        f"{B},Dua,DISKOMINFO,Kepala,9,{C},6200000\n"
        f"{D},Empat,DISKOMINFO,Staf,5,{B},3500000\n"
    )
    good, bad = parse_employees(text, known_atasan={C: A, A: None})
    assert [g.nip for g in good] == [D]
    assert [b.line for b in bad] == [2, 3]


def test_tmt_jabatan_is_read_day_first_as_siasn_writes_it_and_junk_is_no_date() -> None:
    from services.siasn.adapter import employee_from

    base = {"id": "x", "nipBaru": A, "nama": "Ani", "unorId": UNIT}
    assert employee_from(base | {"tmtJabatan": "16-11-2026"}).tmt_jabatan == date(2026, 11, 16)
    assert employee_from(base | {"tmtJabatan": "2026-11-16"}).tmt_jabatan == date(2026, 11, 16)
    for junk in ("", None, "31-02-2026", "kemarin"):
        assert employee_from(base | {"tmtJabatan": junk}).tmt_jabatan is None
    assert employee_from(base).tmt_jabatan is None
