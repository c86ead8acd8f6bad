"""Activity domain: daily reports (laporan kegiatan harian), their content and their
lifecycle. Pure sub-modules hold the rest: problems.py (`Problem`, `DomainError`,
re-exported here), evidence_rules.py (evidence files), gate.py (the filing gate: deadline,
fingerprint, BKPSDM openings; `file_report` takes its decision) and skp.py (SKP targets'
checks and realisation; it builds on this module, not the other way round).

Pure: no framework, no clock (every "now" is an argument), plain dataclasses. The HTTP and
Kafka layers call these functions and map `DomainError.code` to their own responses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.activity.evidence_rules import (
    DEFAULT_MAX_EVIDENCE_BYTES,
    EvidenceFile,
    validate_evidence,
)
from services.activity.gate import FilingDecision, _require_aware, ensure_may_file
from services.activity.problems import DomainError, Problem

MAX_MINUTES_PER_DAY = 24 * 60


# --------------------------------------------------------------------------- SKP targets


@dataclass(frozen=True)
class SkpTarget:
    """One SKP target of an employee for a year: what (activity), measured how (indicator),
    how much (target_quantity)."""

    id: str
    nip: str
    year: int
    activity: str
    indicator: str
    target_quantity: int


# --------------------------------------------------------------------------- report content


@dataclass(frozen=True)
class ReportLimits:
    """Bounds of a report's fields. Not in docs/rules.md: parameters of the deployment."""

    max_description: int = 2000
    max_output: int = 255
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES


