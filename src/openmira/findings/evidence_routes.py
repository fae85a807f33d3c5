"""``GET .../findings/{finding_id}/evidence`` with ``order_by`` over the finding's evidence keys.

``api.py`` mounts this route in place of ``get_evidence`` in ``findings/routes.py``, which takes no
``order_by``; that module is being rewritten for speed, and once it declares the parameter itself this
module and the swap in ``api.py`` go.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from openmira.auth.scope import Scoped
from openmira.core.paging import PageRequest, page_request
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.findings import evidence
from openmira.findings.schemas import EvidenceEnvelope

router = APIRouter(route_class=TransactionalRoute, tags=["findings"])

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
    finding_id: Annotated[uuid.UUID, Path(description="The finding's ID.")],
    session: DbSession,
    scope: Scoped,
    page: Annotated[PageRequest, Depends(page_request)],
    order_by: EvidenceOrderBy = None,
) -> dict[str, Any]:
    return evidence.list_evidence(session, request, page, scope.org_ids, finding_id, order_by)
