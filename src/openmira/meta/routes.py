"""Meta endpoints: health (no auth) and the resolution catalog."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from openmira import __version__
from openmira.auth.principal import ReadPrincipal
from openmira.core.envelope import Envelope, ListEnvelope
from openmira.core.errors import ServiceUnavailable
from openmira.core.paging import Paging, paged
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.meta.enums import RESOLUTIONS
from openmira.runtime import RuntimeDep

router = APIRouter(route_class=TransactionalRoute, tags=["meta"])


class Health(BaseModel):
    api_name: str
    api_version: str
    build_time: str
    commit_hash: str
    state: Literal["ok", "degraded"] = Field(
        description="`degraded`: serving, but not as configured (`reasons` says why)."
    )
    reasons: list[str]


class Resolution(BaseModel):
    id: int
    name: str


@router.get("/health", response_model=Envelope[Health], summary="Health and readiness (no auth)")
def health(session: DbSession, runtime: RuntimeDep) -> dict[str, object]:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("the database is not reachable") from exc
    settings = runtime.settings
    reasons = [f"rate limiter: {why}" for why in (runtime.limiter.degraded(),) if why]
    data = Health(
        api_name="OpenMira Public API",
        api_version=__version__,
        build_time=settings.build_time,
        commit_hash=settings.commit_hash,
        state="degraded" if reasons else "ok",
        reasons=reasons,
    )
    return {"status": "OK", "data": data}


@router.get("/resolutions", response_model=ListEnvelope[Resolution], summary="The finding resolutions")
async def get_resolutions(
    request: Request, _: ReadPrincipal, page: Paging
) -> dict[str, object]:
    items = [Resolution(id=k, name=v) for k, v in RESOLUTIONS.items()]
    return paged(request, page, items[page.offset : page.offset + page.size], len(items))
