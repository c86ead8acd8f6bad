"""Contracts: the committed schemas are current; the envelope is strict where it matters."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from contracts import EVENT_TYPES, PoisonEvent, Topic, parse_event
from contracts.events import AttendanceDayClosed, FingerprintRecorded
from contracts.generate import stale
from contracts.nip import nip_problem

NIP = "198503122010011001"


def test_committed_schemas_are_not_stale() -> None:
    assert stale() == [], "run: uv run python -m contracts.generate"


def test_every_event_of_the_design_exists_and_has_a_topic() -> None:
    assert set(EVENT_TYPES) == {
        "FingerprintRecorded",
        "AbsenceRecorded",
        "AttendanceDayClosed",
        "WorkCalendarChanged",
        "ActivityReported",
        "ActivityRevised",
        "ActivityWithdrawn",
        "SkpTargetChanged",
        "ReportApproved",
        "ReportRejected",
        "RevisionRequested",
        "DelegationGranted",
        "DelegationRevoked",
        "PenilaiAssigned",
        "PenilaiRemoved",
        "TppRecomputed",
        "TppPeriodClosed",
        "KinerjaResultConfirmed",
        "EmployeeUpserted",
        "EmployeeDeactivated",
    }
    assert {cls.TOPIC for cls in EVENT_TYPES.values()} == set(Topic)


def test_occurred_at_is_normalised_to_utc_and_naive_is_refused() -> None:
    wib = timezone(timedelta(hours=7))
    event = FingerprintRecorded(
        occurred_at=datetime(2026, 10, 5, 7, 30, tzinfo=wib),
        producer="t",
        nip=NIP,
        scan_id="s",
        scanned_at=datetime(2026, 10, 5, 7, 30, tzinfo=wib),
        work_date=date(2026, 10, 5),
    )
    assert event.occurred_at == datetime(2026, 10, 5, 0, 30, tzinfo=UTC)
    assert event.occurred_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError):
        FingerprintRecorded(
            occurred_at=datetime(2026, 10, 5, 7, 30),
            producer="t",
            nip=NIP,
            scan_id="s",
            scanned_at=datetime(2026, 10, 5, 7, 30, tzinfo=UTC),
            work_date=date(2026, 10, 5),
        )


def test_round_trip_and_key_is_the_nip() -> None:
    event = AttendanceDayClosed(
        occurred_at=datetime.now(UTC),
        producer="attendance",
        nip=NIP,
        work_date=date(2026, 10, 5),
        revision=2,
        status="present",
        minutes_late=37,
        minutes_early=0,
    )
    again = parse_event(event.to_bytes())
    assert again == event and again.key == NIP.encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"event_type": "Unknown"}).encode(), "unknown event_type"),
        (json.dumps({"event_type": "ReportApproved", "schema_version": 2}).encode(), "newer"),
        (json.dumps({"event_type": "ReportApproved", "schema_version": 1}).encode(), "invalid"),
    ],
)
def test_poison_is_recognised(raw: bytes, reason: str) -> None:
    with pytest.raises(PoisonEvent, match=reason):
        parse_event(raw)


@pytest.mark.parametrize(
    ("nip", "ok"),
    [
        ("198503122010011001", True),
        ("19850312201001100", False),  # 17 digits
        ("198513122010011001", False),  # month 13 in the birth date
        ("198503122010131001", False),  # TMT month 13
        ("198503122010013001", False),  # sex digit 3
        ("198503122010011000", False),  # sequence 000
    ],
)
def test_nip_shape(nip: str, ok: bool) -> None:
    assert (nip_problem(nip) is None) is ok


def test_the_contracts_speak_the_kernels_vocabulary_and_the_rules_know_every_status() -> None:
    from typing import get_args

    from contracts.events import AbsenceKind, DayStatus
    from services.kernel.ruleset import available_rulesets
    from services.kernel.vocabulary import ABSENCE_KINDS, DAY_STATUSES, STATUS_NON_WORKING

    assert get_args(AbsenceKind) == ABSENCE_KINDS
    assert get_args(DayStatus) == DAY_STATUSES
    for rules in available_rulesets():
        assert set(DAY_STATUSES) - {STATUS_NON_WORKING} <= rules.known_statuses(), rules.name
