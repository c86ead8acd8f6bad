"""The sync's pure rules: pagu by date, atasan cycles, placing SIASN records, the diff."""

from __future__ import annotations

from datetime import date

from services.siasn.domain import (
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


def test_diff_emits_nothing_when_nothing_changed() -> None:
    known = {A: (row(A, B), True), B: (row(B), True)}
    changes = diff(known, [row(A, B), row(B)], {A, B}, {A, B})
    assert changes.upserts == [] and changes.leavers == [] and changes.unchanged == 2


def test_diff_new_transfer_atasan_jabatan_kelas_and_pagu_are_changes() -> None:
    base = row(A, B)
    known = {A: (base, True), B: (row(B), True), C: (row(C), True), D: (row(D), False)}
    moved = EmployeeRow(A, base.nama, "BAPPEDA", base.jabatan, 7, B, 5_000_000)
    cases = {
        "new": row("199202022020012001"),
        "transfer": moved,
        "atasan": row(B, atasan=C),
        "kelas": row(C, kelas=9, pagu=6_200_000),
        "back after leaving": row(D),
    }
    changes = diff(known, list(cases.values()), {A, B, C, D}, {A, B, C, D})
    assert changes.upserts == list(cases.values())
    assert changes.unchanged == 0


def test_diff_leavers_are_only_siasn_employees_no_longer_listed() -> None:
    known = {A: (row(A), True), B: (row(B), True), C: (row(C), True), D: (row(D), False)}
    # A listed; B (from SIASN) gone; C came from a file; D already inactive
    changes = diff(known, [row(A)], {A, B, D}, {A})
    assert changes.leavers == [B]


def test_diff_a_listed_but_unreadable_asn_is_not_a_leaver() -> None:
    known = {A: (row(A), True), B: (row(B), True)}
    changes = diff(known, [row(A)], {A, B}, {A, B})  # B listed, its record not readable
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
