"""Rule sets as data: the shipped files, choosing the one in force, and validation errors
that name the field (in Bahasa Indonesia)."""

from __future__ import annotations

import copy
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.kernel.ruleset import (
    RULESETS_DIR,
    RuleSet,
    RuleSetError,
    available_rulesets,
    load_ruleset,
    parse_ruleset,
    ruleset_in_force,
)

BEKASI = "bekasi-perwali-69-2019"


def _raw(name: str = BEKASI) -> dict[str, Any]:
    return yaml.safe_load((RULESETS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def _fields(exc: RuleSetError) -> list[str]:
    return [field for field, _ in exc.problems]


# -- the shipped Bekasi rule set is exactly docs/rules.md ------------------------------------


def test_bekasi_hours_and_components() -> None:
    rules = load_ruleset(BEKASI)
    assert rules.name == BEKASI
    assert rules.region == "kota-bekasi"
    assert (rules.work_start, rules.work_end) == (time(7, 30), time(16, 0))
    assert rules.single_scan_cutoff == time(12, 0)
    assert rules.discipline_share == Decimal("40")
    assert rules.attendance_cap == "discipline"
    assert rules.filing_deadline_working_days == 1
    assert rules.filing_deadline_time == time(23, 59)
    assert "BKPSDM" in rules.description  # articles marked as to be confirmed


def test_bekasi_late_bands_match_rules_md() -> None:
    rules = load_ruleset(BEKASI)
    got = [(b.min_from, b.min_to, b.code, b.percent) for b in rules.late_bands]
    assert got == [
        (0, 15, None, Decimal("0")),
        (16, 60, "TL1", Decimal("0.25")),
        (61, 120, "TL2", Decimal("0.5")),
        (121, 180, "TL3", Decimal("1")),
        (181, None, "TL4", Decimal("1.5")),
    ]
    assert (rules.missing_checkin.code, rules.missing_checkin.percent) == ("TL4", Decimal("1.5"))


def test_bekasi_early_bands_match_rules_md() -> None:
    rules = load_ruleset(BEKASI)
    got = [(b.min_from, b.min_to, b.code, b.percent) for b in rules.early_bands]
    assert got == [
        (0, 0, None, Decimal("0")),
        (1, 60, "PSW1", Decimal("0.25")),
        (61, 120, "PSW2", Decimal("0.5")),
        (121, 180, "PSW3", Decimal("1")),
        (181, None, "PSW4", Decimal("1.5")),
    ]
    assert (rules.missing_checkout.code, rules.missing_checkout.percent) == ("PSW4", Decimal("1.5"))


def test_bekasi_day_penalties_and_statuses() -> None:
    rules = load_ruleset(BEKASI)
    assert (rules.tk.status, rules.tk.code, rules.tk.percent) == (
        "tanpa_keterangan",
        "TK",
        Decimal("5"),
    )
    assert (rules.its.status, rules.its.code, rules.its.percent) == (
        "izin_tidak_sah",
        "ITS",
        Decimal("2"),
    )
    assert rules.lkh.code == "LKH"
    assert rules.report_required_statuses == {
        "present",
        "dinas_luar",
        "izin_tidak_sah",
        "tanpa_keterangan",
    }
    assert rules.no_deduction_statuses == {
        "cuti_tahunan",
        "cuti_besar",
        "cuti_sakit",
        "cuti_melahirkan",
        "cuti_alasan_penting",
        "cuti_bersama",
        "dinas_luar",
        "tugas_belajar",
    }


def test_every_line_of_bekasi_cites_perwali() -> None:
    rules = load_ruleset(BEKASI)
    articles = [b.article for b in (*rules.late_bands, *rules.early_bands) if b.percent > 0]
    articles += [rules.missing_checkin.article, rules.missing_checkout.article]
    articles += [rules.tk.article, rules.its.article, rules.lkh.article]
    assert all(a and "69/2019" in a for a in articles)


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(0, None), (15, None), (16, "TL1"), (60, "TL1"), (61, "TL2"), (180, "TL3"), (181, "TL4")],
)
def test_late_band_lookup_at_boundaries(minutes: int, code: str | None) -> None:
    assert load_ruleset(BEKASI).late_band(minutes).code == code


def test_second_ruleset_differs() -> None:
    other = load_ruleset("contoh-daerah-lain")
    bekasi = load_ruleset(BEKASI)
    assert [b.percent for b in other.late_bands if b.percent] == [
        Decimal("0.5"),
        Decimal("1"),
        Decimal("1.25"),
        Decimal("1.5"),
    ]
    assert other.effective_from != bekasi.effective_from
    assert other.region != bekasi.region


# -- loading and choosing ---------------------------------------------------------------------


def test_available_rulesets_lists_shipped_files() -> None:
    names = {r.name for r in available_rulesets()}
    assert {BEKASI, "contoh-daerah-lain"} <= names


def test_load_by_path_equals_load_by_name() -> None:
    assert load_ruleset(str(RULESETS_DIR / f"{BEKASI}.yaml")) == load_ruleset(BEKASI)


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(RuleSetError) as err:
        load_ruleset("tidak-ada")
    assert BEKASI in str(err.value)
    assert "tidak ditemukan" in str(err.value)


def _with(**changes: Any) -> RuleSet:
    data = _raw()
    data.update(changes)
    return parse_ruleset(data)