@dataclass(frozen=True)
class ReportContent:
    """What the ASN writes for date D."""

    report_date: date
    description: str
    output: str  # the output (keluaran), e.g. "surat undangan"
    quantity: int  # how many of `output`
    minutes_spent: int
    skp_target_id: str | None = None
    evidence: tuple[EvidenceFile, ...] = ()


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def validate_report(
    content: ReportContent,
    limits: ReportLimits = ReportLimits(),
    *,
    nip: str | None = None,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> list[Problem]:
    """Every problem of the content at once, so the form can show them together.

    `targets` (by id), when given, checks that the SKP target exists and belongs to `nip`
    and to the year of the report. `minutes_already_reported` is the time of the employee's
    other live reports for the same date: a day has no more than 1440 minutes.
    """
    problems: list[Problem] = []
    if not content.description.strip():
        problems.append(Problem("description", "required", "Uraian kegiatan wajib diisi."))
    elif len(content.description) > limits.max_description:
        problems.append(
            Problem(
                "description",
                "too_long",
                f"Uraian kegiatan paling banyak {limits.max_description} karakter.",
            )
        )
    if not content.output.strip():
        problems.append(Problem("output", "required", "Keluaran (output) wajib diisi."))
    elif len(content.output) > limits.max_output:
        problems.append(
            Problem("output", "too_long", f"Keluaran paling banyak {limits.max_output} karakter.")
        )
    if not _is_positive_int(content.quantity):
        problems.append(
            Problem(
                "quantity", "not_positive", "Jumlah keluaran harus bilangan bulat lebih dari 0."
            )
        )
    minutes = content.minutes_spent
    if not (isinstance(minutes, int) and not isinstance(minutes, bool)) or not (
        1 <= minutes <= MAX_MINUTES_PER_DAY
    ):
        problems.append(
            Problem(
                "minutes_spent",
                "out_of_range",
                f"Waktu yang digunakan harus antara 1 dan {MAX_MINUTES_PER_DAY} menit.",
            )
        )
    elif minutes_already_reported + minutes > MAX_MINUTES_PER_DAY:
        left = max(0, MAX_MINUTES_PER_DAY - minutes_already_reported)
        problems.append(
            Problem(
                "minutes_spent",
                "day_overfilled",
                f"Laporan lain pada tanggal ini sudah berjumlah {minutes_already_reported} menit; "
                f"sisa waktu hari itu hanya {left} menit.",
            )
        )
    if content.skp_target_id is not None and targets is not None:
        target = targets.get(content.skp_target_id)
        if (
            target is None
            or (nip is not None and target.nip != nip)
            or target.year != content.report_date.year
        ):
            problems.append(
                Problem(
                    "skp_target_id",
                    "unknown_target",
                    f"Target SKP tidak ditemukan untuk tahun {content.report_date.year}. Pilih "
                    "target SKP Anda sendiri pada tahun laporan.",
                )
            )
    seen: set[str] = set()
    for i, file in enumerate(content.evidence):
        field = f"evidence[{i}]"
        problems.extend(validate_evidence(file, limits.max_evidence_bytes, field))
        digest = file.sha256.lower()
        if digest in seen:
            problems.append(
                Problem(field, "duplicate", f"Berkas '{file.name}' dilampirkan lebih dari sekali.")
            )
        seen.add(digest)
    return problems


def ensure_valid_report(
    content: ReportContent,
    limits: ReportLimits = ReportLimits(),
    *,
    nip: str | None = None,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> None:
    problems = validate_report(
        content,
        limits,
        nip=nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    if problems:
        raise DomainError(
            "invalid_report", "Laporan belum dapat disimpan; periksa isian berikut.", problems
        )


# --------------------------------------------------------------------------- report lifecycle


class ReportStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISION_REQUESTED = "revision_requested"
    WITHDRAWN = "withdrawn"


class ReportAction(StrEnum):
    EDIT = "edit"
    WITHDRAW = "withdraw"
    REVISE = "revise"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_REVISION = "request_revision"


TRANSITIONS: Mapping[tuple[ReportStatus, ReportAction], ReportStatus] = {
    (ReportStatus.PENDING, ReportAction.EDIT): ReportStatus.PENDING,
    (ReportStatus.PENDING, ReportAction.WITHDRAW): ReportStatus.WITHDRAWN,
    (ReportStatus.PENDING, ReportAction.APPROVE): ReportStatus.APPROVED,
    (ReportStatus.PENDING, ReportAction.REJECT): ReportStatus.REJECTED,
    (ReportStatus.PENDING, ReportAction.REQUEST_REVISION): ReportStatus.REVISION_REQUESTED,
    (ReportStatus.REVISION_REQUESTED, ReportAction.REVISE): ReportStatus.PENDING,
}
TERMINAL: frozenset[ReportStatus] = frozenset(
    {ReportStatus.APPROVED, ReportStatus.REJECTED, ReportStatus.WITHDRAWN}
)

_STATUS_LABEL = {
    ReportStatus.PENDING: "menunggu persetujuan atasan",
    ReportStatus.APPROVED: "sudah disetujui",
    ReportStatus.REJECTED: "sudah ditolak",
    ReportStatus.REVISION_REQUESTED: "diminta revisi oleh atasan",
    ReportStatus.WITHDRAWN: "sudah ditarik",
}
_ACTION_LABEL = {
    ReportAction.EDIT: "diubah",
    ReportAction.WITHDRAW: "ditarik",
    ReportAction.REVISE: "direvisi",
    ReportAction.APPROVE: "disetujui",
    ReportAction.REJECT: "ditolak",
    ReportAction.REQUEST_REVISION: "dimintakan revisi",
}


def next_status(current: ReportStatus, action: ReportAction) -> ReportStatus:
    """The status after `action`, or DomainError('invalid_transition') with the reason."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        pass
    message = (
        f"Laporan tidak dapat {_ACTION_LABEL[action]} karena statusnya {_STATUS_LABEL[current]}."
    )
    if current is ReportStatus.REVISION_REQUESTED and action is ReportAction.EDIT:
        message += " Gunakan tombol revisi untuk mengirim perbaikan kepada atasan."
    elif current is ReportStatus.PENDING and action is ReportAction.REVISE:
        message += " Laporan yang masih menunggu dapat langsung diubah."
    elif current in TERMINAL:
        message += " Buat laporan baru bila masih dalam batas waktu pengisian."
    raise DomainError("invalid_transition", message)


@dataclass(frozen=True)
class DailyReport:
    id: str
    nip: str
    content: ReportContent
    status: ReportStatus
    filed_at: datetime
    revision: int = 0  # 0 as filed; +1 for every edit or revision sent

    @property
    def report_date(self) -> date:
        return self.content.report_date


def file_report(
    report_id: str,
    nip: str,
    content: ReportContent,
    filed_at: datetime,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """A new pending report, once the gate (`check_filing`) allowed it and the content is
    valid."""
    _require_aware(filed_at, "filed_at")
    ensure_may_file(filing)
    ensure_valid_report(
        content,
        limits,
        nip=nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    return DailyReport(report_id, nip, content, ReportStatus.PENDING, filed_at)


def _replace_content(
    report: DailyReport,
    action: ReportAction,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits,
    targets: Mapping[str, SkpTarget] | None,
    minutes_already_reported: int,
) -> DailyReport:
    status = next_status(report.status, action)
    if content.report_date != report.report_date:
        # Moving a report to another date would bypass the gate of that date.
        raise DomainError(
            "date_change",
            "Tanggal laporan tidak dapat diubah. Tarik laporan ini dan buat laporan baru untuk "
            "tanggal yang benar.",
        )
    ensure_may_file(filing)
    ensure_valid_report(
        content,
        limits,
        nip=report.nip,
        targets=targets,
        minutes_already_reported=minutes_already_reported,
    )
    return dataclasses.replace(report, content=content, status=status, revision=report.revision + 1)


def edit_report(
    report: DailyReport,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """Change a pending report (still within the filing gate of its date)."""
    return _replace_content(
        report,
        ReportAction.EDIT,
        content,
        filing,
        limits,
        targets,
        minutes_already_reported,
    )


def revise_report(
    report: DailyReport,
    content: ReportContent,
    filing: FilingDecision,
    limits: ReportLimits = ReportLimits(),
    *,
    targets: Mapping[str, SkpTarget] | None = None,
    minutes_already_reported: int = 0,
) -> DailyReport:
    """Send the revision the atasan asked for: back to pending, to the atasan again.

    `filing` comes from `check_revision` (deadline counted from the request), or from
    `check_filing` when BKPSDM opened the date.
    """
    return _replace_content(
        report,
        ReportAction.REVISE,
        content,
        filing,
        limits,
        targets,
        minutes_already_reported,
    )


def withdraw_report(report: DailyReport) -> DailyReport:
    return dataclasses.replace(report, status=next_status(report.status, ReportAction.WITHDRAW))


def apply_decision(report: DailyReport, action: ReportAction) -> DailyReport:
    """Record the atasan's decision (arriving from the approval service) on the report."""
    if action not in (
        ReportAction.APPROVE,
        ReportAction.REJECT,
        ReportAction.REQUEST_REVISION,
    ):
        raise ValueError(f"{action} is not a decision")
    return dataclasses.replace(report, status=next_status(report.status, action))


def minutes_reported(reports: Iterable[DailyReport], nip: str, day: date) -> int:
    """Minutes in the employee's live (not withdrawn or rejected) reports for `day`."""
    return sum(
        r.content.minutes_spent
        for r in reports
        if r.nip == nip
        and r.report_date == day
        and r.status not in (ReportStatus.WITHDRAWN, ReportStatus.REJECTED)
    )


__all__ = [
    "TERMINAL",
    "TRANSITIONS",
    "DailyReport",
    "DomainError",
    "Problem",
    "ReportAction",
    "ReportContent",
    "ReportLimits",
    "ReportStatus",
    "SkpTarget",
    "apply_decision",
    "edit_report",
    "ensure_valid_report",
    "file_report",
    "minutes_reported",
    "next_status",
    "revise_report",
    "validate_report",
    "withdraw_report",
]
