"""Agent commands: dispatch, and the simulated fleet that moves them along.

OpenMira has no real agents. A command goes queued → sent after ``agent_command_delay`` seconds and
sent → completed (or failed) after as long again; a sleeping device keeps its commands at ``sent``
until it wakes. Every transition is a conditional UPDATE (``WHERE status = <the old status>``) made
under the device's row lock, so several processes sweeping one database (agents/worker.py), and reads
advancing the commands they show, never apply a transition twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from openmira.agents.actions import ISOLATE, RELEASE, DispatchIn
from openmira.agents.models import AgentCommand, AgentDevice
from openmira.agents.schemas import CommandOut, command_out
from openmira.core.errors import Conflict
from openmira.core.lookup import one_or_404
from openmira.findings.service import people
from openmira.webhooks.events import emit

QUEUED, SENT, COMPLETED, FAILED = "queued", "sent", "completed", "failed"
STATUSES = (QUEUED, SENT, COMPLETED, FAILED)


def commands_query(org_ids: Iterable[uuid.UUID]) -> Select[tuple[AgentCommand]]:
    return select(AgentCommand).where(AgentCommand.org_id.in_(list(org_ids)))


def get_command(session: Session, org_ids: Iterable[uuid.UUID], command_id: uuid.UUID) -> AgentCommand:
    stmt = commands_query(org_ids).where(AgentCommand.id == command_id).execution_options(populate_existing=True)
    return one_or_404(session, stmt, "command", command_id)


def dispatch(
    session: Session,
    org_ids: Iterable[uuid.UUID],
    device_id: uuid.UUID,
    body: DispatchIn,
    actor: uuid.UUID | None,
    now: datetime,
) -> AgentCommand:
    """Queue ``body.action`` for the device. Isolation is refused for excluded devices and is requested
    at once (``isolation_requested``); the device is row-locked so concurrent dispatches apply in turn."""
    stmt = select(AgentDevice).where(AgentDevice.org_id.in_(list(org_ids)), AgentDevice.id == device_id)
    device = one_or_404(session, stmt.with_for_update(), "device", device_id)
    if body.action == ISOLATE:
        if device.is_excluded:
            raise Conflict(f"device {device.id} is excluded from isolation")
        device.isolation_requested = True
        device.modified = now
    command = AgentCommand(
        id=uuid.uuid4(), org_id=device.org_id, device_id=device.id, action=body.action, status=QUEUED,
        reason=body.reason, params=body.params.model_dump() if body.params is not None else {},
        requested_by=actor, created=now, modified=now,
    )
    session.add(command)
    session.flush()
    return command


def complete_command(session: Session, command: AgentCommand, now: datetime) -> bool:
    """The agent reports back: sent → completed (or failed), with the action's effect on the device.

    The one place a command finishes. False when another process finished it first; the UPDATE's
    condition on the old status is the claim, so the effect is applied exactly once.
    """
    device = session.get(AgentDevice, command.device_id)
    assert device is not None  # a device's commands are deleted with it
    # A device excluded after the isolate was dispatched refuses it, as the dispatch would have.
    outcome = FAILED if command.action == ISOLATE and device.is_excluded else COMPLETED
    claimed = session.execute(
        update(AgentCommand)
        .where(AgentCommand.id == command.id, AgentCommand.status == SENT)
        .values(status=outcome, modified=now)
    ).rowcount
    if not claimed:
        return False
    effect: dict[str, object] = {}
    if command.action == ISOLATE:
        effect = {"is_isolated": True} if outcome == COMPLETED else {"isolation_requested": False}
    elif command.action == RELEASE:
        effect = {"is_isolated": False, "isolation_requested": False}
    if effect:
        session.execute(update(AgentDevice).where(AgentDevice.id == device.id).values(**effect, modified=now))
    emit(session, command.org_id, "agent.action_completed",
         lambda: {"command": command_view(session, command, refresh=True).model_dump(mode="json")})
    return True


def command_view(session: Session, command: AgentCommand, *, refresh: bool = False) -> CommandOut:
    """The command as the API shows it; ``refresh`` re-reads it after the UPDATE statements above."""
    if refresh:
        session.refresh(command)
    requester = command.requested_by
    return command_out(command, people(session, [requester]).get(requester) if requester else None)


def _due(now: datetime, delay: float) -> ColumnElement[bool]:
    """Commands whose current step has lasted ``delay`` seconds (each transition stamps ``modified``)."""
    return AgentCommand.modified <= now - timedelta(seconds=delay)


def due_devices(session: Session, now: datetime, delay: float, limit: int = 500) -> list[uuid.UUID]:
    """Devices with a command due for its next step, for one sweep."""
    stmt = (
        select(AgentCommand.device_id)
        .where(AgentCommand.status.in_((QUEUED, SENT)), _due(now, delay))
        .group_by(AgentCommand.device_id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def advance_device(session: Session, device_id: uuid.UUID, now: datetime, delay: float) -> int:
    """Move the device's due commands on (queued → sent → completed); the number finished.

    Every transaction that changes a device's commands locks the device row first (dispatch too), and
    touches one device, so concurrent sweeps and reads queue behind each other and never deadlock.
    Nothing is written when nothing is due. With a zero delay a queued command is finished at once.
    """
    due = [AgentCommand.device_id == device_id, _due(now, delay)]
    if session.scalar(select(AgentCommand.id).where(AgentCommand.status.in_((QUEUED, SENT)), *due).limit(1)) is None:
        return 0
    lock = select(AgentDevice).where(AgentDevice.id == device_id).with_for_update()
    device = session.scalar(lock.execution_options(populate_existing=True))
    if device is None:
        return 0
    session.execute(
        update(AgentCommand).where(AgentCommand.status == QUEUED, *due).values(status=SENT, modified=now)
    )
    if device.is_sleeping:  # the relay holds its commands until it checks in again
        return 0
    sent = session.scalars(
        select(AgentCommand)
        .where(AgentCommand.status == SENT, *due)
        # A device carries out its commands in the order they were given (an isolate, then a release).
        .order_by(AgentCommand.created, AgentCommand.id)
        .execution_options(populate_existing=True)
    ).all()
    return sum(complete_command(session, command, now) for command in sent)
