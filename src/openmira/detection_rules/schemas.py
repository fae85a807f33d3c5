"""API shapes of detection rules (contract: "Parts whose field lists are not public")."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from openmira.core.wire import Timestamp
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.meta.enums import FINDING_TYPES

RULE_STATUSES = {0: "Not Deployed", 1: "Enabled", 5: "Disabled"}


class BasisRuleOut(BaseModel):
    id: uuid.UUID
    name: str
    status: int = Field(description="What a rule derived from this one starts as: 1 enabled, 5 disabled.")
    status_label: str
    priority: int
    type_name: str
    description: str
    basis_rule_id: uuid.UUID | None = Field(description="Always null: a basis rule derives from nothing.")
    created: Timestamp
    modified: Timestamp


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    org_id: uuid.UUID
    status: int = Field(description="0 not deployed, 1 enabled, 5 disabled.")
    status_label: str
    priority: int
    type_name: str
    description: str
    basis_rule_id: uuid.UUID | None = Field(description="The basis rule this one derives from; null for a custom rule.")
    created: Timestamp
    modified: Timestamp


def _common(rule: BasisDetectionRule | DetectionRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": rule.name,
        "status": rule.status,
        "status_label": RULE_STATUSES.get(rule.status, "Unknown"),
        "priority": rule.priority,
        "type_name": FINDING_TYPES.get(rule.type, "Unknown"),
        "description": rule.description,
        "created": rule.created,
        "modified": rule.modified,
    }


def basis_rule_out(rule: BasisDetectionRule) -> BasisRuleOut:
    return BasisRuleOut(**_common(rule), basis_rule_id=None)  # type: ignore[arg-type]


def rule_out(rule: DetectionRule) -> RuleOut:
    return RuleOut(**_common(rule), org_id=rule.org_id, basis_rule_id=rule.basis_rule_id)  # type: ignore[arg-type]
