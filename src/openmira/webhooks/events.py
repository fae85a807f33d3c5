"""The events webhooks receive, and the one function that queues them.

``emit`` writes the event once (``WebhookEventPayload``) and one small delivery row per subscribed, enabled
endpoint in the caller's session, so the deliveries commit or roll back with the change they report (a
transactional outbox). Which endpoints hear an organization's events is decided by
``auth.scope.hears_events_of``: the organization's own and, for a licensed MSP sub-account, its MSP's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from openmira.auth.scope import hears_events_of
from openmira.core.wire import format_timestamp
from openmira.db.base import utcnow
from openmira.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventPayload

EVENTS: dict[str, str] = {
    "finding.created": "A finding was created.",
    "finding.updated": "A finding's owners were changed (assign).",
    "finding.resolved": "A finding was resolved.",
    "finding.comment_added": "A comment was added to a finding.",
    "agent.action_completed": "An agent action (isolate, release, restart, ...) completed or failed.",
    "ping": "A test delivery from POST .../webhooks/{id}/test.",
}
PING = "ping"
EventName = Literal[tuple(EVENTS)]  # type: ignore[valid-type]


def envelope(
    delivery_id: uuid.UUID, event: str, org_id: uuid.UUID, data: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """The JSON body of a delivery; its ``id`` is the delivery's ID (receivers deduplicate on it)."""
    return {
        "id": str(delivery_id),
        "event": event,
        "created": format_timestamp(created),
        "org_id": str(org_id),
        "data": data,
    }


def delivery_body(delivery_id: uuid.UUID, payload: WebhookEventPayload) -> dict[str, Any]:
    """The exact JSON body of one delivery of ``payload``."""
    return envelope(delivery_id, payload.event, payload.org_id, payload.data, payload.created)


def stored_body(session: Session, delivery: WebhookDelivery) -> dict[str, Any]:
    """The body of a stored delivery, from its event."""
    return delivery_body(delivery.id, session.get_one(WebhookEventPayload, delivery.payload_id))


def record(session: Session, event: str, org_id: uuid.UUID, data: dict[str, Any]) -> WebhookEventPayload:
    payload = WebhookEventPayload(id=uuid.uuid4(), event=event, org_id=org_id, data=data, created=utcnow())
    session.add(payload)
    return payload


def purge_unused(session: Session) -> None:
    """Delete the events no delivery points to any more (after an endpoint and its deliveries are deleted).
    A scan of the events, run only on endpoint deletion, which is rare."""
    used = select(WebhookDelivery.id).where(WebhookDelivery.payload_id == WebhookEventPayload.id)
    session.execute(delete(WebhookEventPayload).where(~used.exists()))


def queue(session: Session, endpoint: WebhookEndpoint, payload: WebhookEventPayload) -> WebhookDelivery:
    delivery = WebhookDelivery(
        id=uuid.uuid4(), endpoint_id=endpoint.id, event=payload.event, payload_id=payload.id, event_payload=payload,
        status=DeliveryStatus.PENDING, attempts=0, created=payload.created, next_attempt=payload.created,
    )
    session.add(delivery)
    return delivery


EventData = dict[str, Any] | Callable[[], dict[str, Any]]

# Built once: every write that emits an event runs it.
_ENABLED_ENDPOINTS_HEARING = (
    select(WebhookEndpoint)
    .where(hears_events_of(WebhookEndpoint.org_id, bindparam("org_id")), WebhookEndpoint.enabled.is_(True))
    .order_by(WebhookEndpoint.created, WebhookEndpoint.id)
)


def emit(session: Session, org_id: uuid.UUID, event: str, data: EventData) -> list[WebhookDelivery]:
    """Queue ``event`` (one of ``EVENTS``) that happened in organization ``org_id`` for every enabled endpoint
    subscribed to it. ``data`` is JSON-ready, or a function building it, called only when someone listens.
    Never commits: the caller's transaction carries the deliveries, so they exist if and only if the change
    does."""
    if event not in EVENTS:  # a programming error: every event is listed, documented and subscribable
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = session.scalars(_ENABLED_ENDPOINTS_HEARING, {"org_id": org_id}).all()
    listening = [e for e in endpoints if event in e.events]
    if not listening:
        return []
    payload = record(session, event, org_id, data() if callable(data) else data)
    deliveries = [queue(session, e, payload) for e in listening]
    session.flush()
    return deliveries
