"""The portal's tables: accounts (one per ASN, by NIP), BKPSDM's role grants, one-time
setup codes, sessions, recovery codes and the audit log. Secrets are stored only as hashes
(argon2id for passwords, SHA-256 for random codes and session tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables


class Base(SQLModel, registry=registry()):
    """The portal's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection (atasan is derived from it)
KIT = kit_tables(Base)


class Account(Base, table=True):
    __tablename__ = "account"
    nip: str = Field(primary_key=True, max_length=18)
    nama: str = ""
    opd: str = Field(default="", index=True)
    active: bool = True
    password_hash: str | None = None
    must_change: bool = False  # a one-time code was used as the password
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enrolled: bool = False
    totp_last_step: int | None = None  # a TOTP code is accepted once
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class RoleGrant(Base, table=True):
    """operator (of one OPD), bkpsdm or auditor, granted and revoked by BKPSDM."""

    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_nip_active", "nip", "revoked_at"),)
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(max_length=18)
    role: str = Field(max_length=16)
    opd: str | None = None  # the operator's OPD
    granted_by: str = Field(max_length=18)
    granted_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    revoked_by: str | None = Field(default=None, max_length=18)
    revoked_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class SetupCode(Base, table=True):
    """A one-time code from the operator: sets a first password, or a new one (reset)."""

    __tablename__ = "setup_code"
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(index=True, max_length=18)
    code_hash: str = Field(max_length=64)
    issued_by: str = Field(max_length=18)
    issued_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class LoginSession(Base, table=True):
    __tablename__ = "login_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    nip: str = Field(index=True, max_length=18)
    role: str = Field(max_length=16)  # the role this session acts in
    opd: str | None = None
    state: str = Field(max_length=16)  # domain: must_change, enrol_totp, totp, active
    csrf: str = Field(max_length=64)
    ip: str = ""
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class RecoveryCode(Base, table=True):
    __tablename__ = "recovery_code"
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(index=True, max_length=18)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class AuditEntry(Base, table=True):
    """Who, when, from where, what: logins, failures, lockouts, grants, resets and every
    privileged action the portal forwards."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(Utc(), nullable=False, index=True))
    actor_nip: str | None = Field(default=None, index=True, max_length=18)
    actor_role: str | None = Field(default=None, max_length=16)
    action: str = Field(index=True, max_length=32)
    target: str | None = Field(default=None, max_length=128)
    ip: str = ""
    detail: str = ""
