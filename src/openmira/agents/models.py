"""Blumira Agent installation keys and the devices enrolled with them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openmira.db.base import Base, utcnow


class AgentKey(Base):
    __tablename__ = "agent_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(200), default="")
    agent_seat_count: Mapped[int] = mapped_column(Integer, default=25)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_agent_keys_org_created", "org_id", "created", "id"),)


class AgentDevice(Base):
    __tablename__ = "agent_devices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_keys.id", ondelete="SET NULL"), index=True)
    hostname: Mapped[str] = mapped_column(String(255))
    arch: Mapped[str] = mapped_column(String(32), default="x86_64")
    plat: Mapped[str] = mapped_column(String(16), default="windows")
    description: Mapped[str] = mapped_column(String(500), default="")
    is_domain_controller: Mapped[bool] = mapped_column(Boolean, default=False)
    is_excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    is_isolated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_sleeping: Mapped[bool] = mapped_column(Boolean, default=False)
    isolation_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    alive: Mapped[datetime | None] = mapped_column()
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded explicitly by the queries that need ``keyname`` (joinedload); never lazily.
    key: Mapped[AgentKey | None] = relationship(lazy="raise")

    __table_args__ = (Index("ix_agent_devices_org_created", "org_id", "created", "id"),)


class AgentCommand(Base):
    """An action dispatched to a device, moved along queued → sent → completed/failed (agents/commands.py)."""

    __tablename__ = "agent_commands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_devices.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # The time of the last transition: the progression measures each step's delay from it.
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_agent_commands_org_created", "org_id", "created", "id"),
        # The sweep's lookup of due commands: only unfinished ones, oldest first.
        Index("ix_agent_commands_status_modified", "status", "modified"),
    )