def test_ruleset_in_force_takes_latest_effective_on_or_before_day() -> None:
    old = _with(name="v1", effective_from=date(2019, 11, 1))
    new = _with(name="v2", effective_from=date(2025, 7, 1))
    sets = [new, old]
    assert ruleset_in_force(date(2025, 6, 30), sets).name == "v1"
    assert ruleset_in_force(date(2025, 7, 1), sets).name == "v2"  # its own first day
    assert ruleset_in_force(date(2026, 1, 1), sets).name == "v2"


def test_ruleset_in_force_filters_region() -> None:
    sets = available_rulesets()
    # contoh-daerah-lain is newer (2024) but of another region: Bekasi keeps its own.
    assert ruleset_in_force(date(2025, 1, 1), sets, region="kota-bekasi").name == BEKASI
    assert ruleset_in_force(date(2025, 1, 1), sets).name == "contoh-daerah-lain"


def test_ruleset_in_force_before_any_is_an_error() -> None:
    with pytest.raises(RuleSetError) as err:
        ruleset_in_force(date(2000, 1, 1), available_rulesets())
    assert _fields(err.value) == ["effective_from"]


# -- validation names the field ----------------------------------------------------------------


def _errors(data: dict[str, Any]) -> RuleSetError:
    with pytest.raises(RuleSetError) as err:
        parse_ruleset(data, "uji.yaml")
    return err.value


def test_percent_above_100_names_band_field() -> None:
    data = _raw()
    data["late_bands"][1]["percent"] = "150"
    err = _errors(data)
    assert _fields(err) == ["late_bands.1.percent"]
    assert "antara 0 dan 100" in str(err)
    assert "uji.yaml" in str(err)


def test_negative_percent_rejected() -> None:
    data = _raw()
    data["tk"]["percent"] = "-1"
    assert _fields(_errors(data)) == ["tk.percent"]


def test_missing_field_named() -> None:
    data = _raw()
    del data["its"]
    err = _errors(data)
    assert _fields(err) == ["its"]
    assert "wajib diisi" in str(err)


def test_unknown_key_named() -> None:
    data = _raw()
    data["pagu_tetap"] = 1
    err = _errors(data)
    assert _fields(err) == ["pagu_tetap"]
    assert "tidak dikenal" in str(err)


def test_gap_between_bands() -> None:
    data = _raw()
    data["late_bands"][2]["min_from"] = 62  # band 2 ends at 60, so 61 is covered by nothing
    err = _errors(data)
    assert _fields(err) == ["late_bands"]
    assert "pita ke-3" in str(err) and "61" in str(err)


def test_overlapping_bands() -> None:
    data = _raw()
    data["early_bands"][2]["min_from"] = 50  # overlaps 1-60
    err = _errors(data)
    assert _fields(err) == ["early_bands"]
    assert "tumpang tindih" in str(err)


def test_bands_out_of_order() -> None:
    data = _raw()
    bands = data["late_bands"]
    bands[1], bands[2] = bands[2], bands[1]
    assert _fields(_errors(data)) == ["late_bands"]


def test_last_band_must_be_open() -> None:
    data = _raw()
    data["late_bands"][-1]["min_to"] = 600  # minute 601 would fall in no band
    err = _errors(data)
    assert _fields(err) == ["late_bands"]
    assert "terbuka" in str(err)


def test_open_band_only_last() -> None:
    data = _raw()
    data["late_bands"][1]["min_to"] = None
    assert "hanya pita terakhir" in str(_errors(data))


def test_paid_band_needs_code_and_article() -> None:
    data = _raw()
    del data["late_bands"][1]["article"]
    err = _errors(data)
    assert _fields(err) == ["late_bands.1"]
    assert "article" in str(err)


def test_unquoted_time_is_refused() -> None:
    data = yaml.safe_load((RULESETS_DIR / f"{BEKASI}.yaml").read_text().replace('"16:00"', "16:00"))
    assert data["work_end"] == 960  # what YAML 1.1 makes of it
    err = _errors(data)
    assert _fields(err) == ["work_end"]
    assert "HH:MM" in str(err)


def test_share_above_100() -> None:
    data = _raw()
    data["discipline_share"] = 140
    assert _fields(_errors(data)) == ["discipline_share"]


def test_penalised_status_cannot_be_deduction_free() -> None:
    data = _raw()
    data["no_deduction_statuses"].append("tanpa_keterangan")
    assert "tanpa_keterangan" in str(_errors(data))


def test_all_mistakes_listed_together() -> None:
    data = _raw()
    data["tk"]["percent"] = "abc"
    data["effective_from"] = "kemarin"
    data["attendance_cap"] = "gaji"
    err = _errors(data)
    assert set(_fields(err)) == {"tk.percent", "effective_from", "attendance_cap"}
    assert str(err).count("\n- ") == 3


def test_float_percent_kept_exact() -> None:
    data = _raw()
    data["late_bands"][1]["percent"] = 0.1  # a YAML float
    assert parse_ruleset(data).late_bands[1].percent == Decimal("0.1")


def test_name_must_match_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy.deepcopy(_raw())
    data["name"] = "lain"
    (tmp_path / "uji.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setattr("services.kernel.ruleset.RULESETS_DIR", tmp_path)
    with pytest.raises(RuleSetError) as err:
        load_ruleset("uji")
    assert _fields(err.value) == ["name"]
    assert load_ruleset(str(tmp_path / "uji.yaml")).name == "lain"  # by path: no such rule


def test_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rusak.yaml"
    path.write_text("name: [tidak ditutup\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as err:
        load_ruleset(str(path))
    assert "YAML tidak valid" in str(err.value)


def test_yaml_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "daftar.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(RuleSetError):
        load_ruleset(str(path))
