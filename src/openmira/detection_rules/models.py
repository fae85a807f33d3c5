"""Detection rules: the global basis catalog and each organization's rules derived from it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openmira.db.base import Base, utcnow


class BasisDetectionRule(Base):
    """A rule of the global catalog (``/msp/basis-detection-rules``); belongs to no organization."""

    __tablename__ = "basis_detection_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255))
    # The status an organization's rule starts with when derived from this one (1 enabled, 5 disabled).
    status: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    type: Mapped[int] = mapped_column(Integer, default=10)
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_basis_detection_rules_created", "created", "id"),)


class DetectionRule(Base):
    """An organization's copy of a basis rule (name, priority, type, description as deployed)."""

    __tablename__ = "detection_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Null for a rule the organization wrote itself, or whose basis rule was retired from the catalog.
    basis_rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("basis_detection_rules.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    type: Mapped[int] = mapped_column(Integer, default=10)
    description: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_detection_rules_org_created", "org_id", "created", "id"),
        Index("ix_detection_rules_org_status", "org_id", "status"),
    )
