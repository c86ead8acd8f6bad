"""Rule sets as data (docs/rules.md): a versioned YAML file with an effective date.

A rule set holds every number the TPP engine and the attendance day use: hours, the
late/early bands, the day penalties, the disiplin share, which statuses need a daily
report. The engine has no constant of any one city; `bekasi-perwali-69-2019.yaml` is
only the default. Loading validates the file and reports every mistake by field path,
in Bahasa Indonesia (`RuleSetError`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"

# The deployment's region when nobody names a rule set: the rule sets of one region are the
# versions of one regulation; other regions' files must never be picked by date alone.
DEFAULT_REGION = "kota-bekasi"

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_HUNDRED = Decimal(100)


def _to_decimal(value: Any) -> Any:
    # YAML gives floats: go through str so 0.1 stays 0.1 and not its binary neighbour.
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _to_time(value: Any) -> Any:
    # Unquoted 16:00 is a base-60 integer (960) in YAML 1.1: accept only "HH:MM" text.
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError("harus jam dalam teks 'HH:MM' (beri tanda kutip di YAML, mis. \"07:30\")")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _check_percent(value: Decimal) -> Decimal:
    if not value.is_finite() or not (0 <= value <= _HUNDRED):
        raise ValueError("persentase harus antara 0 dan 100")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Model):
    """Minutes [min_from, min_to] (min_to None: and beyond) cost `percent` of the pagu."""

    min_from: int = Field(ge=0)
    min_to: int | None = None
    code: str | None = None
    percent: Decimal
    article: str | None = None

    _dec = field_validator("percent", mode="before")(_to_decimal)

    @field_validator("percent")
    @classmethod
    def _percent_range(cls, value: Decimal) -> Decimal:
        return _check_percent(value)

    @model_validator(mode="after")
    def _shape(self) -> Band:
        if self.min_to is not None and self.min_to < self.min_from:
            raise ValueError("min_to tidak boleh lebih kecil dari min_from")
        if self.percent > 0 and not (self.code and self.article):
            raise ValueError("pita dengan potongan harus punya code dan article")
        return self

    def contains(self, minutes: int) -> bool:
        return self.min_from <= minutes and (self.min_to is None or minutes <= self.min_to)


class Penalty(_Model):
    """One line of a fixed percentage of the pagu (no check-in, no check-out)."""

    code: str = Field(min_length=1)
    percent: Decimal
    article: str = Field(min_length=1)

    _dec = field_validator("percent", mode="before")(_to_decimal)

    @field_validator("percent")
    @classmethod
    def _percent_range(cls, value: Decimal) -> Decimal:
        return _check_percent(value)


class DayPenalty(Penalty):
    """A whole-day line for one day status (tanpa keterangan, izin tidak sah)."""

    status: str = Field(min_length=1)


class LkhRule(_Model):
    code: str = Field(min_length=1)
    article: str = Field(min_length=1)


class KinerjaRules(_Model):
    """The proposal of the monthly kinerja result (docs/rules.md "Monthly kinerja result")."""

    # hasil kerja: share of required report days approved, in percent
    hasil_di_atas_pct: Decimal = Decimal(95)
    hasil_sesuai_pct: Decimal = Decimal(75)
    # perilaku kerja: the month's attendance deduction, in percent of the pagu
    perilaku_sesuai_deduction_pct: Decimal = Decimal(5)

    _dec = field_validator(
        "hasil_di_atas_pct", "hasil_sesuai_pct", "perilaku_sesuai_deduction_pct", mode="before"
    )(_to_decimal)

    @field_validator("hasil_di_atas_pct", "hasil_sesuai_pct", "perilaku_sesuai_deduction_pct")
    @classmethod
    def _percent_range(cls, value: Decimal) -> Decimal:
        return _check_percent(value)

    @model_validator(mode="after")
    def _order(self) -> KinerjaRules:
        if self.hasil_sesuai_pct > self.hasil_di_atas_pct:
            raise ValueError("hasil_sesuai_pct tidak boleh lebih besar dari hasil_di_atas_pct")
        return self


class RuleSet(_Model):
    name: str = Field(min_length=1)
    region: str = Field(min_length=1)
    effective_from: date
    description: str = ""
    work_start: time
    work_end: time
    single_scan_cutoff: time
    late_bands: tuple[Band, ...] = Field(min_length=1)
    early_bands: tuple[Band, ...] = Field(min_length=1)
    missing_checkin: Penalty
    missing_checkout: Penalty
    tk: DayPenalty
    its: DayPenalty
    discipline_share: Decimal
    report_required_statuses: frozenset[str]
    no_deduction_statuses: frozenset[str]
    lkh: LkhRule
    filing_deadline_working_days: int = Field(ge=0)
    filing_deadline_time: time
    # "discipline": the month's attendance lines never take more than the disiplin component
    # (docs/rules.md). "pagu": they may eat into produktivitas, never below a net of zero.
    attendance_cap: Literal["discipline", "pagu"] = "discipline"
    # the thresholds of the monthly kinerja proposal (optional: the documented defaults)
    kinerja: KinerjaRules = KinerjaRules()

    _times = field_validator(
        "work_start", "work_end", "single_scan_cutoff", "filing_deadline_time", mode="before"
    )(_to_time)
    _dec = field_validator("discipline_share", mode="before")(_to_decimal)

    @field_validator("discipline_share")
    @classmethod
    def _share_range(cls, value: Decimal) -> Decimal:
        return _check_percent(value)

    @field_validator("late_bands", "early_bands")
    @classmethod
    def _contiguous(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        # Every whole minute from 0 up must fall in exactly one band, in order.
        expected = 0
        for i, band in enumerate(bands, start=1):
            if band.min_from != expected:
                raise ValueError(
                    f"pita ke-{i} harus mulai di menit {expected} (pita harus urut, bersambung "
                    f"dan tidak tumpang tindih), bukan {band.min_from}"
                )
            if band.min_to is None:
                if i != len(bands):
                    raise ValueError(f"hanya pita terakhir yang boleh tanpa min_to (pita ke-{i})")
                break
            expected = band.min_to + 1
        else:
            raise ValueError(
                "pita terakhir harus terbuka (min_to kosong) agar semua menit tercakup"
            )
        percents = [b.percent for b in bands]
        if percents != sorted(percents):
            raise ValueError("persentase pita tidak boleh turun untuk menit yang lebih banyak")
        return bands

    @model_validator(mode="after")
    def _statuses(self) -> RuleSet:
        if not self.work_start < self.work_end:
            raise ValueError("work_start harus sebelum work_end")
        penalised = {self.tk.status, self.its.status, "present"}
        both = sorted(penalised & self.no_deduction_statuses)
        if both:
            raise ValueError(
                "no_deduction_statuses tidak boleh memuat status yang dipotong: " + ", ".join(both)
            )
        return self

    # -- what the engine asks -------------------------------------------------------------

    def late_band(self, minutes: int) -> Band:
        return _band_for(self.late_bands, minutes)

    def early_band(self, minutes: int) -> Band:
        return _band_for(self.early_bands, minutes)

    def known_statuses(self) -> frozenset[str]:
        return (
            self.report_required_statuses
            | self.no_deduction_statuses
            | {"present", self.tk.status, self.its.status}
        )


def _band_for(bands: tuple[Band, ...], minutes: int) -> Band:
    for band in bands:
        if band.contains(minutes):
            return band
    raise ValueError(f"menit {minutes} tidak masuk pita mana pun")  # bands are validated


# -- errors -------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "wajib diisi",
    "extra_forbidden": "kolom tidak dikenal",
    "int_parsing": "harus bilangan bulat",
    "int_type": "harus bilangan bulat",
    "decimal_parsing": "harus angka desimal",
    "decimal_type": "harus angka desimal",
    "date_parsing": "harus tanggal YYYY-MM-DD",
    "date_type": "harus tanggal YYYY-MM-DD",
    "date_from_datetime_parsing": "harus tanggal YYYY-MM-DD",
    "string_type": "harus teks",
    "string_too_short": "tidak boleh kosong",
    "too_short": "tidak boleh kosong",
    "greater_than_equal": "tidak boleh negatif",
    "literal_error": "nilai tidak dikenal",
    "model_type": "harus berupa pemetaan (kunci: nilai)",
    "tuple_type": "harus berupa daftar",
    "frozen_set_type": "harus berupa daftar",
    "bool_parsing": "harus true atau false",
}


class RuleSetError(ValueError):
    """A rule set file that cannot be used; `problems` is [(field path, message)]."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"- {field}: {msg}" for field, msg in problems)
        super().__init__(f"Rule set '{source}' tidak valid:\n{lines}")


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(berkas)"
        if err["type"] == "value_error":
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        else:
            msg = _MESSAGES.get(err["type"], err["msg"])
            if err["type"] == "literal_error" and "ctx" in err:
                expected = str(err["ctx"].get("expected", "")).replace(" or ", " atau ")
                msg = f"{msg}; pilih salah satu dari {expected}"
        found.append((path, msg))
    return found


