"""Topic names. One topic per producing service, keyed by NIP; a dead-letter topic per
consumer group."""

from enum import StrEnum


class Topic(StrEnum):
    ATTENDANCE = "sikerja.attendance"
    ACTIVITY = "sikerja.activity"
    APPROVAL = "sikerja.approval"
    TPP = "sikerja.tpp"
    EMPLOYEES = "sikerja.employees"
    # City-wide reference data (produced by attendance): its own topic, so the services that
    # need the calendar do not read attendance's stream of scans to find it.
    CALENDAR = "sikerja.calendar"


def dlq_topic(group: str) -> str:
    return f"{group}.dlq"
