"""Decision routes: the atasan of the report's date (or their Plt, or the penilai BKPSDM set
for an employee without atasan, BKPSDM itself among them) approves, rejects or asks for a
revision of one report, or approves a selection. The work is commands.decide /
bulk_approve, run on the event loop or the async driver through ServiceKit.run_store: an
atasan with 30 subordinates clicks through the queue at month end while the filings pour in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.approval import commands, domain
from services.approval.routes.deps import Kit, Now, Who, decider, problem
from services.shared.http import model_response
from services.shared.kit import ServiceKit

router = APIRouter()

MAX_BULK = 500


class DecisionOut(BaseModel):
    report_id: str
    status: str
    decided_by: str
    as_plt_for: str | None
    decided_at: datetime
    event_id: str
    as_penilai: str | None = None  # the penilai (NIP or BKPSDM) of an employee without atasan


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=5_000)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=5_000)


class BulkIn(BaseModel):
    report_ids: list[str] = Field(min_length=1, max_length=MAX_BULK)


def _decision_out(decided: commands.Decided) -> DecisionOut:
    return DecisionOut(
        report_id=decided.report_id,
        status=decided.status,
        decided_by=decided.decided_by,
        as_plt_for=decided.as_plt_for,
        decided_at=decided.decided_at,
        event_id=decided.event_id,
        as_penilai=decided.as_penilai,
    )


async def _decide_one(
    kit: ServiceKit,
    me: tuple[str, bool],
    report_id: str,
    kind: domain.DecisionKind,
    text: str | None,
    now: datetime,
) -> Response:
    nip, bkpsdm = me
    try:
        decided = await kit.run_store(
            lambda uow: commands.decide(uow, nip, report_id, kind, text, now, bkpsdm=bkpsdm)
        )
    except domain.DomainError as err:
        raise problem(err) from None
    return model_response(_decision_out(decided))


@router.post(
    "/reports/{report_id}/approve",
    response_model=DecisionOut,
    summary="Setujui laporan",
    tags=["Keputusan atasan"],
)
async def approve(report_id: str, who: Who, now: Now, kit: Kit) -> Response:
    return await _decide_one(kit, decider(who), report_id, domain.DecisionKind.APPROVE, None, now)


@router.post(
    "/reports/{report_id}/reject",
    response_model=DecisionOut,
    summary="Tolak laporan",
    tags=["Keputusan atasan"],
)
async def reject(report_id: str, body: ReasonIn, who: Who, now: Now, kit: Kit) -> Response:
    return await _decide_one(
        kit, decider(who), report_id, domain.DecisionKind.REJECT, body.reason, now
    )


@router.post(
    "/reports/{report_id}/request-revision",
    response_model=DecisionOut,
    summary="Minta perbaikan laporan",
    tags=["Keputusan atasan"],
)
async def request_revision(report_id: str, body: NoteIn, who: Who, now: Now, kit: Kit) -> Response:
    return await _decide_one(
        kit, decider(who), report_id, domain.DecisionKind.REQUEST_REVISION, body.note, now
    )


@router.post(
    "/reports/bulk-approve",
    summary="Setujui banyak laporan sekaligus",
    description=(
        "Satu hasil per laporan terpilih, berurutan. Yang ditolak (bukan bawahan, sudah "
        "diputuskan, periode terkunci) dilaporkan dan tidak menghentikan yang lain."
    ),
    tags=["Keputusan atasan"],
)
async def bulk_approve(body: BulkIn, who: Who, now: Now, kit: Kit) -> dict[str, Any]:
    """Approve a selection; one result per selected report, in order. Refused items (not
    yours, already decided, locked period) are reported and do not stop the others. Like a
    single decision it runs through run_store: an atasan of 30 clears the month in one go."""
    me, bkpsdm = decider(who)
    outcomes = await kit.run_store(
        lambda uow: commands.bulk_approve(uow, body.report_ids, me, now, bkpsdm=bkpsdm)
    )
    results: list[dict[str, Any]] = []
    for o in outcomes:
        entry: dict[str, Any] = {
            "report_id": o.report_id,
            "ok": o.ok,
            "code": o.code,
            "message": o.message,
        }
        if o.decided is not None:
            entry["decision"] = _decision_out(o.decided).model_dump(mode="json")
        results.append(entry)
    approved = sum(1 for r in results if r["ok"])
    return {"approved": approved, "refused": len(results) - approved, "results": results}
