"""Valid-looking test values and the events tests build again and again."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

from contracts.events import (
    AbsenceRecorded,
    AttendanceDayClosed,
    EmployeeUpserted,
    FingerprintRecorded,
    ReportApproved,
)
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


_fresh_nip = nip  # for builders whose `nip` parameter hides it


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


def scan(nip: str, day: date, at: datetime, **over: Any) -> FingerprintRecorded:
    """A fingerprint scan of `nip` at `at` counted for `day`, published at `at` by attendance
    with a fresh scan id; `over` overrides those (occurred_at, scan_id, producer)."""
    fields = {
        "occurred_at": at,
        "producer": "attendance",
        "scan_id": f"s-{uuid.uuid4().hex[:8]}",
        **over,
    }
    return FingerprintRecorded(nip=nip, scanned_at=at, work_date=day, **fields)


def day_closed(
    nip: str,
    day: date,
    revision: int,
    at: datetime,
    status: str = "present",
    late: int | None = None,
    early: int | None = None,
) -> AttendanceDayClosed:
    """Attendance's closing of `day` for `nip`; a present day is on time unless `late` or
    `early` say otherwise, other statuses carry no minutes."""
    on_time = 0 if status == "present" else None
    return AttendanceDayClosed(
        occurred_at=at,
        producer="attendance",
        nip=nip,
        work_date=day,
        revision=revision,
        status=status,
        minutes_late=on_time if late is None else late,
        minutes_early=on_time if early is None else early,
    )


def approved(nip: str, day: date, at: datetime, **over: Any) -> ReportApproved:
    """The atasan's approval, at `at`, of `nip`'s report of `day`: a fresh report id and
    atasan unless `over` names them (report_id, decided_by)."""
    fields = {"report_id": f"r-{uuid.uuid4().hex[:8]}", "decided_by": _fresh_nip(), **over}
    return ReportApproved(occurred_at=at, producer="approval", nip=nip, work_date=day, **fields)


def absence(
    nip: str, kind: str, start: date, end: date, at: datetime, absence_id: str | None = None
) -> AbsenceRecorded:
    """An absence (cuti, dinas luar, sakit...) of `nip` from `start` to `end` recorded at `at`."""
    return AbsenceRecorded(
        occurred_at=at,
        producer="attendance",
        nip=nip,
        absence_id=absence_id or f"a-{uuid.uuid4().hex[:8]}",
        kind=kind,
        start=start,
        end=end,
    )
