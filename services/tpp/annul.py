"""BKPSDM's annulments (RULES.md "Annulled cuts"): recording one (with its document),
revoking it, and the statements they touch recomputed in the same transaction.

An annulment of an open month recomputes at once every statement it names (TppRecomputed
with the annulment as cause, `recompute_many`'s batch path, so an OPD of 2,000 ASN is one
chunked pass). In a closed month the statements are frozen: each one named is kept as a
pending correction (the annulment is in its table already; reopening recomputes). Every
action is in the audit log (`AnnulmentLog`): who, when, why, what it recomputed.

Used by api.py; reads of stored annulments are here too (list, one, the log).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from services.kernel.calendar import period_bounds
from services.kernel.employment import period_on
from services.shared.db import chunked
from services.shared.employees import all_periods, employee_on
from services.shared.http import Actor, Problem
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork
from services.tpp import domain, periods, statements
from services.tpp.annulments import RECORDED, REVOKED, AnnulmentCause
from services.tpp.models import (
    ANNULMENT_ACTIVE,
    ANNULMENT_REVOKED,
    Annulment,
    AnnulmentLog,
    PendingCorrection,
    Statement,
)
from services.tpp.projections import log

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # as attendance's absence documents
ACTION_CREATED = "dibuat"
ACTION_REVOKED = "dicabut"


@dataclass(frozen=True)
class StoredDocument:
    file_id: str  # the file name under evidence_dir
    name: str  # the uploader's file name
    media_type: str


def evidence_dir(kit: ServiceKit) -> Path:
    folder = Path(kit.settings.data_dir) / "evidence" / "tpp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def codes_on(uow: UnitOfWork, day: date) -> list[str]:
    """The line codes of the rule set in force in `day`'s month."""
    return domain.line_codes(statements.rules_for_period(uow.settings, domain.period_of(day)))


# -- who an annulment names -------------------------------------------------------------------


def named_nips(uow: UnitOfWork, request: domain.AnnulmentRequest) -> tuple[list[str], str]:
    """The NIPs an annulment names and the OPD whose operators may read it; 422 when it
    names nobody active on that date."""
    day = request.day
    if request.nip is not None:
        found = employee_on(uow, request.nip, day)
        if found is None:
            raise Problem(422, domain.not_active_refusal(request.nip, day), code="not_active")
        return [request.nip], found.opd
    assert request.opd is not None
    nips = sorted(
        nip
        for nip, own in all_periods(uow, request.opd).items()
        if (p := period_on(own, day)) is not None and p.opd == request.opd
    )
    if not nips:
        raise Problem(422, domain.opd_empty_refusal(request.opd, day), code="opd_empty")
    return nips, request.opd


# -- recomputing what an action touches ------------------------------------------------------


def _touch(
    uow: UnitOfWork, nips: list[str], day: date, cause: AnnulmentCause, summary: str, now: datetime
) -> tuple[int, int]:
    """Recompute the statements of `nips` in `day`'s month at once, or keep each as a pending
    correction when the month is closed (frozen). Returns (recomputed, pending)."""
    session = uow.session
    period = domain.period_of(day)
    session.flush()
    closed = periods.is_closed(session, period)
    have: dict[str, bool] = {}  # nip -> frozen
    for chunk in chunked(sorted(set(nips))):
        # Lock the rows first (PostgreSQL), in key order as recompute_many does: a close
        # running now either waits for us or has frozen them already, and we see which.
        for nip, frozen in session.execute(
            select(col(Statement.nip), col(Statement.frozen))
            .where(Statement.period == period)
            .where(col(Statement.nip).in_(chunk))
            .order_by(col(Statement.nip))
            .with_for_update()
        ):
            have[nip] = bool(frozen)
    live = sorted(n for n, frozen in have.items() if not frozen and not closed)
    held = sorted(n for n, frozen in have.items() if frozen or closed)
    if live:
        statements.recompute_many(uow, {(nip, period): cause for nip in live})
    if held:
        payload = json.dumps({"action_id": str(cause.event_id), "annulment_id": cause.annulment_id})
        session.add_all(
            PendingCorrection(
                period=period,
                nip=nip,
                event_id=str(uuid.uuid5(cause.event_id, nip)),
                event_type=cause.event_type,
                work_date=day,
                summary=summary,
                payload=payload,
                received_at=now,
            )
            for nip in held
        )
        log.info(
            "annulment for a closed period kept as pending corrections",
            period=period,
            annulment_id=cause.annulment_id,
            statements=len(held),
        )
    return len(live), len(held)


