"""MSP sub-accounts: the list with open findings, and one account's license and counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from openmira.agents.models import AgentDevice
from openmira.auth.scope import TenantScope
from openmira.findings.models import Finding
from openmira.meta.enums import STATUS_OPEN
from openmira.msp.schemas import AccountDetailOut, AccountOut
from openmira.orgs.models import Organization
from openmira.users.models import User


def accounts_query(scope: TenantScope) -> Select[tuple[Organization]]:
    return select(Organization).where(Organization.id.in_(scope.org_ids))


def _counts(
    session: Session, column: object, org_ids: Iterable[uuid.UUID], *conditions: object
) -> dict[uuid.UUID, int]:
    ids = list(org_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids), *conditions).group_by(column)  # type: ignore[attr-defined]
    ).all()
    return {org_id: count for org_id, count in rows}


def open_findings(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    return _counts(session, Finding.org_id, org_ids, Finding.status == STATUS_OPEN)


def agents_used(session: Session, org_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Agent devices enrolled per account: the seats in use (``agent_count_used``)."""
    return _counts(session, AgentDevice.org_id, org_ids)


def account_items(session: Session, accounts: Sequence[Organization]) -> list[AccountOut]:
    """One grouped count for the whole page, not a query per account."""
    counts = open_findings(session, [a.id for a in accounts])
    return [AccountOut(account_id=a.id, name=a.name, open_findings=counts.get(a.id, 0)) for a in accounts]


def account_detail(session: Session, account: Organization) -> AccountDetailOut:
    ids = [account.id]
    return AccountDetailOut(
        account_id=account.id,
        name=account.name,
        open_findings=open_findings(session, ids).get(account.id, 0),
        license=account.license,
        agent_count_available=account.agent_seat_count,
        agent_count_used=agents_used(session, ids).get(account.id, 0),
        user_count=_counts(session, User.org_id, ids).get(account.id, 0),
    )