# -- loading ------------------------------------------------------------------------------


def parse_ruleset(data: Any, source: str = "<data>") -> RuleSet:
    if not isinstance(data, dict):
        raise RuleSetError(source, [("(berkas)", "isi berkas harus berupa pemetaan YAML")])
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RuleSetError(source, _problems(exc)) from None


def load_ruleset(name_or_path: str) -> RuleSet:
    """A path to a YAML file, or a bare name found as rulesets/NAME.yaml."""
    path = Path(name_or_path)
    by_name = path.suffix not in (".yaml", ".yml") and len(path.parts) == 1
    if by_name:
        path = RULESETS_DIR / f"{name_or_path}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in RULESETS_DIR.glob("*.yaml")))
        raise RuleSetError(
            name_or_path, [("(berkas)", f"rule set tidak ditemukan; yang tersedia: {known}")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleSetError(name_or_path, [("(berkas)", f"tidak dapat dibaca: {exc}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleSetError(name_or_path, [("(berkas)", f"YAML tidak valid: {exc}")]) from None
    rules = parse_ruleset(data, str(path))
    if by_name and rules.name != name_or_path:
        raise RuleSetError(str(path), [("name", f"harus sama dengan nama berkas '{name_or_path}'")])
    return rules


def available_rulesets(directory: Path | None = None) -> list[RuleSet]:
    """Every rule set shipped in `directory` (default: services/kernel/rulesets/)."""
    folder = directory or RULESETS_DIR
    return [load_ruleset(str(p)) for p in sorted(folder.glob("*.yaml"))]


def ruleset_in_force(day: date, rulesets: Iterable[RuleSet], region: str | None = None) -> RuleSet:
    """The rule set with the latest effective_from on or before `day` (of `region`, if given)."""
    candidates = [
        r for r in rulesets if r.effective_from <= day and (region is None or r.region == region)
    ]
    if not candidates:
        where = f" untuk wilayah '{region}'" if region else ""
        raise RuleSetError(
            "(pilihan)", [("effective_from", f"tidak ada rule set yang berlaku pada {day}{where}")]
        )
    return max(candidates, key=lambda r: (r.effective_from, r.name))
