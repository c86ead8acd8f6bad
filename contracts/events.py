"""Integration events of SIKERJA: one envelope, one small model per event.

Event models live here and nowhere else. A breaking change is a new `schema_version`;
consumers accept every version up to the one they know and send newer ones to the
dead-letter topic (see `parse_event`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from contracts.topics import Topic
from services.kernel.vocabulary import ABSENCE_KINDS, DAY_STATUSES


def _migration_field() -> Any:
    # One marker, one meaning on every event that carries it (issue 14: loading a past
    # month must not touch the present).
    return Field(
        False,
        description="produced by a BKPSDM migration import of history (or caused by one): "
        "historical times, and nobody is notified of it",
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
Nip = Annotated[str, Field(pattern=r"^\d{18}$", description="NIP, 18 digits; the partition key")]


class Event(BaseModel):
    """The envelope every event carries."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TOPIC: ClassVar[Topic]
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str
    schema_version: int = 1
    occurred_at: UtcDatetime
    producer: str
    nip: Nip
    causation_id: UUID | None = None

    @property
    def key(self) -> bytes:
        return self.nip.encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


# --- attendance ---------------------------------------------------------------------------


ScanSource = Literal["adms", "csv", "xlsx", "api"]  # where a scan came from


class FingerprintRecorded(Event):
    """A scan was accepted (device push, CSV/XLSX import or API)."""

    TOPIC = Topic.ATTENDANCE
    event_type: Literal["FingerprintRecorded"] = "FingerprintRecorded"
    scan_id: str
    scanned_at: UtcDatetime
    work_date: date = Field(description="the business date in WIB")
    device_sn: str | None = None
    source: ScanSource = "api"
    flag: str | None = Field(None, description="e.g. 'future' or 'clock_suspect'")
    migration: bool = _migration_field()


AbsenceKind = Literal[ABSENCE_KINDS]  # type: ignore[valid-type]


class AbsenceRecorded(Event):
    """An absence over an inclusive date range, or its cancellation."""

    TOPIC = Topic.ATTENDANCE
    event_type: Literal["AbsenceRecorded"] = "AbsenceRecorded"
    absence_id: str
    kind: AbsenceKind
    start: date
    end: date
    cancelled: bool = False
    document_id: str | None = None


DayStatus = Literal[DAY_STATUSES]  # type: ignore[valid-type]


class AttendanceDayClosed(Event):
    """The facts of one working day; a later revision replaces an earlier one."""

    TOPIC = Topic.ATTENDANCE
    event_type: Literal["AttendanceDayClosed"] = "AttendanceDayClosed"
    work_date: date
    revision: int = Field(ge=1)
    status: DayStatus
    check_in: UtcDatetime | None = None
    check_out: UtcDatetime | None = None
    minutes_late: int | None = Field(None, ge=0)
    minutes_early: int | None = Field(None, ge=0)
    migration: bool = _migration_field()


CITY_KEY = "0" * 18  # the partition key of city-wide facts: one partition keeps their order


class CalendarHoliday(BaseModel):
    model_config = ConfigDict(frozen=True)

    tanggal: date
    nama: str = ""


class WorkCalendarChanged(Event):
    """BKPSDM changed the work calendar of `year` (attendance owns it). The event carries
    the year's complete set of BKPSDM's overrides of the national calendar, not the one
    change: a consumer keeps the newest (by occurred_at) and needs no history. `nip` is
    CITY_KEY."""

    TOPIC = Topic.CALENDAR
    event_type: Literal["WorkCalendarChanged"] = "WorkCalendarChanged"
    year: int = Field(ge=2000, le=2100)
    holidays: list[CalendarHoliday] = Field(
        default_factory=list, description="dates BKPSDM made holidays (e.g. cuti bersama)"
    )
    working_days: list[date] = Field(
        default_factory=list,
        description="dates BKPSDM made working days (a holiday cancelled, a Saturday made up)",
    )


# --- activity -----------------------------------------------------------------------------


class _ReportBody(Event):
    report_id: str
    work_date: date
    description: str
    output: str = ""
    quantity: int = 1
    minutes: int = 0
    skp_target_id: str | None = None


class ActivityReported(_ReportBody):
    TOPIC = Topic.ACTIVITY
    event_type: Literal["ActivityReported"] = "ActivityReported"
    imported_decision: Literal["approved", "rejected"] | None = Field(
        None,
        description="a BKPSDM migration import's historical decision; approval records it",
    )
    imported_decided_at: UtcDatetime | None = Field(
        None,
        description=(
            "when the historical decision was taken, if the import says; approval records the "
            "decision at this time (else at the end of the report's day), not the import's"
        ),
    )
    migration: bool = _migration_field()


