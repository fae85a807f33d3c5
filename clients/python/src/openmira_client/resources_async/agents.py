# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Agent devices, installation keys and device actions (isolate, release, restart)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openmira_client._envelope import ListResponse
from openmira_client._models import ActionCatalog, AgentKey, Command, Device
from openmira_client._pager import AsyncPager
from openmira_client._resource import ID, AsyncResource, operation, paging


class AsyncDevices(AsyncResource):
    @operation("GET", "/agents/devices")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[Device]:
        params = self._params(paging(page, page_size, limit, order_by))
        return await self._list(self._path("/agents/devices"), ListResponse[Device], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> AsyncPager[Device]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/agents/devices"), ListResponse[Device], params)

    @operation("GET", "/agents/devices/{device_id}")
    async def get(self, device_id: ID) -> Device:
        return await self._one("GET", self._path("/agents/devices/{device_id}", device_id=device_id), Device)

    @operation("POST", "/agents/devices/{device_id}/actions")
    async def dispatch(
        self, device_id: ID, *, action: str, reason: str | None = None, params: Mapping[str, Any] | None = None,
        retry_writes: bool | None = None,
    ) -> Command:
        """Queue ``action`` (``isolate``, ``release``, ``restart``) on the device; poll it with ``actions.get``."""
        payload: dict[str, Any] = {"action": action}
        if reason is not None:
            payload["reason"] = reason
        if params is not None:
            payload["params"] = dict(params)
        path = self._path("/agents/devices/{device_id}/actions", device_id=device_id)
        return await self._one("POST", path, Command, body=payload, retry_writes=retry_writes)


class AsyncActions(AsyncResource):
    @operation("GET", "/agents/actions/{command_id}")
    async def get(self, command_id: ID) -> Command:
        """A dispatched command's state: queued, sent, completed or failed."""
        return await self._one("GET", self._path("/agents/actions/{command_id}", command_id=command_id), Command)


class AsyncOrgActions(AsyncActions):
    @operation("GET", "/agents/actions")
    async def catalog(self) -> ActionCatalog:
        """The actions a device accepts, with the JSON Schema of each one's ``params``."""
        return await self._one("GET", self._path("/agents/actions"), ActionCatalog)


class AsyncKeys(AsyncResource):
    @operation("GET", "/agents/keys")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[AgentKey]:
        params = self._params(paging(page, page_size, limit, order_by))
        return await self._list(self._path("/agents/keys"), ListResponse[AgentKey], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> AsyncPager[AgentKey]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/agents/keys"), ListResponse[AgentKey], params)

    @operation("GET", "/agents/keys/{key_id}")
    async def get(self, key_id: ID) -> AgentKey:
        return await self._one("GET", self._path("/agents/keys/{key_id}", key_id=key_id), AgentKey)
