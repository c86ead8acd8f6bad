"""Valid-looking test values."""

from __future__ import annotations

import random

from contracts.nip import is_valid_nip


def nip(rng: random.Random | None = None) -> str:
    """A fresh 18-digit NIP valid in shape (birth date, TMT, sex, sequence)."""
    r = rng or random.Random()
    value = (
        f"{r.randint(1965, 2000)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
        f"{r.randint(1990, 2024)}{r.randint(1, 12):02d}{r.choice('12')}{r.randint(1, 999):03d}"
    )
    assert is_valid_nip(value), value
    return value
