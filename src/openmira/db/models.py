"""Imports every model module, so ``Base.metadata`` describes the whole schema."""

from openmira.agents.models import AgentCommand, AgentDevice, AgentKey
from openmira.auth.server_secrets import ServerSecret
from openmira.auth.signing import SigningKey
from openmira.console.models import ConsoleSession
from openmira.credentials.models import KeyPair
from openmira.db.base import Base
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.faults.models import Fault, FaultState
from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner
from openmira.orgs.models import Organization
from openmira.users.models import User, UserRole
from openmira.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AgentCommand",
    "AgentDevice",
    "AgentKey",
    "Base",
    "BasisDetectionRule",
    "ConsoleSession",
    "DetectionRule",
    "EvidenceRow",
    "Fault",
    "FaultState",
    "Finding",
    "FindingComment",
    "FindingOwner",
    "KeyPair",
    "Organization",
    "ServerSecret",
    "SigningKey",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookEndpoint",
]
