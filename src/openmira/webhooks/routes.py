"""Webhook endpoints (contract section 7): mounted under ``/org`` (owned by the token's organization) and
``/msp`` (owned by the MSP itself, behind ``msp_self_scope``). The scope's single organization owns what
is created; every lookup goes through the scope."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from openmira.auth.principal import WritePrincipal
from openmira.auth.scope import Scoped
from openmira.core.envelope import Envelope, ListEnvelope, ok
from openmira.core.errors import PROBLEM_MEDIA_TYPE
from openmira.core.paging import Paging, order_by_query
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.core.text import WEBHOOK_ENDPOINTS_MAX
from openmira.runtime import RuntimeDep
from openmira.webhooks import service
from openmira.webhooks.events import EventName
from openmira.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryState,
    WebhookIn,
    WebhookOut,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", route_class=TransactionalRoute, tags=["webhooks"])

# Blumira's path names this parameter `id`; the handlers keep a name that says which ID it is.
WebhookId = Annotated[uuid.UUID, Path(alias="id", description="The webhook endpoint's ID.")]
DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's ID.")]
EndpointOrderBy = Annotated[str | None, order_by_query(service.ENDPOINT_ORDER, service.DEFAULT_ORDER)]
DeliveryOrderBy = Annotated[str | None, order_by_query(service.DELIVERY_ORDER, service.DEFAULT_ORDER)]
EventFilter = Annotated[EventName | None, Query(description="Only deliveries of this event.")]


def _owner(scope: Scoped) -> uuid.UUID:
    owner = scope.single_org
    assert owner is not None  # org_scope and msp_self_scope are one organization
    return owner


@router.get("", response_model=ListEnvelope[WebhookOut], summary="List webhook endpoints")
def get_webhooks(
    request: Request, session: DbSession, scope: Scoped, page: Paging, order_by: EndpointOrderBy = None
) -> dict[str, Any]:
    return service.list_endpoints(session, request, page, scope.org_ids, order_by)


@router.post(
    "",
    status_code=201,
    response_model=Envelope[WebhookWithSecret],
    summary="Create a webhook endpoint (its signing secret is shown only in this answer)",
    responses={
        409: {
            "description": f"The organization already has {WEBHOOK_ENDPOINTS_MAX} endpoints",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
def create_webhook(
    body: WebhookIn, session: DbSession, scope: Scoped, principal: WritePrincipal, runtime: RuntimeDep
) -> dict[str, Any]:
    return ok(service.create_endpoint(session, _owner(scope), body, runtime.webhook_policy, runtime.webhook_secrets))


@router.get("/{id}", response_model=Envelope[WebhookOut], summary="Get a webhook endpoint")
def get_webhook(webhook_id: WebhookId, session: DbSession, scope: Scoped) -> dict[str, Any]:
    return ok(service.endpoint_out(service.get_endpoint(session, scope.org_ids, webhook_id)))


@router.put(
    "/{id}",
    response_model=Envelope[WebhookOut],
    summary="Replace a webhook endpoint (omitted optional fields take their defaults; the secret is kept)",
)
def update_webhook(
    webhook_id: WebhookId,
    body: WebhookIn,
    session: DbSession,
    scope: Scoped,
    principal: WritePrincipal,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    return ok(service.replace_endpoint(session, scope.org_ids, webhook_id, body, runtime.webhook_policy))


@router.delete(
    "/{id}",
    response_model=Envelope[WebhookOut],
    summary="Delete a webhook endpoint and its deliveries (answers with what was deleted)",
)
def delete_webhook(
    webhook_id: WebhookId, session: DbSession, scope: Scoped, principal: WritePrincipal
) -> dict[str, Any]:
    return ok(service.delete_endpoint(session, scope.org_ids, webhook_id))


@router.get(
    "/{id}/deliveries",
    response_model=ListEnvelope[DeliveryOut],
    summary="List a webhook endpoint's deliveries (newest first)",
)
def get_deliveries(
    request: Request,
    webhook_id: WebhookId,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: DeliveryOrderBy = None,
    status: Annotated[DeliveryState | None, Query(description="Only deliveries in this state.")] = None,
    event: EventFilter = None,
) -> dict[str, Any]:
    return service.list_deliveries(session, request, page, scope.org_ids, webhook_id, order_by, status, event)


@router.get(
    "/{id}/deliveries/{delivery_id}",
    response_model=Envelope[DeliveryDetail],
    summary="Get a delivery with its payload",
)
def get_delivery(webhook_id: WebhookId, delivery_id: DeliveryId, session: DbSession, scope: Scoped) -> dict[str, Any]:
    return ok(service.get_delivery(session, scope.org_ids, webhook_id, delivery_id))


@router.post(
    "/{id}/rotate-secret",
    response_model=Envelope[WebhookWithSecret],
    summary="Replace the signing secret (the old one stops signing at once; the new one is shown only here)",
)
def rotate_secret(
    webhook_id: WebhookId, session: DbSession, scope: Scoped, principal: WritePrincipal, runtime: RuntimeDep
) -> dict[str, Any]:
    return ok(service.rotate_secret(session, scope.org_ids, webhook_id, runtime.webhook_secrets))


@router.post(
    "/{id}/test",
    status_code=202,
    response_model=Envelope[DeliveryDetail],
    summary="Queue a `ping` delivery to this endpoint",
)
def test_webhook(webhook_id: WebhookId, session: DbSession, scope: Scoped, principal: WritePrincipal) -> dict[str, Any]:
    return ok(service.send_test(session, scope.org_ids, webhook_id))
