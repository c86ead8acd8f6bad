"""SIASN bridge tables: the employee master it publishes (kept in the kit's employee table)."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from services.shared.db import kit_tables


class Base(SQLModel, registry=registry()):
    """The SIASN bridge's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection
KIT = kit_tables(Base)
