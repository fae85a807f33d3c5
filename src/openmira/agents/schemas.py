"""API shapes of agent devices, installation keys, the action catalog and commands (contract section 6)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from openmira.agents.actions import CATALOG
from openmira.agents.models import AgentCommand, AgentDevice, AgentKey
from openmira.core.wire import Timestamp
from openmira.users.schemas import Person


class DeviceOut(BaseModel):
    device_id: uuid.UUID
    hostname: str
    arch: str
    plat: str
    description: str
    is_domain_controller: bool
    is_excluded: bool
    is_isolated: bool
    is_sleeping: bool
    isolation_requested: bool
    key_id: uuid.UUID | None
    keyname: str | None
    org_id: uuid.UUID
    alive: Timestamp | None
    created: Timestamp
    modified: Timestamp


class KeyOut(BaseModel):
    key_id: uuid.UUID
    description: str
    agent_count: int
    agent_seat_count: int
    org_id: uuid.UUID
    created: Timestamp
    modified: Timestamp


def device_out(device: AgentDevice) -> DeviceOut:
    return DeviceOut(
        device_id=device.id,
        hostname=device.hostname,
        arch=device.arch,
        plat=device.plat,
        description=device.description,
        is_domain_controller=device.is_domain_controller,
        is_excluded=device.is_excluded,
        is_isolated=device.is_isolated,
        is_sleeping=device.is_sleeping,
        isolation_requested=device.isolation_requested,
        key_id=device.key_id,
        keyname=device.key.description if device.key is not None else None,
        org_id=device.org_id,
        alive=device.alive,
        created=device.created,
        modified=device.modified,
    )


def key_out(key: AgentKey, agent_count: int) -> KeyOut:
    return KeyOut(
        key_id=key.id,
        description=key.description,
        agent_count=agent_count,
        agent_seat_count=key.agent_seat_count,
        org_id=key.org_id,
        created=key.created,
        modified=key.modified,
    )


class ActionOut(BaseModel):
    name: str
    description: str
    params: dict[str, Any] = Field(description="JSON Schema of the action's `params` object.")


class ActionCatalog(BaseModel):
    actions: list[ActionOut]


class CommandOut(BaseModel):
    command_id: uuid.UUID
    device_id: uuid.UUID
    action: str
    status: Literal["queued", "sent", "completed", "failed"]
    reason: str | None
    requested_by: Person | None = Field(description="The creator of the key pair that dispatched it.")
    created: Timestamp
    modified: Timestamp = Field(description="When the command last changed status.")


def catalog_out() -> ActionCatalog:
    return ActionCatalog(
        actions=[ActionOut(name=a.name, description=a.description, params=a.params_schema()) for a in CATALOG]
    )


def command_out(command: AgentCommand, requested_by: Person | None) -> CommandOut:
    return CommandOut(
        command_id=command.id,
        device_id=command.device_id,
        action=command.action,
        status=command.status,  # type: ignore[arg-type]
        reason=command.reason,
        requested_by=requested_by,
        created=command.created,
        modified=command.modified,
    )
