"""The portal's reads and small writes on its store (inside a caller's unit of work)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from services.portal.models import (
    Account,
    AuditEntry,
    LoginSession,
    RecoveryCode,
    RoleGrant,
    SetupCode,
)
from services.shared.uow import UnitOfWork


def account(uow: UnitOfWork, nip: str) -> Account | None:
    return uow.session.get(Account, nip)


def accounts(uow: UnitOfWork, opd: str | None, limit: int) -> list[Account]:
    query = select(Account).where(Account.active)
    if opd:
        query = query.where(Account.opd == opd)
    return list(uow.session.exec(query.order_by(col(Account.nip)).limit(limit)).all())


def active_grants(uow: UnitOfWork, nip: str) -> list[RoleGrant]:
    query = select(RoleGrant).where(RoleGrant.nip == nip, col(RoleGrant.revoked_at).is_(None))
    return list(uow.session.exec(query.order_by(col(RoleGrant.id))).all())


def has_subordinates(uow: UnitOfWork, nip: str) -> bool:
    """atasan is derived: an active employee of the projection names this NIP as atasan."""
    employee = uow.tables.employee
    query = select(employee.nip).where(employee.atasan_nip == nip, employee.active).limit(1)
    return uow.session.exec(query).first() is not None


def subordinates(uow: UnitOfWork, nip: str) -> list[tuple[str, str]]:
    """(nip, nama) of the active employees whose direct atasan is `nip`, by name."""
    employee = uow.tables.employee
    query = select(employee.nip, employee.nama).where(employee.atasan_nip == nip, employee.active)
    return sorted(((n, nama) for n, nama in uow.session.exec(query).all()), key=lambda r: r[1])


def usable_setup_codes(uow: UnitOfWork, nip: str, now: datetime) -> list[SetupCode]:
    query = select(SetupCode).where(
        SetupCode.nip == nip, col(SetupCode.used_at).is_(None), col(SetupCode.expires_at) > now
    )
    return list(uow.session.exec(query).all())


def spend(
    uow: UnitOfWork, model: type[SetupCode] | type[RecoveryCode], row_id: int, now: datetime
) -> bool:
    """Mark a one-time code used unless another transaction did first: a conditional UPDATE,
    so two requests racing with the same code cannot both spend it."""
    query = (
        update(model)
        .where(col(model.id) == row_id, col(model.used_at).is_(None))
        .values(used_at=now)
    )
    return uow.connection.execute(query).rowcount == 1


def advance_totp_step(uow: UnitOfWork, nip: str, step: int) -> bool:
    """Record the TOTP time step just used, unless it (or a later one) already was: a code is
    accepted once, even by two requests at the same moment."""
    last = col(Account.totp_last_step)
    query = (
        update(Account)
        .where(col(Account.nip) == nip, or_(last.is_(None), last < step))
        .values(totp_last_step=step)
    )
    return uow.connection.execute(query).rowcount == 1


def session_by_hash(uow: UnitOfWork, token_hash: str) -> LoginSession | None:
    return uow.session.get(LoginSession, token_hash)


def end_sessions(
    uow: UnitOfWork, nip: str, now: datetime, *, role: str | None = None, keep: str | None = None
) -> int:
    """End a person's open sessions (those in `role` only, when given), except `keep`."""
    query = select(LoginSession).where(
        LoginSession.nip == nip, col(LoginSession.ended_at).is_(None)
    )
    if role is not None:
        query = query.where(LoginSession.role == role)
    ended = 0
    for row in uow.session.exec(query).all():
        if row.token_hash == keep:
            continue
        row.ended_at = now
        uow.session.add(row)
        ended += 1
    return ended


def unused_recovery_codes(uow: UnitOfWork, nip: str) -> list[RecoveryCode]:
    query = select(RecoveryCode).where(RecoveryCode.nip == nip, col(RecoveryCode.used_at).is_(None))
    return list(uow.session.exec(query).all())


def audit(
    uow: UnitOfWork,
    now: datetime,
    action: str,
    *,
    actor_nip: str | None,
    actor_role: str | None = None,
    ip: str = "",
    target: str | None = None,
    **detail: Any,
) -> None:
    uow.session.add(
        AuditEntry(
            at=now,
            actor_nip=actor_nip,
            actor_role=actor_role,
            action=action,
            target=target,
            ip=ip,
            detail=json.dumps(detail, default=str, sort_keys=True) if detail else "",
        )
    )


def audit_entries(
    uow: UnitOfWork,
    *,
    nip: str | None,
    action: str | None,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first; `since` included, `until` excluded."""
    query = select(AuditEntry)
    if nip:
        query = query.where((AuditEntry.actor_nip == nip) | (AuditEntry.target == nip))
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if until is not None:
        query = query.where(col(AuditEntry.at) < until)
    return list(uow.session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all())


def all_active_grants(uow: UnitOfWork) -> list[RoleGrant]:
    query = select(RoleGrant).where(col(RoleGrant.revoked_at).is_(None))
    return list(uow.session.exec(query.order_by(col(RoleGrant.role), col(RoleGrant.nip))).all())
