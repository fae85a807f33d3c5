"""The demo detection-rule catalog: basis rules an analyst would recognise, and each organization's rules.

The basis catalog is every detection that demo findings are raised from (demo/catalog.py), so a rule's
type and priority agree with its findings, plus a few rules that demo findings never come from (some of
them off by default). Basis rules are global and their IDs and dates are fixed, so every seed and the
demo tenant share one catalog; an organization's rules come from its own random stream.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from openmira.demo.catalog import DETECTIONS, OPERATIONAL, RISK, SUSPECT, THREAT
from openmira.demo.generator import new_uuid
from openmira.detection_rules.models import BasisDetectionRule

_NAMESPACE = uuid.UUID("0b6c1f0e-4f5e-4a43-9a7e-8d2b7d1e6c35")
_CATALOG_EPOCH = datetime(2023, 1, 9, 15, 0, tzinfo=UTC)
ENABLED, DISABLED, NOT_DEPLOYED = 1, 5, 0

# (name, type, priority, default status, description): rules no demo finding is raised from.
EXTRA_RULES: tuple[tuple[str, int, int, int, str], ...] = (
    ("Windows: Volume shadow copies deleted", THREAT, 1, ENABLED,
     "vssadmin, wmic or PowerShell deleted volume shadow copies, a common step before ransomware encrypts."),
    ("Cobalt Strike named pipe detected", THREAT, 1, ENABLED,
     "A named pipe matching Cobalt Strike's default patterns was created."),
    ("Honeypot account sign-in attempt", THREAT, 1, DISABLED,
     "Someone tried to sign in as a decoy account that no one should ever use."),
    ("Microsoft Office spawned a command shell", SUSPECT, 2, ENABLED,
     "Word, Excel or Outlook started cmd.exe, PowerShell or a script host, typical of malicious macros."),
    ("Connection to Tor exit node", SUSPECT, 3, DISABLED,
     "A host connected to an address on the published list of Tor exit nodes."),
    ("Anonymous access to SMB share", RISK, 3, DISABLED,
     "A file share accepted a null session, exposing its contents to unauthenticated users."),
    ("Microsoft 365: External sharing enabled for site", OPERATIONAL, 3, DISABLED,
     "A SharePoint site was opened to sharing with anyone outside the organization."),
)


def basis_rules() -> list[dict[str, Any]]:
    """The global catalog as rows, identical on every call."""
    rng = random.Random("openmira-basis-rules")
    specs = [(d.name, d.type, min(d.priorities), ENABLED, d.analysis) for d in DETECTIONS] + list(EXTRA_RULES)
    rows = []
    for i, (name, type_, priority, status, description) in enumerate(specs):
        created = _CATALOG_EPOCH + timedelta(days=7 * i, seconds=rng.randrange(86_400))
        rows.append({
            "id": uuid.uuid5(_NAMESPACE, f"basis-rule:{name}"), "name": name, "status": status,
            "priority": priority, "type": type_, "description": description, "created": created,
            "modified": created + timedelta(days=rng.randrange(0, 500)),
        })
    return rows


def ensure_basis_rules(session: Session) -> list[dict[str, Any]]:
    """Insert the catalog's missing rules (concurrent seeds may race; both insert the same rows)."""
    rows = basis_rules()
    present = set(session.scalars(select(BasisDetectionRule.id)))
    missing = [r for r in rows if r["id"] not in present]
    if missing:
        session.execute(insert(BasisDetectionRule.__table__), missing)
    return rows


def org_rules(
    rng: random.Random, org_id: uuid.UUID, basis: list[dict[str, Any]], as_of: datetime
) -> list[dict[str, Any]]:
    """One rule per basis rule: most detections on, a few turned off, some extras never deployed."""
    rows = []
    for rule in basis:
        if rule["status"] == ENABLED:
            status = rng.choices((ENABLED, DISABLED, NOT_DEPLOYED), weights=(88, 8, 4))[0]
        else:
            status = rng.choices((ENABLED, DISABLED, NOT_DEPLOYED), weights=(25, 35, 40))[0]
        created = as_of - timedelta(days=rng.randrange(30, 600), seconds=rng.randrange(86_400))
        rows.append({
            "id": new_uuid(rng), "org_id": org_id, "basis_rule_id": rule["id"], "name": rule["name"],
            "status": status, "priority": rule["priority"], "type": rule["type"],
            "description": rule["description"], "created": created,
            "modified": created + (as_of - created) * rng.random(),
        })
    return rows
