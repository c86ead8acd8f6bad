"""The demo city generator: valid, consistent, varied and deterministic CSV files."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from contracts.nip import is_valid_nip
from services.kernel.calendar import WorkCalendar
from sikerja_cli.demo_data import PAGU_BY_KELAS, generate, last_month

HEADERS = {
    "employees.csv": [
        "nip",
        "nama",
        "opd",
        "jabatan",
        "kelas_jabatan",
        "atasan_nip",
        "tpp_pagu",
        "aktif_mulai",
        "aktif_sampai",
    ],
    "scans.csv": ["nip", "waktu"],
    "absences.csv": ["nip", "mulai", "selesai", "jenis"],
    "reports.csv": ["nip", "tanggal", "status"],
}


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(out, employees=60, opds=3, period="2026-10", seed=7)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Large enough that every rare case shows up at least once.
    out = tmp_path_factory.mktemp("medium")
    generate(out, employees=600, opds=8, period="2026-10", seed=11)
    return out


def test_files_have_exact_headers_and_summary_counts(small: tuple[Path, dict[str, int]]) -> None:
    out, summary = small
    for name, header in HEADERS.items():
        fields, rows = _read(out / name)
        assert fields == header, name
        assert summary[name.removesuffix(".csv")] == len(rows), name
    assert summary["employees"] == 60
    # October 2026: the 1st is a Thursday, so Thu and Fri occur 5 times, Mon-Wed 4 times:
    # 4 + 4 + 4 + 5 + 5 = 22 weekdays, and Indonesia has no national holiday that month.
    assert summary["working_days"] == 22


def test_every_asn_is_active_from_the_first_day_of_the_month(
    small: tuple[Path, dict[str, int]],
) -> None:
    # loaded later through siasn's import, an undated row would start on the import day
    _, employees = _read(small[0] / "employees.csv")
    assert {e["aktif_mulai"] for e in employees} == {"2026-10-01"}  # `small` is 2026-10


def test_nips_are_valid_and_unique(small: tuple[Path, dict[str, int]]) -> None:
    _, employees = _read(small[0] / "employees.csv")
    nips = [e["nip"] for e in employees]
    assert all(is_valid_nip(n) for n in nips)
    assert len(set(nips)) == len(nips) == 60


def test_opds_are_named_after_kota_bekasi(small: tuple[Path, dict[str, int]]) -> None:
    _, employees = _read(small[0] / "employees.csv")
    opds = list(dict.fromkeys(e["opd"] for e in employees))
    assert opds == ["Dinas Pendidikan", "Dinas Kesehatan", "BKPSDM"]


def test_more_opds_than_names_are_numbered(tmp_path: Path) -> None:
    generate(tmp_path, employees=50, opds=46, period="2026-10", seed=1)
    _, employees = _read(tmp_path / "employees.csv")
    opds = list(dict.fromkeys(e["opd"] for e in employees))
    assert len(opds) == 46 and len(set(opds)) == 46
    assert "Kecamatan Bekasi Timur" in opds
    assert opds[-2:] == ["OPD 45", "OPD 46"]


def test_hierarchy_is_one_tree_per_opd(medium: Path) -> None:
    _, employees = _read(medium / "employees.csv")
    by_nip = {e["nip"]: e for e in employees}
    heads = Counter(e["opd"] for e in employees if e["atasan_nip"] == "")
    assert set(heads.values()) == {1}
    assert set(heads) == {e["opd"] for e in employees}
    subordinates = Counter(e["atasan_nip"] for e in employees if e["atasan_nip"])
    assert max(subordinates.values()) <= 30
    for e in employees:
        if e["atasan_nip"]:
            assert by_nip[e["atasan_nip"]]["opd"] == e["opd"]
        # Walk up: reach the OPD's head within kepala -> bidang -> seksi -> staf (3 steps).
        seen, nip = {e["nip"]}, e["nip"]
        for _ in range(3):
            if by_nip[nip]["atasan_nip"] == "":
                break
            nip = by_nip[nip]["atasan_nip"]
            assert nip not in seen, "cycle"
            seen.add(nip)
        assert by_nip[nip]["atasan_nip"] == ""
    # A real middle layer exists: someone is an atasan without being a head.
    assert any(by_nip[a]["atasan_nip"] for a in subordinates)


def test_kelas_and_pagu(medium: Path) -> None:
    _, employees = _read(medium / "employees.csv")
    for e in employees:
        kelas, pagu = int(e["kelas_jabatan"]), int(e["tpp_pagu"])
        assert 1 <= kelas <= 15
        assert 2_000_000 <= pagu <= 25_000_000
        assert pagu == PAGU_BY_KELAS[kelas]
    # The first 8 OPDs include a Kecamatan (Camat, 13), the Sekretariat Daerah (15) and
    # Dinas Pendidikan, big enough (~246 ASN) for several bidang (11) and seksi (10): with
    # staf in 1-8, subbagian 9 and sekretaris 12, all fifteen kelas appear.
    assert {int(e["kelas_jabatan"]) for e in employees} == set(range(1, 16))
    # A higher kelas never earns a lower pagu.
    pagu_of = [PAGU_BY_KELAS[k] for k in range(1, 16)]
    assert pagu_of == sorted(pagu_of) and len(set(pagu_of)) == 15
    # Every atasan is in a higher kelas than each of their subordinates.
    by_nip = {e["nip"]: e for e in employees}
    for e in employees:
        if e["atasan_nip"]:
            assert int(by_nip[e["atasan_nip"]]["kelas_jabatan"]) > int(e["kelas_jabatan"])


def test_scans_only_on_working_days_of_the_period(small: tuple[Path, dict[str, int]]) -> None:
    _, scans = _read(small[0] / "scans.csv")
    _, employees = _read(small[0] / "employees.csv")
    nips = {e["nip"] for e in employees}
    cal = WorkCalendar.indonesia([2026])
    for s in scans:
        at = datetime.strptime(s["waktu"], "%Y-%m-%d %H:%M:%S")
        assert s["nip"] in nips
        assert (at.year, at.month) == (2026, 10)
        assert at.weekday() < 5 and cal.is_working_day(at.date())


def test_no_scans_on_a_national_holiday(tmp_path: Path) -> None:
    # 17 August 2026 (Hari Kemerdekaan) is a Monday: a weekday, yet no one works.
    summary = generate(tmp_path, employees=40, opds=2, period="2026-08", seed=3)
    _, scans = _read(tmp_path / "scans.csv")
    days = {s["waktu"][:10] for s in scans}
    assert "2026-08-17" not in days
    assert "2026-08-18" in days
    # August 2026: Sat 1st, so Sat/Sun/Mon occur 5 times: 5 + 4 + 4 + 4 + 4 = 21 weekdays,
    # less 17 August = 20 at most (the calendar may add cuti bersama, never more days).
    assert summary["working_days"] <= 20


def test_absences_and_reports_are_well_formed(medium: Path) -> None:
    _, employees = _read(medium / "employees.csv")
    nips = {e["nip"] for e in employees}
    cal = WorkCalendar.indonesia([2026])
    _, absences = _read(medium / "absences.csv")
    for a in absences:
        start, end = date.fromisoformat(a["mulai"]), date.fromisoformat(a["selesai"])
        assert a["nip"] in nips
        assert date(2026, 10, 1) <= start <= end <= date(2026, 10, 31)
        assert cal.is_working_day(start) and cal.is_working_day(end)
    assert {a["jenis"] for a in absences} == {
        "cuti_tahunan",
        "cuti_sakit",
        "dinas_luar",
        "izin_tidak_sah",
    }
    _, reports = _read(medium / "reports.csv")
    assert all(r["nip"] in nips for r in reports)
    assert all(cal.is_working_day(date.fromisoformat(r["tanggal"])) for r in reports)
    assert len({(r["nip"], r["tanggal"]) for r in reports}) == len(reports)


def _minutes(clock: str) -> int:
    h, m, _ = (int(x) for x in clock.split(":"))
    return h * 60 + m


def test_the_month_has_every_kind_of_day(medium: Path) -> None:
    _, scans = _read(medium / "scans.csv")
    _, absences = _read(medium / "absences.csv")
    _, reports = _read(medium / "reports.csv")
    _, employees = _read(medium / "employees.csv")
    days: dict[tuple[str, str], list[int]] = {}
    for s in scans:
        days.setdefault((s["nip"], s["waktu"][:10]), []).append(_minutes(s["waktu"][11:]))

    # Late bands of docs/rules.md, in minutes after 07:30 (= 450): 16-60, 61-120, 121-180, >180.
    late = Counter()
    early = Counter()
    singles = 0
    for times in days.values():
        if len(times) == 1:
            singles += 1
            continue
        minutes_late = min(times) - 450
        band = next((b for b, top in enumerate((15, 60, 120, 180)) if minutes_late <= top), 4)
        late[band] += 1
        minutes_early = 960 - max(times)  # 16:00 = 960
        if minutes_early > 0:
            early[next((b for b, top in enumerate((60, 120, 180)) if minutes_early <= top), 3)] += 1
    assert all(late[b] > 0 for b in range(5)), late
    assert all(early[b] > 0 for b in range(4)), early
    # Mostly on time: the 0-15 band holds the large majority of days.
    assert late[0] > 0.8 * sum(late.values())
    assert singles > 0

    # Some working days have neither a scan nor an absence record (tanpa keterangan).
    on_leave = {
        (a["nip"], d.isoformat())
        for a in absences
        for d in _dates(date.fromisoformat(a["mulai"]), date.fromisoformat(a["selesai"]))
    }
    working = WorkCalendar.indonesia([2026]).working_days_in_month(2026, 10)
    nips = [e["nip"] for e in employees]
    missing = [
        (n, d.isoformat())
        for n in nips
        for d in working
        if (n, d.isoformat()) not in days and (n, d.isoformat()) not in on_leave
    ]
    assert missing

    statuses = Counter(r["status"] for r in reports)
    assert set(statuses) == {"approved", "pending", "rejected"}
    assert statuses["approved"] > 0.8 * len(reports)
    # Present days without a report exist (the LKH deduction is exercised) ...
    reported = {(r["nip"], r["tanggal"]) for r in reports}
    assert any(key not in reported for key in days)


def _dates(start: date, end: date) -> list[date]:
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_report_is_on_a_day_it_could_be_filed(tmp_path: Path, seed: int) -> None:
    # docs/rules.md "Daily reports": a report for D needs a scan on D or a dinas_luar record
    # covering D. The demo is loaded through the live import, which refuses any other.
    generate(tmp_path, employees=300, opds=3, period="2026-11", seed=seed)
    _, scans = _read(tmp_path / "scans.csv")
    _, absences = _read(tmp_path / "absences.csv")
    _, reports = _read(tmp_path / "reports.csv")
    scanned = {(s["nip"], s["waktu"][:10]) for s in scans}
    dinas_luar = {
        (a["nip"], d.isoformat())
        for a in absences
        if a["jenis"] == "dinas_luar"
        for d in _dates(date.fromisoformat(a["mulai"]), date.fromisoformat(a["selesai"]))
    }
    unfileable = [
        (r["nip"], r["tanggal"])
        for r in reports
        if (r["nip"], r["tanggal"]) not in scanned | dinas_luar
    ]
    assert reports and unfileable == []


def test_same_seed_same_bytes_other_seed_other_city(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, employees=60, opds=3, period="2026-10", seed=7)
    generate(b, employees=60, opds=3, period="2026-10", seed=7)
    generate(c, employees=60, opds=3, period="2026-10", seed=8)
    for name in HEADERS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "employees.csv").read_bytes() != (c / "employees.csv").read_bytes()
    assert (a / "scans.csv").read_bytes() != (c / "scans.csv").read_bytes()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OPD"):
        generate(tmp_path, employees=2, opds=3, period="2026-10")
    with pytest.raises(ValueError, match="periode"):
        generate(tmp_path, employees=10, opds=1, period="2026-13")


@pytest.mark.parametrize(
    ("today", "period"),
    [
        (date(2026, 12, 1), "2026-11"),
        (date(2026, 1, 31), "2025-12"),
        (date(2026, 3, 15), "2026-02"),
    ],
)
def test_the_demo_month_is_the_month_before_today(today: date, period: str) -> None:
    assert last_month(today) == period


def test_annulments_by_opd_and_by_nip_with_and_without_a_code(tmp_path: Path) -> None:
    # RULES.md "Annulled cuts": exactly one of nip and opd, an optional code. The by-NIP ones
    # hit a day with a cut, so every statement they name changes; the other files are those
    # of the same city without annulments (their own random stream).
    from sikerja_cli.simulate import run_simulation

    plain, annulled = tmp_path / "plain", tmp_path / "annulled"
    generate(plain, employees=200, opds=3, period="2026-10", seed=5, changes=0.2)
    counts = generate(
        annulled, employees=200, opds=3, period="2026-10", seed=5, changes=0.2,
        opd_annulments=4, nip_annulments=30,
    )  # fmt: skip
    assert not (plain / "annulments.csv").exists()
    for name in HEADERS:
        assert (plain / name).read_bytes() == (annulled / name).read_bytes(), name
    header, rows = _read(annulled / "annulments.csv")
    assert header == ["nip", "opd", "tanggal", "kode", "alasan"]
    assert counts["annulments"] == len(rows)
    by_opd = [r for r in rows if r["opd"]]
    by_nip = [r for r in rows if r["nip"]]
    assert len(by_opd) == 4 and 25 <= len(by_nip) <= 30  # the same one twice is kept once
    assert all(bool(r["nip"]) != bool(r["opd"]) and r["alasan"] for r in rows)
    assert {bool(r["kode"]) for r in by_opd} == {bool(r["kode"]) for r in by_nip} == {True, False}
    assert len({(r["nip"], r["opd"], r["tanggal"], r["kode"]) for r in rows}) == len(rows)

    result = run_simulation(annulled, "2026-10")
    assert result.rejected_inputs == []
    annulled_lines = {
        (s.nip, ln.day.isoformat(), ln.code)
        for s in result.statements
        for ln in s.lines
        if ln.annulled_amount is not None
    }
    for r in by_nip:  # each names a line that is there, so it annuls something
        assert any(
            (nip, day) == (r["nip"], r["tanggal"]) and r["kode"] in ("", code)
            for nip, day, code in annulled_lines
        ), r
