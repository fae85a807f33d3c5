"""Organizations, MSPs and sub-accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest, Conflict, NotFound
from openmira.core.text import ORG_NAME_MAX, stored_text
from openmira.orgs.models import License, Organization, OrgKind


def get_org(session: Session, org_id: uuid.UUID) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"no organization with ID {org_id}")
    return org


def _valid_name(name: str) -> str:
    return stored_text("name", name, ORG_NAME_MAX, required=True)


def create_org(
    session: Session,
    name: str,
    *,
    msp: bool = False,
    parent_id: uuid.UUID | None = None,
    license: License = License.ADVANCED,
    org_id: uuid.UUID | None = None,
) -> Organization:
    name = _valid_name(name)
    if parent_id is not None:
        parent = session.get(Organization, parent_id)
        if parent is None:
            raise NotFound(f"no organization with ID {parent_id}")
        if not parent.is_msp:
            raise BadRequest.param("parent", f"{parent.name} is not an MSP; only MSPs have sub-accounts", "body")
        if msp:
            raise BadRequest.param("msp", "a sub-account cannot itself be an MSP", "body")
    org = Organization(
        id=org_id or uuid.uuid4(),
        name=name,
        kind=OrgKind.MSP if msp else OrgKind.ORG,
        parent_id=parent_id,
        license=License(license).value,
    )
    session.add(org)
    session.flush()
    return org


def list_orgs(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.created, Organization.id)))


def find_org_by_name(session: Session, name: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.name == name).order_by(Organization.created))


def rename_org(session: Session, org_id: uuid.UUID, name: str) -> Organization:
    org = get_org(session, org_id)
    org.name = _valid_name(name)
    session.flush()
    return org


def delete_org(session: Session, org_id: uuid.UUID) -> Organization:
    """Delete an organization and everything it holds (the database cascades); an MSP keeps its
    sub-accounts, so it must lose them first: deleting customers is never a side effect."""
    org = get_org(session, org_id)
    children = session.scalar(select(func.count()).select_from(Organization).where(Organization.parent_id == org_id))
    if children:
        raise Conflict(f"{org.name} has {children} sub-account(s); delete them first")
    session.delete(org)
    session.flush()
    return org
