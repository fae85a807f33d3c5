"""The finding as the API shows it: the one way a finding becomes JSON, for the API, the console's links and
webhook events.

A finding is read as one plain row that already carries what the shape needs (the organization's name and
the two people who last changed it, joined in the same query; its details add a row per owner) and turned
into a dict of wire values (``core.wire``): no ORM entity, no per-row pydantic model, one JSON encoding at
the edge. The pydantic schemas ``FindingOut`` and ``FindingDetails`` document the shapes, and the tests
validate every response against them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, Table, select

from openmira.core.wire import wire_column
from openmira.db.reads import CoreRow
from openmira.findings.models import Finding, FindingOwner
from openmira.meta.enums import FINDING_TYPES, RESOLUTIONS, STATUSES
from openmira.orgs.models import Organization
from openmira.users.models import User

OWNER_GROUPS = {"responder": "responders", "analyst": "analysts", "manager": "managers"}

FINDINGS: Table = Finding.__table__  # type: ignore[assignment]
_ORGS: Table = Organization.__table__  # type: ignore[assignment]
_USERS: Table = User.__table__  # type: ignore[assignment]
_OWNERS: Table = FindingOwner.__table__  # type: ignore[assignment]
_MODIFIER = _USERS.alias("modifier")
_STATUS_MODIFIER = _USERS.alias("status_modifier")


def _person_columns(users: FromClause) -> list[ColumnElement[Any]]:
    return [wire_column(users.c.id), users.c.email, users.c.first_name, users.c.last_name]


_SHAPE_COLUMNS = (
    "id", "short_id", "name", "analysis", "status", "priority", "type", "category", "blocked", "resolution", "org_id",
)
_TIMESTAMPS = ("created", "modified", "status_modified", "matched")
_DETAILS_COLUMNS = ("category_name", "jurisdiction_name", "summary", "resolution_notes")


def select_findings(source: FromClause = FINDINGS, *, details: bool = False) -> Select[Any]:
    """The columns of the finding shape (of the details shape with ``details``), read from ``source``: the
    findings table or a subquery with its columns. Callers add the scope, filters, order and limit."""
    c = source.c
    columns = [
        *(wire_column(c[name]) for name in _SHAPE_COLUMNS),
        _ORGS.c.name,
        *(wire_column(c[name]) for name in _TIMESTAMPS),
        *_person_columns(_MODIFIER), *_person_columns(_STATUS_MODIFIER),
        *((c[name] for name in _DETAILS_COLUMNS) if details else ()),
    ]
    return (
        select(*columns)
        .select_from(source)
        .join(_ORGS, _ORGS.c.id == c.org_id)
        .outerjoin(_MODIFIER, _MODIFIER.c.id == c.modified_by)
        .outerjoin(_STATUS_MODIFIER, _STATUS_MODIFIER.c.id == c.status_modified_by)
    )


def _person(id_: str | None, email: str, first: str, last: str) -> dict[str, Any] | None:
    if id_ is None:
        return None
    return {"id": id_, "email": email, "first_name": first, "last_name": last}


def finding_json(row: Sequence[Any]) -> dict[str, Any]:
    """A row of :func:`select_findings` as the API's finding object (``FindingOut``)."""
    (finding_id, short_id, name, analysis, status, priority, type_, category, blocked, resolution, org_id,
     org_name, created, modified, status_modified, matched, *people) = row[:24]
    return {
        "finding_id": finding_id,
        "short_id": short_id,
        "name": name,
        "analysis": analysis,
        "status": status,
        "status_name": STATUSES.get(status, "Unknown"),
        "priority": priority,
        "type": type_,
        "type_name": FINDING_TYPES.get(type_, "Unknown"),
        "category": category,
        "blocked": blocked,
        "resolution": resolution,
        "resolution_name": RESOLUTIONS.get(resolution) if resolution is not None else None,
        "org_id": org_id,
        "org_name": org_name,
        "created": created,
        "modified": modified,
        "status_modified": status_modified,
        "matched": matched,
        "modified_by": _person(*people[0:4]),
        "status_modified_by": _person(*people[4:8]),
    }


def finding_url(public_url: str, org_id: uuid.UUID | str, finding_id: uuid.UUID | str) -> str:
    """The finding's page in the web console."""
    return f"{public_url.rstrip('/')}/console/orgs/{org_id}/findings/{finding_id}"


_OWNER = _USERS.alias("owner")
_DETAILS_WIDTH = len(select_findings(details=True).selected_columns)  # its owner's five columns follow


def select_details() -> Select[Any]:
    """The details shape's columns and the finding's owners, in one statement: a row per owner, in the
    owners' order (type, position, user), or one row with no owner. A second statement for the owners was
    a third of a details request on PostgreSQL, its round trip more than the rows it read (issue 11).
    Callers add the scope and the finding's ID.

    Two outer joins, not the finding outer-joined to (owners joined to users): SQLite cannot look the owners
    up by the finding inside such a nested join, and built the join of every finding's owners for each
    request (30 ms at 10k findings). An owner without its user (none can be: the key cascades) is skipped
    by :func:`details_json`, as the inner join skipped it."""
    return (
        select_findings(details=True)
        .add_columns(_OWNERS.c.owner_type, *_person_columns(_OWNER))
        .outerjoin(_OWNERS, _OWNERS.c.finding_id == FINDINGS.c.id)
        .outerjoin(_OWNER, _OWNER.c.id == _OWNERS.c.user_id)
        .order_by(_OWNERS.c.owner_type, _OWNERS.c.position, _OWNERS.c.user_id)
    )


def details_json(rows: Sequence[CoreRow], public_url: str) -> dict[str, Any]:
    """The rows of one finding's :func:`select_details` as the details object (``FindingDetails``)."""
    row = rows[0]
    out = finding_json(row)
    category_name, jurisdiction_name, summary, resolution_notes = row[24:_DETAILS_WIDTH]
    owners: dict[str, list[dict[str, Any]]] = {group: [] for group in OWNER_GROUPS.values()}
    for owner_type, *person in (owner_row[_DETAILS_WIDTH:] for owner_row in rows):
        group = OWNER_GROUPS.get(owner_type)  # None: no owner (the outer join's one row)
        if group is not None and person[0] is not None:
            owners[group].append(_person(*person))  # type: ignore[arg-type]
    out.update(
        category_name=category_name,
        jurisdiction_name=jurisdiction_name,
        summary=summary,
        url=finding_url(public_url, out["org_id"], out["finding_id"]),
        resolution_notes=resolution_notes,
        owners=owners,
    )
    return out
