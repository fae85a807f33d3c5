"""Findings: scoped look-ups of one finding, as an entity to change or in its API shapes.

Every query starts from the tenant scope's ``org_ids``; a finding outside it is "not found". The list is
``findings.listing``; the shapes are ``findings.view``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from openmira.auth.scope import in_scope, scope_values
from openmira.core.errors import NotFound
from openmira.core.lookup import one_or_404
from openmira.db.reads import CoreRow, execute_core
from openmira.findings.models import Finding
from openmira.findings.view import FINDINGS, details_json, finding_json, select_details, select_findings
from openmira.users.models import User
from openmira.users.schemas import Person


def scoped_findings(org_ids: Iterable[uuid.UUID]) -> Select[tuple[Finding]]:
    return select(Finding).where(Finding.org_id.in_(list(org_ids)))


def get_finding(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID) -> Finding:
    return one_or_404(session, scoped_findings(org_ids).where(Finding.id == finding_id), "finding", finding_id)


def get_finding_for_update(session: Session, org_ids: Iterable[uuid.UUID], finding_id: uuid.UUID) -> Finding:
    """The finding, row-locked on PostgreSQL so concurrent writes to it apply one after the other."""
    stmt = scoped_findings(org_ids).where(Finding.id == finding_id).with_for_update()
    return one_or_404(session, stmt, "finding", finding_id)


_PEOPLE = select(User.id, User.email, User.first_name, User.last_name).where(
    User.id.in_(bindparam("ids", expanding=True))
)
_MEMBERS = _PEOPLE.where(User.org_id == bindparam("org_id"))


def people(
    session: Session, user_ids: Iterable[uuid.UUID | None], *, org_id: uuid.UUID | None = None
) -> dict[uuid.UUID, Person]:
    """Person objects for the given user IDs, in one query; with ``org_id``, only that organization's users
    (a missing ID is not a member)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    stmt, params = (_PEOPLE, {"ids": list(ids)}) if org_id is None else (_MEMBERS, {"ids": list(ids), "org_id": org_id})
    rows = execute_core(session, stmt, params).all()
    return {r.id: Person(id=r.id, email=r.email, first_name=r.first_name, last_name=r.last_name) for r in rows}


# What a look-up by ID reads: the reference a write beside a finding needs, or an API shape.
_COLUMNS: dict[str, Callable[[], Select[Any]]] = {
    "ref": lambda: select(FINDINGS.c.id, FINDINGS.c.org_id),
    "finding": lambda: select_findings(details=False),
    "details": select_details,
}


@cache
def _by_id(columns: str, single_org: bool) -> Select[Any]:
    return _COLUMNS[columns]().where(in_scope(FINDINGS.c.org_id, single_org), FINDINGS.c.id == bindparam("finding_id"))


def _rows(session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID, columns: str) -> list[CoreRow]:
    values = {**scope_values(org_ids), "finding_id": finding_id}
    rows = execute_core(session, _by_id(columns, len(org_ids) == 1), values).all()
    if not rows:
        raise NotFound(f"finding {finding_id} not found")
    return rows


def _one_row(session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID, columns: str) -> CoreRow:
    return _rows(session, org_ids, finding_id, columns)[0]


def finding_ref(session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID) -> CoreRow:
    """The scope's finding's ``id`` and ``org_id``, or 404: all that a write beside a finding (a comment)
    needs, without loading the entity."""
    return _one_row(session, org_ids, finding_id, "ref")


def finding_out(session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID) -> dict[str, Any]:
    """The scope's finding as the API shows it (``FindingOut``), or 404."""
    return finding_json(_one_row(session, org_ids, finding_id, "finding"))


def finding_details(
    session: Session, org_ids: Collection[uuid.UUID], finding_id: uuid.UUID, public_url: str
) -> dict[str, Any]:
    """The scope's finding with owners, summary, notes and console link (``FindingDetails``), or 404."""
    return details_json(_rows(session, org_ids, finding_id, "details"), public_url)


def event_data(session: Session, finding: Finding | CoreRow, **extra: Any) -> dict[str, Any]:
    """The ``data`` of a ``finding.*`` webhook event: the finding as the API shows it, plus what changed."""
    return {"finding": finding_out(session, [finding.org_id], finding.id), **extra}
