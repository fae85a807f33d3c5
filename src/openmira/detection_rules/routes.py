"""Detection rules: ``/detection-rules`` under both tenant prefixes, and the MSP-only basis catalog."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from openmira.auth.scope import MspPrincipal, Scoped
from openmira.core.envelope import Envelope, ListEnvelope, ok
from openmira.core.paging import Paging, order_by_query, paginate, parse_order_by
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.detection_rules import service
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.detection_rules.schemas import RULE_STATUSES, BasisRuleOut, RuleOut, basis_rule_out, rule_out
from openmira.meta.enums import FINDING_TYPES

router = APIRouter(prefix="/detection-rules", route_class=TransactionalRoute, tags=["detection rules"])
basis_router = APIRouter(prefix="/msp/basis-detection-rules", route_class=TransactionalRoute, tags=["msp"])

DEFAULT_ORDER = "created;desc"
RuleOrderBy = Annotated[str | None, order_by_query(service.RULE_ORDER, DEFAULT_ORDER)]
BasisOrderBy = Annotated[str | None, order_by_query(service.BASIS_ORDER, DEFAULT_ORDER)]
TypeName = Literal["Threat", "Suspect", "Risk", "Operational", "System Notification"]
assert set(TypeName.__args__) == set(FINDING_TYPES.values())  # type: ignore[attr-defined]

StatusFilter = Annotated[
    int | None,
    Query(description="Only rules with this status: 0 not deployed, 1 enabled, 5 disabled.",
          json_schema_extra={"enum": sorted(RULE_STATUSES)}),
]
PriorityFilter = Annotated[int | None, Query(ge=1, le=5, description="Only rules with this priority (1..5).")]
TypeFilter = Annotated[TypeName | None, Query(description="Only rules of this type.")]


@router.get("", response_model=ListEnvelope[RuleOut], summary="List the organization's detection rules")
def get_detection_rules(
    request: Request,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: RuleOrderBy = None,
    status: StatusFilter = None,
    priority: PriorityFilter = None,
    type_name: TypeFilter = None,
) -> dict[str, object]:
    order = parse_order_by(order_by, service.RULE_ORDER, default=DEFAULT_ORDER, tie_break=DetectionRule.id)
    stmt = service.rules_query(scope.org_ids, status=status, priority=priority, type_name=type_name)
    return paginate(session, request, page, stmt, order, rule_out)


@router.get("/{rule_id}", response_model=Envelope[RuleOut], summary="Get one detection rule")
def get_detection_rule(
    session: DbSession, scope: Scoped, rule_id: Annotated[uuid.UUID, Path(description="The rule's ID.")]
) -> dict[str, object]:
    return ok(rule_out(service.get_rule(session, scope.org_ids, rule_id)))


@basis_router.get(
    "", response_model=ListEnvelope[BasisRuleOut], summary="List the basis detection rules (MSP keys only)"
)
def get_basis_detection_rules(
    request: Request, session: DbSession, principal: MspPrincipal, page: Paging, order_by: BasisOrderBy = None
) -> dict[str, object]:
    order = parse_order_by(order_by, service.BASIS_ORDER, default=DEFAULT_ORDER, tie_break=BasisDetectionRule.id)
    return paginate(session, request, page, service.basis_rules_query(), order, basis_rule_out)


@basis_router.get(
    "/{rule_id}", response_model=Envelope[BasisRuleOut], summary="Get one basis detection rule (MSP keys only)"
)
def get_basis_detection_rule(
    session: DbSession,
    principal: MspPrincipal,
    rule_id: Annotated[uuid.UUID, Path(description="The basis rule's ID.")],
) -> dict[str, object]:
    return ok(basis_rule_out(service.get_basis_rule(session, rule_id)))