class ActivityRevised(_ReportBody):
    """A pending report edited, or a report revised after a revision request."""

    TOPIC = Topic.ACTIVITY
    event_type: Literal["ActivityRevised"] = "ActivityRevised"
    revision: int = Field(ge=1)


class SkpTargetChanged(Event):
    """An SKP target of the ASN (`nip`) was created, changed or deleted (`deleted`), so that
    approval, which owns the report decisions, can tell whether every target of a month is
    realised (docs/rules.md "Monthly kinerja result")."""

    TOPIC = Topic.ACTIVITY
    event_type: Literal["SkpTargetChanged"] = "SkpTargetChanged"
    target_id: str
    year: int
    target_quantity: int = Field(ge=1, description="the yearly target quantity")
    deleted: bool = False


class ActivityWithdrawn(Event):
    TOPIC = Topic.ACTIVITY
    event_type: Literal["ActivityWithdrawn"] = "ActivityWithdrawn"
    report_id: str
    work_date: date


# --- approval -----------------------------------------------------------------------------


class _Decision(Event):
    TOPIC = Topic.APPROVAL
    report_id: str
    work_date: date
    decided_by: Nip
    as_plt_for: Nip | None = Field(None, description="set when a Plt substitute decided")
    as_penilai: str | None = Field(
        None,
        max_length=18,
        description=(
            "set when the penilai BKPSDM named for an employee without atasan decided: the "
            "penilai's NIP, or 'BKPSDM' (then `decided_by` is the BKPSDM officer)"
        ),
    )
    migration: bool = _migration_field()


class ReportApproved(_Decision):
    event_type: Literal["ReportApproved"] = "ReportApproved"


class ReportRejected(_Decision):
    event_type: Literal["ReportRejected"] = "ReportRejected"
    reason: str = Field(min_length=1)


class RevisionRequested(_Decision):
    event_type: Literal["RevisionRequested"] = "RevisionRequested"
    note: str = Field(min_length=1)


class DelegationGranted(Event):
    """An atasan (`nip`) delegated their approvals to a Plt from `start` to `end`."""

    TOPIC = Topic.APPROVAL
    event_type: Literal["DelegationGranted"] = "DelegationGranted"
    delegation_id: str
    plt_nip: Nip
    start: date = Field(description="first day of the Plt window (inclusive)")
    end: date = Field(description="last day of the Plt window (inclusive)")


class DelegationRevoked(Event):
    """An atasan's (`nip`) delegation to a Plt was revoked: it counts no more."""

    TOPIC = Topic.APPROVAL
    event_type: Literal["DelegationRevoked"] = "DelegationRevoked"
    delegation_id: str
    plt_nip: Nip


class PenilaiAssigned(Event):
    """BKPSDM named an official (`penilai_nip`) to decide the reports of `nip`, an employee
    without atasan (a Kepala OPD, the Sekda), dated `first`..`last` (inclusive; None =
    open). Only an official's NIP is announced: BKPSDM as penilai reads everything anyway."""

    TOPIC = Topic.APPROVAL
    event_type: Literal["PenilaiAssigned"] = "PenilaiAssigned"
    penilai_id: str
    penilai_nip: Nip
    first: date | None = Field(None, description="first report date covered; None: from the start")
    last: date | None = Field(None, description="last report date covered; None: open")


class PenilaiRemoved(Event):
    """BKPSDM removed the penilai `penilai_id` of `nip`: it counts no more."""

    TOPIC = Topic.APPROVAL
    event_type: Literal["PenilaiRemoved"] = "PenilaiRemoved"
    penilai_id: str
    penilai_nip: Nip


# --- tpp ----------------------------------------------------------------------------------

Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class TppRecomputed(Event):
    """The month statement of one ASN changed its net amount."""

    TOPIC = Topic.TPP
    event_type: Literal["TppRecomputed"] = "TppRecomputed"
    period: Period
    rules: str
    old_net: int | None
    new_net: int
    cause_event_type: str  # an event type, or AnnulmentRecorded / AnnulmentRevoked
    cause_event_id: UUID | None = None  # for an annulment: the audit log entry of the action
    cause_annulment_id: str | None = Field(
        None, description="the annulment (BKPSDM) that caused the recomputation, if one did"
    )
    migration: bool = _migration_field()


