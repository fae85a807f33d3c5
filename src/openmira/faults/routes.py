"""The admin HTTP endpoints for faults, for test suites in other languages. Mounted only when
``OPENMIRA_ADMIN_TOKEN`` is set, and answering only to that token (``Authorization: Bearer <token>``)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openmira.core.errors import Unauthorized
from openmira.faults import service
from openmira.runtime import RuntimeDep

router = APIRouter(prefix="/admin/faults", include_in_schema=False)


def _admin(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    expected = runtime.settings.admin_token or ""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise Unauthorized("the admin token is required", error=None)
    with runtime.sessions() as session:
        yield session  # each handler commits before it answers, so an acknowledged change is durable


AdminSession = Annotated[Session, Depends(_admin)]


class FaultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str | None = Field(default=None, description="One key pair; absent: every key pair.")
    status: int | None = Field(default=None, description="429, 500 or 503.")
    latency_ms: int | None = None
    count: int | None = Field(default=None, description="The next N requests; absent (with no share): all.")
    share: float | None = Field(default=None, description="A share of requests, 0 < share <= 1.")
    retry_after: int | None = Field(default=None, description="Seconds, for 429 (default 1).")


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None


@router.get("")
def list_faults(session: AdminSession) -> dict[str, Any]:
    return {"status": "OK", "data": [service.fault_json(f) for f in service.list_faults(session)]}


@router.post("", status_code=201)
def set_fault(body: FaultIn, session: AdminSession) -> dict[str, Any]:
    fault = service.set_fault(session, service.FaultSpec(**body.model_dump()))
    session.commit()
    return {"status": "OK", "data": service.fault_json(fault)}


@router.delete("")
def clear_faults(session: AdminSession, client_id: str | None = None) -> dict[str, Any]:
    removed = service.clear_faults(session, client_id)
    session.commit()
    return {"status": "OK", "data": {"removed": removed}}


@router.post("/revoke-tokens")
def revoke_tokens(body: RevokeIn, session: AdminSession) -> dict[str, Any]:
    revoked = service.revoke_tokens(session, body.client_id)
    session.commit()
    return {"status": "OK", "data": {"key_pairs": revoked}}
