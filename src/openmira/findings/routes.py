"""Finding endpoints (contract section 7), mounted under ``/org`` and ``/msp/accounts/{account_id}``.

``details_router`` holds ``/findings/{finding_id}/details``, which Blumira serves under ``/org`` only.
The handlers read the tenant scope resolved by the prefix, so ``get_findings`` can also be mounted
at ``/msp/accounts/findings`` behind ``msp_licensed_scope``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from openmira.auth.principal import WritePrincipal
from openmira.auth.scope import Scoped
from openmira.core.envelope import Envelope, ListEnvelope
from openmira.core.paging import Paging, order_by_query
from openmira.core.routing import DbReader, DbSession, TransactionalRoute, run_read
from openmira.core.wire import WireJSONResponse
from openmira.db.session import dialect_of
from openmira.findings import actions, comments, evidence, listing, service
from openmira.findings.filters import openapi_parameters
from openmira.findings.schemas import (
    AssignIn,
    CommentIn,
    CommentOut,
    EvidenceEnvelope,
    FindingDetails,
    FindingOut,
    ResolveIn,
)
from openmira.runtime import RuntimeDep

router = APIRouter(route_class=TransactionalRoute, tags=["findings"])
details_router = APIRouter(route_class=TransactionalRoute, tags=["findings"])

FindingId = Annotated[uuid.UUID, Path(description="The finding's ID.")]
OrderBy = Annotated[
    str | None, order_by_query(listing.ORDER_FIELDS, listing.DEFAULT_ORDER, "; the finding ID breaks ties")
]


def _ok(data: BaseModel | dict[str, Any]) -> dict[str, Any]:
    return {"status": "OK", "data": data}


def _wire_ok(data: dict[str, Any]) -> WireJSONResponse:
    return WireJSONResponse(_ok(data))


@router.get(
    "/findings",
    response_model=ListEnvelope[FindingOut],
    summary="List findings (paged, filtered)",
    description=(
        "Filters are `<field>` or `<field>.<op>` query parameters, all ANDed (see the contract's filter "
        "grammar): `eq`, `!eq`, `in`, `!in` (comma-separated), `contains`, `!contains`, `regex`, `!regex` "
        "(partial match), `lt`, `!lt` (>=), `gt`, `!gt` (<=). Unknown parameters are ignored."
    ),
    openapi_extra={"parameters": openapi_parameters()},
)
async def get_findings(
    request: Request, db: DbReader, scope: Scoped, page: Paging, order_by: OrderBy = None
) -> WireJSONResponse:
    query = listing.plan(request, page, scope.org_ids, order_by, dialect_of(db))
    # Matching text inside names reads every row of the scope: a long read (core.routing).
    envelope = await run_read(db, lambda: listing.run(db, request, query), long=query.scans)
    return WireJSONResponse(envelope)


@router.get("/findings/{finding_id}", response_model=Envelope[FindingOut], summary="Get a finding")
def get_finding(finding_id: FindingId, db: DbReader, scope: Scoped) -> WireJSONResponse:
    return _wire_ok(service.finding_out(db, scope.org_ids, finding_id))


@details_router.get(
    "/findings/{finding_id}/details",
    response_model=Envelope[FindingDetails],
    summary="Get a finding with owners, summary, resolution notes and console link",
)
def get_details(finding_id: FindingId, db: DbReader, scope: Scoped, runtime: RuntimeDep) -> WireJSONResponse:
    return _wire_ok(service.finding_details(db, scope.org_ids, finding_id, runtime.settings.public_url))


# Under /msp/accounts/{account_id} the finding by ID is the details handler: Blumira's own MSP dashboard reads
# url, owners, category_name, summary and resolution_notes from it (a superset of the finding breaks no client).
msp_finding_router = APIRouter(route_class=TransactionalRoute, tags=["findings"])
msp_finding_router.add_api_route(
    "/findings/{finding_id}",
    get_details,
    methods=["GET"],
    name="get_finding",
    response_model=Envelope[FindingDetails],
    summary="Get a finding with owners, summary, resolution notes and console link",
)


@router.get(
    "/findings/{finding_id}/comments", response_model=ListEnvelope[CommentOut], summary="List a finding's comments"
)
def get_comments(
    request: Request, finding_id: FindingId, session: DbSession, scope: Scoped, page: Paging
) -> dict[str, Any]:
    return comments.list_comments(session, request, page, scope.org_ids, finding_id)


@router.post(
    "/findings/{finding_id}/comments",
    status_code=201,
    response_model=Envelope[CommentOut],
    summary="Add a comment to a finding",
)
def add_comment(
    finding_id: FindingId, body: CommentIn, session: DbSession, scope: Scoped, principal: WritePrincipal
) -> dict[str, Any]:
    return _ok(comments.add_comment(session, scope.org_ids, finding_id, body))


@router.post(
    "/findings/{finding_id}/resolve", response_model=Envelope[FindingDetails], summary="Resolve a finding"
)
def resolve_finding(
    finding_id: FindingId,
    body: ResolveIn,
    session: DbSession,
    scope: Scoped,
    principal: WritePrincipal,
    runtime: RuntimeDep,
) -> WireJSONResponse:
    finding = actions.resolve_finding(session, scope.org_ids, finding_id, body, principal.user_id)
    return _wire_ok(service.finding_details(session, scope.org_ids, finding.id, runtime.settings.public_url))


@router.post(
    "/findings/{finding_id}/assign",
    response_model=Envelope[FindingDetails],
    summary="Replace the responders, analysts or managers of a finding",
)
def assign_finding(
    finding_id: FindingId,
    body: AssignIn,
    session: DbSession,
    scope: Scoped,
    principal: WritePrincipal,
    runtime: RuntimeDep,
) -> WireJSONResponse:
    finding = actions.assign_finding(session, scope.org_ids, finding_id, body, principal.user_id)
    return _wire_ok(service.finding_details(session, scope.org_ids, finding.id, runtime.settings.public_url))


EvidenceOrderBy = Annotated[
    str | None,
    Query(
        description=(
            "`key[;asc|desc][,key2[;dir]...]` over the finding's `evidence_keys`; default: the detection's "
            "order, which also breaks ties. Rows without the key come last either way; numbers sort as numbers."
        ),
    ),
]


@router.get(
    "/findings/{finding_id}/evidence",
    response_model=EvidenceEnvelope,
    summary="List a finding's evidence rows (paged, ordered) and their keys",
)
def get_evidence(
    request: Request,
    finding_id: FindingId,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: EvidenceOrderBy = None,
) -> dict[str, Any]:
    return evidence.list_evidence(session, request, page, scope.org_ids, finding_id, order_by)
