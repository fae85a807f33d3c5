"""Detection rules, always read from a tenant scope's organizations; basis rules from the global catalog."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.core.lookup import one_or_404
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.detection_rules.schemas import RULE_STATUSES
from openmira.meta.enums import FINDING_TYPES


def _order_columns(model: type[BasisDetectionRule] | type[DetectionRule]) -> Mapping[str, ColumnElement[Any]]:
    return {name: getattr(model, name) for name in ("created", "modified", "name", "priority", "status")}


RULE_ORDER = _order_columns(DetectionRule)
BASIS_ORDER = _order_columns(BasisDetectionRule)
TYPE_IDS = {name: type_id for type_id, name in FINDING_TYPES.items()}


def rules_query(
    org_ids: Iterable[uuid.UUID],
    *,
    status: int | None = None,
    priority: int | None = None,
    type_name: str | None = None,
) -> Select[tuple[DetectionRule]]:
    """The scope's rules, narrowed by the equality filters of the list endpoint (each optional)."""
    stmt = select(DetectionRule).where(DetectionRule.org_id.in_(list(org_ids)))
    if status is not None:
        if status not in RULE_STATUSES:
            allowed = ", ".join(f"{k} ({v})" for k, v in RULE_STATUSES.items())
            raise BadRequest.param("status", f"must be one of {allowed}")
        stmt = stmt.where(DetectionRule.status == status)
    if priority is not None:
        stmt = stmt.where(DetectionRule.priority == priority)
    if type_name is not None:
        stmt = stmt.where(DetectionRule.type == TYPE_IDS[type_name])
    return stmt


def get_rule(session: Session, org_ids: Iterable[uuid.UUID], rule_id: uuid.UUID) -> DetectionRule:
    return one_or_404(session, rules_query(org_ids).where(DetectionRule.id == rule_id), "detection rule", rule_id)


def basis_rules_query() -> Select[tuple[BasisDetectionRule]]:
    return select(BasisDetectionRule)


def get_basis_rule(session: Session, rule_id: uuid.UUID) -> BasisDetectionRule:
    stmt = basis_rules_query().where(BasisDetectionRule.id == rule_id)
    return one_or_404(session, stmt, "basis detection rule", rule_id)
