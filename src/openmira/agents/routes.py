from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request

from openmira.agents import commands, service
from openmira.agents.actions import DispatchIn
from openmira.agents.models import AgentDevice, AgentKey
from openmira.agents.schemas import (
    ActionCatalog,
    CommandOut,
    DeviceOut,
    KeyOut,
    catalog_out,
    device_out,
    key_out,
)
from openmira.auth.principal import WritePrincipal
from openmira.auth.scope import Scoped
from openmira.core.envelope import Envelope, ListEnvelope, ok
from openmira.core.errors import PROBLEM_MEDIA_TYPE
from openmira.core.paging import Paging, order_by_query, paginate, parse_order_by
from openmira.core.routing import DbSession, TransactionalRoute, writes
from openmira.db.base import utcnow
from openmira.runtime import RuntimeDep

router = APIRouter(prefix="/agents", route_class=TransactionalRoute, tags=["agents"])
# Blumira lists no MSP action catalog: this one is mounted under /org only.
catalog_router = APIRouter(prefix="/agents", route_class=TransactionalRoute, tags=["agents"])

DeviceId = Annotated[uuid.UUID, Path(description="The device's ID.")]

DeviceOrderBy = Annotated[str | None, order_by_query(service.DEVICE_ORDER, "created;desc")]
KeyOrderBy = Annotated[str | None, order_by_query(service.KEY_ORDER, "created;desc")]


@router.get("/devices", response_model=ListEnvelope[DeviceOut], summary="List the agent devices")
def get_devices(
    request: Request,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: DeviceOrderBy = None,
) -> dict[str, object]:
    order = parse_order_by(order_by, service.DEVICE_ORDER, default="created;desc", tie_break=AgentDevice.id)
    return paginate(session, request, page, service.devices_query(scope.org_ids), order, device_out)


@router.get("/devices/{device_id}", response_model=Envelope[DeviceOut], summary="Get one agent device")
@writes  # advances the device's due commands
def get_device(session: DbSession, scope: Scoped, runtime: RuntimeDep, device_id: DeviceId) -> dict[str, object]:
    device = service.get_device(session, scope.org_ids, device_id)
    # Its flags follow its commands: finish what is due so the read is not older than the sweep.
    if commands.advance_device(session, device.id, utcnow(), runtime.settings.agent_command_delay):
        device = service.get_device(session, scope.org_ids, device_id)
    return ok(device_out(device))


@router.get("/keys", response_model=ListEnvelope[KeyOut], summary="List the agent installation keys")
def get_keys(
    request: Request,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: KeyOrderBy = None,
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


@catalog_router.get("/actions", response_model=Envelope[ActionCatalog], summary="List the agent actions")
def get_agent_actions() -> dict[str, object]:
    # The prefix's scope dependency has authenticated the caller; the catalog is the same for everyone.
    return ok(catalog_out())


@router.post(
    "/devices/{device_id}/actions",
    status_code=202,
    response_model=Envelope[CommandOut],
    summary="Dispatch an action to an agent device",
    description=(
        "Queues the action and answers at once with the command (`queued`); follow it with "
        "`GET .../agents/actions/{command_id}`. `isolate` sets the device's `isolation_requested` at once "
        "and `is_isolated` when the command completes; `release` clears both. Isolating an isolated device, "
        "or releasing one that is not, is accepted and completes without change."
    ),
    responses={
        409: {
            "description": "The device is excluded from isolation",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
def dispatch_agent_action(
    session: DbSession,
    scope: Scoped,
    principal: WritePrincipal,
    device_id: DeviceId,
    body: Annotated[DispatchIn, Body()],
) -> dict[str, object]:
    command = commands.dispatch(session, scope.org_ids, device_id, body, principal.user_id, utcnow())
    return ok(commands.command_view(session, command))


@router.get("/actions/{command_id}", response_model=Envelope[CommandOut], summary="Get a dispatched command's state")
@writes  # advances the device's due commands
def get_agent_action(
    session: DbSession,
    scope: Scoped,
    runtime: RuntimeDep,
    command_id: Annotated[uuid.UUID, Path(description="The command's ID, from the dispatch answer.")],
) -> dict[str, object]:
    command = commands.get_command(session, scope.org_ids, command_id)
    if commands.advance_device(session, command.device_id, utcnow(), runtime.settings.agent_command_delay):
        command = commands.get_command(session, scope.org_ids, command_id)
    return ok(commands.command_view(session, command))
