"""API shapes of agent devices and installation keys (contract section 6)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from openmira.agents.models import AgentDevice, AgentKey


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
    alive: datetime | None
    created: datetime
    modified: datetime


class KeyOut(BaseModel):
    key_id: uuid.UUID
    description: str
    agent_count: int
    agent_seat_count: int
    org_id: uuid.UUID
    created: datetime
    modified: datetime


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
