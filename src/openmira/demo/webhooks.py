"""The demo organization's webhook: a disabled endpoint on localhost with a short delivery history, so the
webhook screens and lists are not empty. Created once; later runs leave it (and its secret) alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.db.base import utcnow
from openmira.findings.models import Finding
from openmira.findings.service import event_data
from openmira.webhooks.crypto import SecretBox, new_signing_secret
from openmira.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventPayload

DEMO_WEBHOOK_URL = "http://127.0.0.1:9999/openmira-webhook"


def ensure_demo_webhook(session: Session, org_id: uuid.UUID, namespace: uuid.UUID, box: SecretBox) -> None:
    endpoint_id = uuid.uuid5(namespace, "webhook:soc-inbox")
    if session.get(WebhookEndpoint, endpoint_id) is not None:
        return
    now = utcnow().replace(second=0, microsecond=0)
    session.add(WebhookEndpoint(
        id=endpoint_id, org_id=org_id, url=DEMO_WEBHOOK_URL, description="SOC inbox (demo; enable to try it)",
        events=["finding.resolved", "finding.updated", "finding.comment_added"], enabled=False,
        secret_encrypted=box.encrypt(new_signing_secret()), created=now - timedelta(days=3),
        modified=now - timedelta(days=3),
    ))
    session.flush()
    finding = session.scalars(
        select(Finding).where(Finding.org_id == org_id).order_by(Finding.created, Finding.id).limit(1)
    ).first()
    history = [("ping", {"webhook_id": str(endpoint_id), "message": "A test delivery from OpenMira."},
                DeliveryStatus.SUCCEEDED, 1, 200, None, timedelta(days=3))]
    if finding is not None:
        history.append(("finding.resolved", event_data(session, finding), DeliveryStatus.FAILED, 5, 502,
                        "the receiver answered 502", timedelta(days=2)))
    for n, (event, data, status, attempts, response, error, ago) in enumerate(history):
        delivery_id = uuid.uuid5(namespace, f"webhook-delivery:{n}")
        created = now - ago
        payload = WebhookEventPayload(id=uuid.uuid5(namespace, f"webhook-event:{n}"), event=event, org_id=org_id,
                                      data=data, created=created)
        session.add(payload)
        session.add(WebhookDelivery(
            id=delivery_id, endpoint_id=endpoint_id, event=event, payload_id=payload.id, event_payload=payload,
            status=status,
            attempts=attempts, response_status=response, error=error, created=created,
            last_attempt=created + timedelta(minutes=8 * (attempts - 1)), next_attempt=created,
        ))
    session.flush()
