"""Setting, listing and clearing faults, and revoking the tokens issued so far. Services never commit."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest, NotFound
from openmira.core.wire import format_timestamp
from openmira.credentials.models import KeyPair
from openmira.faults.models import Fault, FaultState

STATUSES = (429, 500, 503)
MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class FaultSpec:
    client_id: str | None = None
    status: int | None = None
    latency_ms: int | None = None
    count: int | None = None
    share: float | None = None
    retry_after: int | None = None

    def check(self) -> None:
        if (self.status is None) == (self.latency_ms is None):
            raise BadRequest.param("status", "give either an error status or a latency", "body")
        if self.status is not None and self.status not in STATUSES:
            raise BadRequest.param("status", f"must be one of {', '.join(map(str, STATUSES))}", "body")
        if self.latency_ms is not None and not 1 <= self.latency_ms <= MAX_LATENCY_MS:
            raise BadRequest.param("latency_ms", f"must be 1..{MAX_LATENCY_MS}", "body")
        if self.count is not None and self.share is not None:
            raise BadRequest.param("count", "give a count or a share, not both", "body")
        if self.count is not None and self.count < 1:
            raise BadRequest.param("count", "must be at least 1", "body")
        if self.share is not None and not 0 < self.share <= 1:
            raise BadRequest.param("share", "must be in (0, 1]", "body")
        if self.retry_after is not None and (self.status != 429 or not 1 <= self.retry_after <= 3600):
            raise BadRequest.param("retry_after", "only for status 429, 1..3600 seconds", "body")


def fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "id": str(fault.id), "client_id": fault.client_id, "status": fault.status,
        "retry_after": fault.retry_after, "latency_ms": fault.latency_ms, "remaining": fault.remaining,
        "share": fault.share, "created": format_timestamp(fault.created),
    }


def bump_version(session: Session) -> None:
    state = session.get(FaultState, 1)
    if state is None:
        session.add(FaultState(id=1, version=1))
    else:
        session.execute(update(FaultState).where(FaultState.id == 1).values(version=FaultState.version + 1))
    session.flush()


def set_fault(session: Session, spec: FaultSpec) -> Fault:
    spec.check()
    if spec.client_id is not None and session.get(KeyPair, spec.client_id) is None:
        raise NotFound(f"no key pair with Client ID {spec.client_id}")
    fault = Fault(
        client_id=spec.client_id, status=spec.status, latency_ms=spec.latency_ms, remaining=spec.count,
        share=spec.share, retry_after=(spec.retry_after or 1) if spec.status == 429 else None,
    )
    session.add(fault)
    session.flush()
    bump_version(session)
    return fault


def list_faults(session: Session) -> list[Fault]:
    return list(session.scalars(select(Fault).order_by(Fault.created, Fault.id)))


def clear_faults(session: Session, client_id: str | None = None) -> int:
    """Remove every fault, or those of one key pair; returns how many."""
    query = delete(Fault) if client_id is None else delete(Fault).where(Fault.client_id == client_id)
    removed = session.execute(query).rowcount or 0  # type: ignore[attr-defined]
    bump_version(session)
    return int(removed)


def revoke_tokens(session: Session, client_id: str | None = None) -> int:
    """Make every token issued so far to one key pair (or to all) fail with 401, as a rotation does, without
    changing the secret: the client must fetch a new token. Returns how many key pairs."""
    query = update(KeyPair).values(tokens_valid_after=math.ceil(time.time()))
    if client_id is not None:
        if session.get(KeyPair, client_id) is None:
            raise NotFound(f"no key pair with Client ID {client_id}")
        query = query.where(KeyPair.client_id == client_id)
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def consume(session: Session, fault_id: uuid.UUID) -> bool:
    """Take one of a counted fault's remaining requests; False when another request took the last one.
    The conditional UPDATE makes "the next N requests" exact across processes."""
    result = session.execute(
        update(Fault).where(Fault.id == fault_id, Fault.remaining > 0).values(remaining=Fault.remaining - 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
