"""Writes to a finding: resolve and assign. Attributed to the principal's person (the key pair's creator)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.db.base import utcnow
from openmira.findings.models import Finding, FindingOwner
from openmira.findings.schemas import AssignIn, ResolveIn
from openmira.findings.service import event_data, get_finding_for_update, people
from openmira.meta.enums import RESOLUTIONS, STATUS_RESOLVED
from openmira.webhooks.events import emit


def resolve_finding(
    session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID, body: ResolveIn, actor: uuid.UUID | None
) -> Finding:
    finding = get_finding_for_update(session, org_ids, finding_id)
    if body.resolution not in RESOLUTIONS:
        allowed = ", ".join(f"{k} ({v})" for k, v in RESOLUTIONS.items())
        raise BadRequest.param("resolution", f"must be one of {allowed}", "body")
    now = utcnow()
    finding.status = STATUS_RESOLVED
    finding.resolution = body.resolution
    if body.resolution_notes is not None:
        finding.resolution_notes = body.resolution_notes
    finding.status_modified = now
    finding.status_modified_by = actor
    finding.modified = now
    finding.modified_by = actor
    session.flush()
    emit(session, finding.org_id, "finding.resolved", lambda: event_data(session, finding))
    return finding


def assign_finding(
    session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID, body: AssignIn, actor: uuid.UUID | None
) -> Finding:
    finding = get_finding_for_update(session, org_ids, finding_id)
    owners = list(dict.fromkeys(body.owners))  # drop repeats, keep the given order
    members = people(session, owners, org_id=finding.org_id)
    strangers = [str(o) for o in owners if o not in members]
    if strangers:
        raise BadRequest.param(
            "owners", f"not users of the finding's organization: {', '.join(strangers)}", "body"
        )
    session.execute(
        delete(FindingOwner).where(FindingOwner.finding_id == finding.id, FindingOwner.owner_type == body.owner_type)
    )
    session.add_all(
        FindingOwner(finding_id=finding.id, owner_type=body.owner_type, user_id=user_id, position=i)
        for i, user_id in enumerate(owners)
    )
    finding.modified = utcnow()
    finding.modified_by = actor
    session.flush()
    change = {"owner_type": body.owner_type, "owners": [str(o) for o in owners]}
    emit(session, finding.org_id, "finding.updated", lambda: event_data(session, finding, change=change))
    return finding
