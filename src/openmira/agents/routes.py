from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from openmira.agents import service
from openmira.agents.models import AgentDevice, AgentKey
from openmira.agents.schemas import DeviceOut, KeyOut, device_out, key_out
from openmira.auth.scope import Scoped
from openmira.core.envelope import Envelope, ListEnvelope, ok
from openmira.core.paging import PageRequest, order_by_query, page_request, paginate, parse_order_by
from openmira.core.routing import DbSession, TransactionalRoute

router = APIRouter(prefix="/agents", route_class=TransactionalRoute, tags=["agents"])

DeviceOrderBy = Annotated[str | None, order_by_query(service.DEVICE_ORDER, "created;desc")]
KeyOrderBy = Annotated[str | None, order_by_query(service.KEY_ORDER, "created;desc")]


@router.get("/devices", response_model=ListEnvelope[DeviceOut], summary="List the agent devices")
def get_devices(
    request: Request,
    session: DbSession,
    scope: Scoped,
    order_by: DeviceOrderBy = None,
    page: PageRequest = Depends(page_request),
) -> dict[str, object]:
    order = parse_order_by(order_by, service.DEVICE_ORDER, default="created;desc", tie_break=AgentDevice.id)
    return paginate(session, request, page, service.devices_query(scope.org_ids), order, device_out)


@router.get("/devices/{device_id}", response_model=Envelope[DeviceOut], summary="Get one agent device")
def get_device(
    session: DbSession,
    scope: Scoped,
    device_id: Annotated[uuid.UUID, Path(description="The device's ID.")],
) -> dict[str, object]:
    return ok(device_out(service.get_device(session, scope.org_ids, device_id)))


@router.get("/keys", response_model=ListEnvelope[KeyOut], summary="List the agent installation keys")
def get_keys(
    request: Request,
    session: DbSession,
    scope: Scoped,
    order_by: KeyOrderBy = None,
    page: PageRequest = Depends(page_request),
) -> dict[str, object]:
    order = parse_order_by(order_by, service.KEY_ORDER, default="created;desc", tie_break=AgentKey.id)
    result: dict[str, Any] = paginate(session, request, page, service.keys_query(scope.org_ids), order, lambda k: k)
    keys: list[AgentKey] = result["data"]
    counts = service.agent_counts(session, scope.org_ids, [k.id for k in keys])
    result["data"] = [key_out(k, counts.get(k.id, 0)) for k in keys]
    return result


@router.get("/keys/{key_id}", response_model=Envelope[KeyOut], summary="Get one agent installation key")
def get_key(
    session: DbSession,
    scope: Scoped,
    key_id: Annotated[uuid.UUID, Path(description="The installation key's ID.")],
) -> dict[str, object]:
    key = service.get_key(session, scope.org_ids, key_id)
    counts = service.agent_counts(session, scope.org_ids, [key.id])
    return ok(key_out(key, counts.get(key.id, 0)))
