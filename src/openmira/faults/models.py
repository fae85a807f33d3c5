"""Stored faults, and one version number that changes whenever they do."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from openmira.db.base import Base, utcnow


class Fault(Base):
    """One fault: for one key pair (``client_id``) or all (null); an error ``status`` or a ``latency_ms``;
    for the next ``remaining`` requests or a ``share`` of them (both null: every request)."""

    __tablename__ = "faults"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    client_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    retry_after: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    remaining: Mapped[int | None] = mapped_column(Integer)
    share: Mapped[float | None] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class FaultState(Base):
    """A single row: processes compare ``version`` with the one they hold and reload only when it moved."""

    __tablename__ = "fault_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
