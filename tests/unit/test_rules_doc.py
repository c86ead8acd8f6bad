"""docs/rules.md documents every parameter a rule set can hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.kernel.ruleset import (
    RULESETS_DIR,
    Band,
    DayPenalty,
    KinerjaRules,
    LkhRule,
    Penalty,
    RuleSet,
)

RULES_DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def keys_of(data: Any) -> set[str]:
    """Every mapping key at any depth (bands are mappings inside lists)."""
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in keys_of(value)}
    if isinstance(data, list):
        return {k for item in data for k in keys_of(item)}
    return set()


SHIPPED = sorted(RULESETS_DIR.glob("*.yaml"))
# What the files use, plus what the model accepts (an optional key no file sets yet).
MODEL_KEYS = {
    f for m in (RuleSet, Band, Penalty, DayPenalty, LkhRule, KinerjaRules) for f in m.model_fields
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_key_of_a_shipped_rule_set_is_documented(path: Path) -> None:
    doc = RULES_DOC.read_text(encoding="utf-8")
    keys = keys_of(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert sorted(k for k in keys if f"`{k}`" not in doc) == []


def test_every_key_the_rule_set_model_accepts_is_documented() -> None:
    doc = RULES_DOC.read_text(encoding="utf-8")
    assert sorted(k for k in MODEL_KEYS if f"`{k}`" not in doc) == []


def test_rule_sets_are_shipped() -> None:
    assert len(SHIPPED) >= 2
