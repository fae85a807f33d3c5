"""Agent devices, installation keys and device actions (isolate, release, restart)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openmira_client._envelope import ListResponse
from openmira_client._models import ActionCatalog, AgentKey, Command, Device
from openmira_client._pager import SyncPager
from openmira_client._resource import ID, SyncResource, operation, paging


class Devices(SyncResource):
    @operation("GET", "/agents/devices")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[Device]:
        params = self._params(paging(page, page_size, limit, order_by))
        return self._list(self._path("/agents/devices"), ListResponse[Device], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> SyncPager[Device]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/agents/devices"), ListResponse[Device], params)

    @operation("GET", "/agents/devices/{device_id}")
    def get(self, device_id: ID) -> Device:
        return self._one("GET", self._path("/agents/devices/{device_id}", device_id=device_id), Device)

    @operation("POST", "/agents/devices/{device_id}/actions")
    def dispatch(
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
        return self._one("POST", path, Command, body=payload, retry_writes=retry_writes)


class Actions(SyncResource):
    @operation("GET", "/agents/actions/{command_id}")
    def get(self, command_id: ID) -> Command:
        """A dispatched command's state: queued, sent, completed or failed."""
        return self._one("GET", self._path("/agents/actions/{command_id}", command_id=command_id), Command)


class OrgActions(Actions):
    @operation("GET", "/agents/actions")
    def catalog(self) -> ActionCatalog:
        """The actions a device accepts, with the JSON Schema of each one's ``params``."""
        return self._one("GET", self._path("/agents/actions"), ActionCatalog)


class Keys(SyncResource):
    @operation("GET", "/agents/keys")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[AgentKey]:
        params = self._params(paging(page, page_size, limit, order_by))
        return self._list(self._path("/agents/keys"), ListResponse[AgentKey], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> SyncPager[AgentKey]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/agents/keys"), ListResponse[AgentKey], params)

    @operation("GET", "/agents/keys/{key_id}")
    def get(self, key_id: ID) -> AgentKey:
        return self._one("GET", self._path("/agents/keys/{key_id}", key_id=key_id), AgentKey)
