"""Valid-looking test values and the events tests build again and again."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from contracts.events import EmployeeUpserted
from contracts.nip import is_valid_nip

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def nip(rng: random.Random | None = None) -> str:
    """A fresh 18-digit NIP valid in shape (birth date, TMT, sex, sequence)."""
    r = rng or random.Random()
    value = (
        f"{r.randint(1965, 2000)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
        f"{r.randint(1990, 2024)}{r.randint(1, 12):02d}{r.choice('12')}{r.randint(1, 999):03d}"
    )
    assert is_valid_nip(value), value
    return value


def employee(
    nip: str,
    atasan: str | None = None,
    at: datetime | None = None,
    *,
    producer: str = "siasn",
    **fields: Any,
) -> EmployeeUpserted:
    """The employee master's EmployeeUpserted for `nip` (reporting to `atasan`), at `at`
    (T0 by default); `fields` override the other columns (nama, opd, jabatan, kelas_jabatan,
    tpp_pagu, pin)."""
    columns: dict[str, Any] = {
        "nama": "Pegawai Uji",
        "opd": "Dinas Uji",
        "kelas_jabatan": 7,
        "tpp_pagu": 3_000_000,
        **fields,
    }
    return EmployeeUpserted(
        occurred_at=at or T0, producer=producer, nip=nip, atasan_nip=atasan, **columns
    )
