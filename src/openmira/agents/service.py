"""Agent devices and installation keys, always read from a tenant scope's organizations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload

from openmira.agents.models import AgentDevice, AgentKey
from openmira.core.lookup import one_or_404

DEVICE_ORDER: Mapping[str, ColumnElement[Any]] = {
    "created": AgentDevice.created,
    "modified": AgentDevice.modified,
    "alive": AgentDevice.alive,
    "hostname": AgentDevice.hostname,
    "plat": AgentDevice.plat,
    "arch": AgentDevice.arch,
}

KEY_ORDER: Mapping[str, ColumnElement[Any]] = {
    "created": AgentKey.created,
    "modified": AgentKey.modified,
    "description": AgentKey.description,
    "agent_seat_count": AgentKey.agent_seat_count,
}


def devices_query(org_ids: Iterable[uuid.UUID]) -> Select[tuple[AgentDevice]]:
    return (
        select(AgentDevice)
        .where(AgentDevice.org_id.in_(list(org_ids)))
        .options(joinedload(AgentDevice.key))
    )


def get_device(session: Session, org_ids: Iterable[uuid.UUID], device_id: uuid.UUID) -> AgentDevice:
    return one_or_404(session, devices_query(org_ids).where(AgentDevice.id == device_id), "device", device_id)


def keys_query(org_ids: Iterable[uuid.UUID]) -> Select[tuple[AgentKey]]:
    return select(AgentKey).where(AgentKey.org_id.in_(list(org_ids)))


def get_key(session: Session, org_ids: Iterable[uuid.UUID], key_id: uuid.UUID) -> AgentKey:
    return one_or_404(session, keys_query(org_ids).where(AgentKey.id == key_id), "installation key", key_id)


def agent_counts(session: Session, org_ids: Iterable[uuid.UUID], key_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Devices enrolled with each of ``key_ids``: one grouped count for a whole page of keys."""
    ids = list(set(key_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(AgentDevice.key_id, func.count())
        .where(AgentDevice.org_id.in_(list(org_ids)), AgentDevice.key_id.in_(ids))
        .group_by(AgentDevice.key_id)
    )
    return {key_id: count for key_id, count in rows}