class TppPeriodClosed(Event):
    """BKPSDM closed a month: the statement of this ASN is frozen at `net`. The summary
    fields (None from a producer before them) are what the monthly kinerja proposal reads."""

    TOPIC = Topic.TPP
    event_type: Literal["TppPeriodClosed"] = "TppPeriodClosed"
    period: Period
    rules: str
    pagu: int
    net: int
    closed_by: str
    required_days: int | None = Field(None, ge=0, description="required report days")
    approved_days: int | None = Field(
        None, ge=0, description="required report days with an approved report"
    )
    attendance_deduction: int | None = Field(
        None, ge=0, description="the month's attendance deduction (rupiah, as on the statement)"
    )
    attendance_lines: int | None = Field(
        None, ge=0, description="attendance lines (TL, PSW, TK, ITS...; not LKH) of the month"
    )
    tk_days: int | None = Field(None, ge=0, description="days absent without notice (TK)")


# --- monthly kinerja result (approval decides, siasn delivers) ----------------------------

Rating = Literal["di_atas", "sesuai", "di_bawah"]


class KinerjaResultConfirmed(Event):
    """The atasan (`confirmed_by`) confirmed or changed the month's two ratings of an ASN
    (`nip`), docs/rules.md "Monthly kinerja result". A higher `revision` for the same
    period replaces the earlier one (a correction)."""

    TOPIC = Topic.APPROVAL
    event_type: Literal["KinerjaResultConfirmed"] = "KinerjaResultConfirmed"
    period: Period
    hasil_kerja: Rating
    perilaku_kerja: Rating
    confirmed_by: Nip
    reason: str = Field("", description="why the atasan changed the proposal, if they did")
    revision: int = Field(1, ge=1)


# --- employees ----------------------------------------------------------------------------


class EmployeeUpserted(Event):
    """A period of an employee's master data (RULES.md "Employment within a month"): who
    they are from `aktif_mulai` to `aktif_sampai` (inclusive; null = open at that end).

    Schema 2 added the two dates. A consumer merges the period into the ones it knows
    (services/kernel/employment.py `merge_period`): the newest statement wins for the days
    it covers. A schema-1 event (no dates) replaces the latest period's data in place."""

    TOPIC = Topic.EMPLOYEES
    SCHEMA_VERSION = 2
    event_type: Literal["EmployeeUpserted"] = "EmployeeUpserted"
    schema_version: int = 2
    nama: str
    opd: str
    jabatan: str = ""
    kelas_jabatan: int = Field(ge=1, le=17)
    atasan_nip: Nip | None = None
    tpp_pagu: int = Field(ge=0)
    pin: str | None = Field(None, description="the fingerprint device PIN, when known")
    aktif_mulai: date | None = Field(None, description="first day of the period (WIB)")
    aktif_sampai: date | None = Field(None, description="last day of the period (WIB)")


class EmployeeDeactivated(Event):
    """The employee left: their employment ends with `aktif_sampai` (the last active day,
    inclusive). Schema 2 added the date; a schema-1 event ends it on the WIB date of
    `occurred_at`."""

    TOPIC = Topic.EMPLOYEES
    SCHEMA_VERSION = 2
    event_type: Literal["EmployeeDeactivated"] = "EmployeeDeactivated"
    schema_version: int = 2
    reason: str = ""
    aktif_sampai: date | None = Field(None, description="last active day (WIB)")


EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["event_type"].default: cls
    for cls in (
        FingerprintRecorded,
        AbsenceRecorded,
        AttendanceDayClosed,
        WorkCalendarChanged,
        ActivityReported,
        ActivityRevised,
        ActivityWithdrawn,
        SkpTargetChanged,
        ReportApproved,
        ReportRejected,
        RevisionRequested,
        DelegationGranted,
        DelegationRevoked,
        PenilaiAssigned,
        PenilaiRemoved,
        TppRecomputed,
        TppPeriodClosed,
        KinerjaResultConfirmed,
        EmployeeUpserted,
        EmployeeDeactivated,
    )
}


class PoisonEvent(Exception):
    """An event no retry can fix: unreadable, unknown type, newer schema, invalid."""

    def __init__(self, reason: str, event_type: str | None = None, event_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.event_type = event_type
        self.event_id = event_id


def parse_event(raw: bytes | str | dict[str, Any]) -> Event:
    """Decode one message into its event model, or raise PoisonEvent."""
    try:
        data = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PoisonEvent("not a JSON object")
    event_type, event_id = data.get("event_type"), data.get("event_id")
    cls = EVENT_TYPES.get(str(event_type))
    if cls is None:
        raise PoisonEvent(f"unknown event_type {event_type!r}", None, event_id)
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > cls.SCHEMA_VERSION:
        raise PoisonEvent(
            f"schema_version {version!r} of {event_type} is newer than {cls.SCHEMA_VERSION}",
            str(event_type),
            event_id,
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise PoisonEvent(f"invalid {event_type}: {exc}", str(event_type), event_id) from None
