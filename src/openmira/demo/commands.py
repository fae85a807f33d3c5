"""A plausible history of agent commands on a demo fleet: the isolations behind its isolated devices,
past isolations that were released, and restarts. All finished long ago, so the fleet's flags agree."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from openmira.agents.actions import ISOLATE, RELEASE, RESTART
from openmira.agents.commands import COMPLETED, FAILED
from openmira.demo.generator import new_uuid

ISOLATE_REASONS = (
    "Ransomware finding on this host; isolating while we investigate.",
    "Mimikatz detected; containing until credentials are reset.",
    "Outbound C2 traffic from this host.",
    "User reported a suspicious attachment was opened.",
)
RELEASE_REASONS = ("Host reimaged and verified clean.", "False positive confirmed with the user.", None)
RESTART_REASONS = ("Pending security updates.", "Agent upgrade.", None)


def command_history(
    rng: random.Random,
    org_id: uuid.UUID,
    devices: Sequence[Mapping[str, Any]],
    requesters: Sequence[uuid.UUID],
    as_of: datetime,
) -> list[dict[str, Any]]:
    """Commands for ``devices`` (rows with id, created, is_isolated, is_excluded), oldest first per device."""
    rows: list[dict[str, Any]] = []

    def add(device: Mapping[str, Any], action: str, at: datetime, reason: str | None, status: str = COMPLETED) -> None:
        params = {"delay_seconds": rng.choice((0, 60, 300)), "force": False} if action == RESTART else {}
        rows.append({
            "id": new_uuid(rng), "org_id": org_id, "device_id": device["id"], "action": action, "status": status,
            "reason": reason, "params": params, "requested_by": rng.choice(requesters) if requesters else None,
            "created": at, "modified": at + timedelta(seconds=rng.randrange(3, 90)),
        })

    for device in devices:
        age = as_of - device["created"]
        if age < timedelta(days=2):
            continue

        def past(_age: timedelta = age) -> datetime:
            return as_of - _age * rng.uniform(0.05, 0.95)

        if device["is_isolated"]:
            add(device, ISOLATE, as_of - timedelta(hours=rng.randrange(2, 40)), rng.choice(ISOLATE_REASONS))
        elif not device["is_excluded"] and rng.random() < 0.06:
            start = past()
            add(device, ISOLATE, start, rng.choice(ISOLATE_REASONS))
            released = min(start + timedelta(hours=rng.randrange(2, 72)), as_of - timedelta(minutes=30))
            add(device, RELEASE, released, rng.choice(RELEASE_REASONS))
        if rng.random() < 0.1:
            # A sleeping laptop misses a restart now and then.
            status = FAILED if rng.random() < 0.15 else COMPLETED
            add(device, RESTART, past(), rng.choice(RESTART_REASONS), status)
    return rows
