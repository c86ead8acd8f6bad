"""Activity's HTTP bodies: what the routes accept and answer (reports, evidence, BKPSDM
openings, SKP targets), and the `*_out` mappings from stored rows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.activity import domain
from services.activity.models import Evidence, Opening, Report, SkpTarget
from services.kernel.calendar import YEAR_MAX, YEAR_MIN
from services.shared.http import QUANTITY_MAX, Day, Moment

# --------------------------------------------------------------------------- reports


class ReportIn(BaseModel):
    work_date: Day
    description: str = Field(max_length=10_000)
    output: str = Field(default="", max_length=1_000)
    quantity: int = Field(1, le=QUANTITY_MAX)  # below 1: the domain refuses it, per field
    minutes: int = Field(description="time spent, in minutes")
    skp_target_id: str | None = None

    def content(self, day: date | None = None) -> domain.ReportContent:
        return domain.ReportContent(
            day or self.work_date,
            self.description,
            self.output,
            self.quantity,
            self.minutes,
            self.skp_target_id,
        )


class ReportOut(BaseModel):
    id: str
    nip: str
    work_date: date
    description: str
    output: str
    quantity: int
    minutes: int
    skp_target_id: str | None
    status: str
    revision: int
    counts_for_tpp: bool
    imported: bool
    filed_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_as_plt_for: str | None
    decided_at: datetime | None
    decision_note: str | None
    message: str | None = None  # the gate's message at filing (deadline, TPP note)


def report_out(row: Report, message: str | None = None) -> ReportOut:
    data = {name: getattr(row, name) for name in ReportOut.model_fields if name != "message"}
    return ReportOut(**data, message=message)


# --------------------------------------------------------------------------- evidence


class EvidenceOut(BaseModel):
    id: str
    report_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


def evidence_out(row: Evidence) -> EvidenceOut:
    return EvidenceOut(**{name: getattr(row, name) for name in EvidenceOut.model_fields})


# --------------------------------------------------------------------------- openings


class OpeningIn(BaseModel):
    work_date: Day
    reason: str = Field(max_length=2_000)
    until: Moment | None = Field(
        None,
        description="end of the opening (with offset); default: the filing deadline "
        "counted from today",
    )


class OpeningOut(BaseModel):
    id: str
    nip: str
    work_date: date
    opened_by: str
    reason: str
    opened_at: datetime
    until: datetime


def opening_out(row: Opening) -> OpeningOut:
    return OpeningOut(**{name: getattr(row, name) for name in OpeningOut.model_fields})


# --------------------------------------------------------------------------- SKP targets


class SkpTargetIn(BaseModel):
    year: int = Field(ge=YEAR_MIN, le=YEAR_MAX)
    activity: str = Field(max_length=2_000)
    indicator: str = Field(max_length=2_000)
    target_quantity: int = Field(le=QUANTITY_MAX)


class SkpTargetOut(SkpTargetIn):
    id: str
    nip: str


def target_out(row: SkpTarget) -> SkpTargetOut:
    return SkpTargetOut(**{name: getattr(row, name) for name in SkpTargetOut.model_fields})