def _target(row: Annulment) -> str:
    who = f"NIP {row.nip}" if row.nip else f"OPD {row.opd}"
    what = f"potongan {row.code}" if row.code else "semua potongan"
    return f"{what} {who} tanggal {row.work_date:%d-%m-%Y}"


def _log(
    uow: UnitOfWork, row: Annulment, action: str, who: Actor, now: datetime, reason: str
) -> AnnulmentLog:
    entry = AnnulmentLog(
        action_id=str(uuid.uuid4()),
        annulment_id=row.id,
        action=action,
        actor=who.nip or who.role,
        actor_role=who.role,
        at=now,
        reason=reason,
    )
    uow.session.add(entry)
    return entry


def _same(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def record(
    uow: UnitOfWork,
    request: domain.AnnulmentRequest,
    document: StoredDocument,
    who: Actor,
    now: datetime,
    proposal: str | None = None,
) -> dict[str, Any]:
    """Store the annulment, log it and recompute (or hold) every statement it names."""
    nips, scope_opd = named_nips(uow, request)
    same = uow.session.exec(
        select(Annulment)
        .where(Annulment.status == ANNULMENT_ACTIVE)
        .where(Annulment.work_date == request.day)
        .where(_same(col(Annulment.nip), request.nip))
        .where(_same(col(Annulment.opd), request.opd))
        .where(_same(col(Annulment.code), request.code))
    ).first()
    if same is not None:
        raise Problem(
            409,
            f"pembatalan yang sama sudah tercatat dan masih berlaku (id {same.id})",
            code="annulment_exists",
            annulment_id=same.id,
        )
    row = Annulment(
        id=str(uuid.uuid4()),
        work_date=request.day,
        nip=request.nip,
        opd=request.opd,
        scope_opd=scope_opd,
        code=request.code,
        reason=request.reason,
        proposal=proposal or None,
        document_id=document.file_id,
        document_name=document.name,
        document_type=document.media_type,
        created_by=who.nip or who.role,
        created_at=now,
    )
    uow.session.add(row)
    entry = _log(uow, row, ACTION_CREATED, who, now, request.reason)
    cause = AnnulmentCause(RECORDED, uuid.UUID(entry.action_id), row.id)
    summary = f"Pembatalan {_target(row)} dicatat BKPSDM setelah periode ditutup"
    entry.recomputed, entry.pending = _touch(uow, nips, request.day, cause, summary, now)
    uow.session.add(entry)
    return {**view(row), "dihitung_ulang": entry.recomputed, "koreksi_tertunda": entry.pending}


def revoke(
    uow: UnitOfWork, annulment_id: str, reason: str, who: Actor, now: datetime
) -> dict[str, Any]:
    """Revoke an active annulment: its lines come back (recomputed or held like `record`)."""
    reason = " ".join(reason.split())
    if not reason:
        raise Problem(422, "alasan pencabutan wajib diisi", code="invalid_annulment")
    if len(reason) > domain.MAX_REASON:
        raise Problem(
            422,
            f"alasan terlalu panjang ({len(reason)} karakter, batas {domain.MAX_REASON})",
            code="invalid_annulment",
        )
    row = uow.session.exec(
        select(Annulment).where(Annulment.id == annulment_id).with_for_update()
    ).first()
    if row is None:
        raise not_found(annulment_id)
    if row.status != ANNULMENT_ACTIVE:
        raise Problem(409, "pembatalan ini sudah dicabut", code="already_revoked")
    row.status, row.revoked_by, row.revoked_at, row.revoke_reason = (
        ANNULMENT_REVOKED,
        who.nip or who.role,
        now,
        reason,
    )
    uow.session.add(row)
    request = domain.AnnulmentRequest(row.work_date, row.nip, row.opd, row.code, row.reason)
    nips, _ = named_nips_or_none(uow, request)
    entry = _log(uow, row, ACTION_REVOKED, who, now, reason)
    cause = AnnulmentCause(REVOKED, uuid.UUID(entry.action_id), row.id)
    summary = f"Pembatalan {_target(row)} dicabut BKPSDM setelah periode ditutup"
    entry.recomputed, entry.pending = _touch(uow, nips, row.work_date, cause, summary, now)
    uow.session.add(entry)
    return {**view(row), "dihitung_ulang": entry.recomputed, "koreksi_tertunda": entry.pending}


def named_nips_or_none(
    uow: UnitOfWork, request: domain.AnnulmentRequest
) -> tuple[list[str], str | None]:
    """`named_nips`, or nobody (a revocation still goes through when the NIP has left)."""
    try:
        return named_nips(uow, request)
    except Problem:
        return [], None


# -- reading ----------------------------------------------------------------------------------


def not_found(annulment_id: str) -> Problem:
    return Problem(404, f"pembatalan {annulment_id} tidak ditemukan", code="annulment_not_found")


def get(uow: UnitOfWork, annulment_id: str) -> Annulment:
    row = uow.session.get(Annulment, annulment_id)
    if row is None:
        raise not_found(annulment_id)
    return row


def listed(
    uow: UnitOfWork,
    *,
    period: str | None = None,
    opd: str | None = None,
    nip: str | None = None,
    status: str | None = None,
) -> list[Annulment]:
    query = select(Annulment)
    if period is not None:
        first, last = period_bounds(period)
        query = query.where(col(Annulment.work_date) >= first).where(
            col(Annulment.work_date) <= last
        )
    if opd is not None:
        query = query.where(Annulment.scope_opd == opd)
    if nip is not None:
        query = query.where(Annulment.nip == nip)
    if status is not None:
        query = query.where(Annulment.status == status)
    return list(
        uow.session.exec(query.order_by(col(Annulment.work_date), col(Annulment.created_at))).all()
    )


def log_entries(
    uow: UnitOfWork, annulment_id: str | None = None, period: str | None = None
) -> list[tuple[AnnulmentLog, Annulment]]:
    query = select(AnnulmentLog, Annulment).where(AnnulmentLog.annulment_id == Annulment.id)
    if annulment_id is not None:
        query = query.where(AnnulmentLog.annulment_id == annulment_id)
    if period is not None:
        first, last = period_bounds(period)
        query = query.where(col(Annulment.work_date) >= first).where(
            col(Annulment.work_date) <= last
        )
    return [(e, a) for e, a in uow.session.exec(query.order_by(col(AnnulmentLog.id))).all()]


def view(row: Annulment) -> dict[str, Any]:
    return {
        "id": row.id,
        "tanggal": row.work_date.isoformat(),
        "periode": domain.period_of(row.work_date),
        "nip": row.nip,
        "opd": row.opd,
        "opd_lingkup": row.scope_opd,
        "kode": row.code,
        "alasan": row.reason,
        "usulan": row.proposal,
        "dokumen_nama": row.document_name,
        "dokumen_jenis": row.document_type,
        "status": row.status,
        "dibuat_oleh": row.created_by,
        "dibuat_pada": row.created_at.isoformat(),
        "dicabut_oleh": row.revoked_by,
        "dicabut_pada": row.revoked_at.isoformat() if row.revoked_at else None,
        "alasan_pencabutan": row.revoke_reason,
    }


def log_view(entry: AnnulmentLog, row: Annulment) -> dict[str, Any]:
    return {
        "id": entry.id,
        "action_id": entry.action_id,
        "annulment_id": entry.annulment_id,
        "tindakan": entry.action,
        "oleh": entry.actor,
        "peran": entry.actor_role,
        "pada": entry.at.isoformat(),
        "alasan": entry.reason,
        "dihitung_ulang": entry.recomputed,
        "koreksi_tertunda": entry.pending,
        "tanggal": row.work_date.isoformat(),
        "nip": row.nip,
        "opd": row.opd,
        "kode": row.code,
    }
