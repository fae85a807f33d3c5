"""Webhook endpoints and their deliveries, always read through the tenant scope's organizations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest, Conflict
from openmira.core.lookup import one_or_404
from openmira.core.paging import PageRequest, paginate, parse_order_by
from openmira.core.text import WEBHOOK_ENDPOINTS_MAX
from openmira.db.base import utcnow
from openmira.webhooks import events
from openmira.webhooks.addresses import HostPolicy, url_host, url_port
from openmira.webhooks.crypto import SecretBox, new_signing_secret
from openmira.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from openmira.webhooks.schemas import DeliveryDetail, DeliveryOut, WebhookIn, WebhookOut, WebhookWithSecret

ENDPOINT_ORDER = {"created": WebhookEndpoint.created, "modified": WebhookEndpoint.modified, "url": WebhookEndpoint.url}
DELIVERY_ORDER = {"created": WebhookDelivery.created, "event": WebhookDelivery.event, "status": WebhookDelivery.status}
DEFAULT_ORDER = "created;desc"


def endpoint_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=endpoint.id, url=endpoint.url, description=endpoint.description, events=list(endpoint.events),
        enabled=endpoint.enabled, created=endpoint.created, modified=endpoint.modified,
    )


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> WebhookWithSecret:
    return WebhookWithSecret(**endpoint_out(endpoint).model_dump(), secret=secret)


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(**_delivery_fields(delivery))


def delivery_detail(session: Session, delivery: WebhookDelivery) -> DeliveryDetail:
    return DeliveryDetail(**_delivery_fields(delivery), payload=events.stored_body(session, delivery))


def _delivery_fields(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "delivery_id": d.id, "endpoint_id": d.endpoint_id, "event": d.event, "status": d.status,
        "attempts": d.attempts, "response_status": d.response_status, "error": d.error, "created": d.created,
        "last_attempt": d.last_attempt,
        "next_attempt": d.next_attempt if d.status == DeliveryStatus.PENDING else None,
    }


def _check_allowed(policy: HostPolicy, url: str) -> None:
    host, port = url_host(url), url_port(url)
    if not policy.allows_host(host, port):
        raise BadRequest.param(
            "url",
            f"deliveries to {host} on port {port} are not allowed by this server (OPENMIRA_WEBHOOK_ALLOWED_HOSTS)",
            "body",
        )


def endpoints_query(org_ids: Iterable[uuid.UUID]) -> Select[tuple[WebhookEndpoint]]:
    return select(WebhookEndpoint).where(WebhookEndpoint.org_id.in_(list(org_ids)))


def get_endpoint(session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID) -> WebhookEndpoint:
    stmt = endpoints_query(org_ids).where(WebhookEndpoint.id == webhook_id)
    return one_or_404(session, stmt, "webhook", webhook_id)


def list_endpoints(
    session: Session, request: Request, page: PageRequest, org_ids: Iterable[uuid.UUID], order_by: str | None
) -> dict[str, Any]:
    order = parse_order_by(order_by, ENDPOINT_ORDER, default=DEFAULT_ORDER, tie_break=WebhookEndpoint.id)
    return paginate(session, request, page, endpoints_query(org_ids), order, endpoint_out)


def create_endpoint(
    session: Session, owner: uuid.UUID, body: WebhookIn, policy: HostPolicy, box: SecretBox
) -> WebhookWithSecret:
    _check_allowed(policy, body.url)
    held = session.scalar(select(func.count()).where(WebhookEndpoint.org_id == owner)) or 0
    if held >= WEBHOOK_ENDPOINTS_MAX:
        raise Conflict(f"an organization may have at most {WEBHOOK_ENDPOINTS_MAX} webhook endpoints; delete one first")
    secret = new_signing_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(), org_id=owner, url=body.url, description=body.description, events=body.events,
        enabled=body.enabled, secret_encrypted=box.encrypt(secret), created=now, modified=now,
    )
    session.add(endpoint)
    session.flush()
    return _with_secret(endpoint, secret)


def replace_endpoint(
    session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID, body: WebhookIn, policy: HostPolicy
) -> WebhookOut:
    endpoint = get_endpoint(session, org_ids, webhook_id)
    _check_allowed(policy, body.url)
    endpoint.url, endpoint.description, endpoint.events = body.url, body.description, body.events
    endpoint.enabled = body.enabled
    endpoint.modified = utcnow()
    session.flush()
    return endpoint_out(endpoint)


def delete_endpoint(session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID) -> WebhookOut:
    endpoint = get_endpoint(session, org_ids, webhook_id)
    gone = endpoint_out(endpoint)
    session.delete(endpoint)  # its deliveries go with it (ON DELETE CASCADE)
    session.flush()
    events.purge_unused(session)
    return gone


def rotate_secret(
    session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID, box: SecretBox
) -> WebhookWithSecret:
    endpoint = get_endpoint(session, org_ids, webhook_id)
    secret = new_signing_secret()
    endpoint.secret_encrypted = box.encrypt(secret)
    endpoint.modified = utcnow()
    session.flush()
    return _with_secret(endpoint, secret)


def send_test(session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID) -> DeliveryDetail:
    """A ``ping`` for this endpoint alone, whatever its events and even when disabled (an explicit check)."""
    endpoint = get_endpoint(session, org_ids, webhook_id)
    data = {"webhook_id": str(endpoint.id), "message": "A test delivery from OpenMira."}
    delivery = events.queue(session, endpoint, events.record(session, events.PING, endpoint.org_id, data))
    session.flush()
    return delivery_detail(session, delivery)


def _deliveries_query(org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID) -> Select[tuple[WebhookDelivery]]:
    return (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.org_id.in_(list(org_ids)), WebhookEndpoint.id == webhook_id)
    )


def list_deliveries(
    session: Session,
    request: Request,
    page: PageRequest,
    org_ids: Iterable[uuid.UUID],
    webhook_id: uuid.UUID,
    order_by: str | None,
    status: str | None,
    event: str | None,
) -> dict[str, Any]:
    endpoint = get_endpoint(session, org_ids, webhook_id)
    order = parse_order_by(order_by, DELIVERY_ORDER, default=DEFAULT_ORDER, tie_break=WebhookDelivery.id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event is not None:
        stmt = stmt.where(WebhookDelivery.event == event)
    return paginate(session, request, page, stmt, order, delivery_out)


def get_delivery(
    session: Session, org_ids: Iterable[uuid.UUID], webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryDetail:
    stmt = _deliveries_query(org_ids, webhook_id).where(WebhookDelivery.id == delivery_id)
    return delivery_detail(session, one_or_404(session, stmt, "delivery", delivery_id))
