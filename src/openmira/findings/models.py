"""Findings (detections), their owners, comments and evidence rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from openmira.db.base import Base, utcnow

# The condition of ix_findings_org_created_desc: true of every finding, stated only by the unfiltered list's
# statement (findings.listing._in_default_order), the one statement that may read that index (migration 0013).
DEFAULT_ORDER_ONLY = "created IS NOT NULL"


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    short_id: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(500))
    analysis: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(String(512), default="")
    status: Mapped[int] = mapped_column(Integer, default=10)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    type: Mapped[int] = mapped_column(Integer, default=10)
    category: Mapped[int] = mapped_column(Integer, default=0)
    category_name: Mapped[str] = mapped_column(String(100), default="")
    jurisdiction_name: Mapped[str] = mapped_column(String(100), default="")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[int | None] = mapped_column(Integer)
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)
    status_modified: Mapped[datetime | None] = mapped_column()
    matched: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    modified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status_modified_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Every list starts from one organization (or an MSP's few) and pages in a stable order, and
    # ``total_items`` counts the same predicate. Each index leads with ``org_id`` so a list, its
    # count and a filter on the second column are range scans of one organization's slice (the
    # count an index-only scan), never a table scan across tenants:
    # - the unfiltered list in its default order (created DESC, id): a partial index that only its statement
    #   can use (migration 0013), so that filtered lists keep their filter's index;
    # - created and modified windows and orders, and filtered lists in the default order that no index below
    #   serves: (org_id, created|modified, id);
    # - the enum filters analysts combine with the default order: status, priority, type,
    #   resolution, each followed by created so "open P1s, newest first" is one index range;
    # - name eq/in and order by name: (org_id, name);
    # - the person columns: single-column indexes, which also keep ``ON DELETE SET NULL`` of a
    #   user from scanning every finding.
    # Substring and regex filters on name scan the organization's rows (a trigram index would need a
    # PostgreSQL extension; not worth it for an optional filter).
    __table_args__ = (
        Index("ix_findings_org_created", "org_id", "created", "id"),
        Index(
            "ix_findings_org_created_desc", "org_id", text("created DESC"), "id",
            sqlite_where=text(DEFAULT_ORDER_ONLY), postgresql_where=text(DEFAULT_ORDER_ONLY),
        ),
        Index("ix_findings_org_modified", "org_id", "modified", "id"),
        Index("ix_findings_org_status_created", "org_id", "status", "created"),
        Index("ix_findings_org_priority_created", "org_id", "priority", "created"),
        Index("ix_findings_org_type_created", "org_id", "type", "created"),
        Index("ix_findings_org_resolution_created", "org_id", "resolution", "created"),
        Index("ix_findings_org_name", "org_id", "name"),
        Index("ix_findings_org_short_id", "org_id", "short_id", unique=True),
        Index("ix_findings_created_by", "created_by"),
        Index("ix_findings_modified_by", "modified_by"),
        Index("ix_findings_status_modified_by", "status_modified_by"),
    )


class FindingOwner(Base):
    __tablename__ = "finding_owners"

    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True)
    # "responder", "analyst" or "manager"
    owner_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_finding_owners_user_id", "user_id"),)


class FindingComment(Base):
    __tablename__ = "finding_comments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(500), default="")
    # HTML, stored exactly as given; the console renders it inert.
    body: Mapped[str] = mapped_column(Text)
    sender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_finding_comments_finding_created", "finding_id", "created", "id"),
        Index("ix_finding_comments_sender_id", "sender_id"),
    )


class EvidenceRow(Base):
    __tablename__ = "evidence_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A flat object; dotted names such as "client_ip_geoip.countrycode" are literal keys.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_evidence_rows_finding_position", "finding_id", "position"),)


class FindingCount(Base):
    """How many findings each organization has, kept exact by database triggers on ``findings``.

    An unfiltered list's ``total_items`` then costs one row per organization instead of a scan of a
    million index entries; the triggers run in the same transaction as the rows they count, so the
    figure is exact, not a cache.
    """

    __tablename__ = "finding_counts"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


# Findings per organization and low-cardinality group (status, priority, type, category, blocked,
# resolution), kept exact by database triggers on ``findings`` (migration 0010). A filtered list whose
# filters all name these columns sums a few hundred of these rows for its total instead of counting up to
# every finding of the organization: the same filter SQL runs on this table, whose columns have the
# findings' names and meanings. No ORM class: nothing writes it but the triggers.
finding_group_counts = Table(
    "finding_group_counts",
    Base.metadata,
    Column("org_id", Uuid(), nullable=False),
    Column("status", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("type", Integer, nullable=False),
    Column("category", Integer, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("resolution", Integer, nullable=True),
    Column("total", BigInteger, nullable=False),
)
