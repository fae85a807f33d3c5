"""Webhook endpoints and their deliveries (a transactional outbox: a delivery row is written in the same
transaction as the change it reports, and the worker sends it afterwards)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openmira.db.base import Base, Timestamped, utcnow


class DeliveryStatus:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ALL = (PENDING, SUCCEEDED, FAILED)


class WebhookEndpoint(Timestamped, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The owner: an organization, or an MSP (whose endpoints also receive its licensed sub-accounts' events).
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The signing secret, encrypted (Fernet) with the server's webhook key; never a hash, since the
    # server must sign with it.
    secret_encrypted: Mapped[str] = mapped_column(Text)


class WebhookEventPayload(Base):
    """What happened, stored once however many endpoints hear it: each delivery points here, and its body
    is this plus its own ID (``events.envelope``). Without it one event to an organization with many
    endpoints wrote its (possibly large) data once per endpoint."""

    __tablename__ = "webhook_event_payloads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event: Mapped[str] = mapped_column(String(64))
    # The organization the event happened in. No foreign key: an MSP endpoint's deliveries of a deleted
    # sub-account's events stay readable; a payload no delivery points to is purged (events.purge_unused).
    org_id: Mapped[uuid.UUID] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    # The event; the JSON body sent is {id: this delivery's ID, event, created, org_id, data} of it.
    payload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_event_payloads.id", ondelete="CASCADE"), index=True
    )
    # Only so that a flush writes the event before its deliveries; read through events.stored_body.
    event_payload: Mapped[WebhookEventPayload] = relationship(lazy="raise")
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt: Mapped[datetime | None] = mapped_column()
    next_attempt: Mapped[datetime] = mapped_column(default=utcnow)
    # A claim by one worker: only the holder of lease_token may record the attempt's outcome, and nobody
    # else claims the delivery before lease_until.
    lease_token: Mapped[uuid.UUID | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
