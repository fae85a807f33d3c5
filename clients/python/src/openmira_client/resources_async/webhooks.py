# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Webhook endpoints and their deliveries (an organization's under /org, an MSP's own under /msp)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openmira_client._envelope import ListResponse
from openmira_client._models import Delivery, DeliveryDetail, Webhook, WebhookWithSecret
from openmira_client._pager import AsyncPager
from openmira_client._resource import ID, AsyncResource, operation, paging


def _endpoint(url: str, events: Sequence[str], description: str | None, enabled: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "events": list(events)}
    if description is not None:
        body["description"] = description
    if enabled is not None:
        body["enabled"] = enabled
    return body


class AsyncDeliveries(AsyncResource):
    @operation("GET", "/webhooks/{webhook_id}/deliveries")
    async def list(
        self, webhook_id: ID, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None, status: str | None = None, event: str | None = None,
    ) -> ListResponse[Delivery]:
        path = self._path("/webhooks/{webhook_id}/deliveries", webhook_id=webhook_id)
        params = self._params(paging(page, page_size, limit, order_by, status=status, event=event))
        return await self._list(path, ListResponse[Delivery], params)

    def iter(
        self, webhook_id: ID, *, page_size: int | None = None, order_by: str | None = None,
        status: str | None = None, event: str | None = None,
    ) -> AsyncPager[Delivery]:
        path = self._path("/webhooks/{webhook_id}/deliveries", webhook_id=webhook_id)
        params = self._params(paging(None, page_size, None, order_by, status=status, event=event))
        return self._iter(path, ListResponse[Delivery], params)

    @operation("GET", "/webhooks/{webhook_id}/deliveries/{delivery_id}")
    async def get(self, webhook_id: ID, delivery_id: ID) -> DeliveryDetail:
        path = self._path(
            "/webhooks/{webhook_id}/deliveries/{delivery_id}", webhook_id=webhook_id, delivery_id=delivery_id
        )
        return await self._one("GET", path, DeliveryDetail)


class AsyncWebhooks(AsyncResource):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliveries = AsyncDeliveries(self._client, self._prefix, self._prefix_template)

    @operation("GET", "/webhooks")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[Webhook]:
        params = self._params(paging(page, page_size, limit, order_by))
        return await self._list(self._path("/webhooks"), ListResponse[Webhook], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> AsyncPager[Webhook]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/webhooks"), ListResponse[Webhook], params)

    @operation("POST", "/webhooks")
    async def create(
        self, *, url: str, events: Sequence[str], description: str | None = None, enabled: bool | None = None,
        retry_writes: bool | None = None,
    ) -> WebhookWithSecret:
        """Register an endpoint; the returned ``secret`` (for verifying signatures) is shown only now."""
        body = _endpoint(url, events, description, enabled)
        return await self._one("POST", self._path("/webhooks"), WebhookWithSecret, body=body, retry_writes=retry_writes)

    @operation("GET", "/webhooks/{webhook_id}")
    async def get(self, webhook_id: ID) -> Webhook:
        return await self._one("GET", self._path("/webhooks/{webhook_id}", webhook_id=webhook_id), Webhook)

    @operation("PUT", "/webhooks/{webhook_id}")
    async def update(
        self, webhook_id: ID, *, url: str, events: Sequence[str], description: str | None = None,
        enabled: bool | None = None,
    ) -> Webhook:
        """Replace the whole endpoint (an omitted optional field takes its default)."""
        body = _endpoint(url, events, description, enabled)
        return await self._one("PUT", self._path("/webhooks/{webhook_id}", webhook_id=webhook_id), Webhook, body=body)

    @operation("DELETE", "/webhooks/{webhook_id}")
    async def delete(self, webhook_id: ID) -> Webhook:
        return await self._one("DELETE", self._path("/webhooks/{webhook_id}", webhook_id=webhook_id), Webhook)

    @operation("POST", "/webhooks/{webhook_id}/rotate-secret")
    async def rotate_secret(self, webhook_id: ID, *, retry_writes: bool | None = None) -> WebhookWithSecret:
        path = self._path("/webhooks/{webhook_id}/rotate-secret", webhook_id=webhook_id)
        return await self._one("POST", path, WebhookWithSecret, retry_writes=retry_writes)

    @operation("POST", "/webhooks/{webhook_id}/test")
    async def test(self, webhook_id: ID, *, retry_writes: bool | None = None) -> DeliveryDetail:
        """Send a ``ping`` delivery to the endpoint now."""
        path = self._path("/webhooks/{webhook_id}/test", webhook_id=webhook_id)
        return await self._one("POST", path, DeliveryDetail, retry_writes=retry_writes)
