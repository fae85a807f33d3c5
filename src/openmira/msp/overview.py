"""The MSP overview: per sub-account figures and the rule for an account that needs attention.

Each figure comes from the function the API's own answers use: open findings and agent seats as in
``GET /msp/accounts/{account_id}`` (``msp.service``), open P1 findings from the counts behind
``/msp/accounts/{account_id}/findings?status=10&priority=1`` (``findings.overview``).

An account **needs attention** when it has an open P1 finding, an open finding (any priority) created more
than ``STALE_AFTER`` ago, or more agent devices than seats. The reasons are listed, so the page says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from openmira.findings import overview as findings_overview
from openmira.msp import service
from openmira.orgs.models import Organization

STALE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class AccountFigures:
    account: Organization
    open_findings: int
    open_critical: int
    open_stale: int
    agents_used: int
    agent_seats: int

    @property
    def attention_reasons(self) -> list[str]:
        reasons = []
        if self.open_critical:
            reasons.append(f"{self.open_critical} open P1")
        if self.open_stale:
            reasons.append(f"{self.open_stale} open for more than {STALE_AFTER.days} days")
        if self.agents_used > self.agent_seats:
            over = self.agents_used - self.agent_seats
            reasons.append(f"{over} agent{'' if over == 1 else 's'} over the seat count")
        return reasons

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention_reasons)


def account_figures(session: Session, accounts: Sequence[Organization], now: datetime) -> list[AccountFigures]:
    """The figures of every account, in the given order: one grouped query per figure, not per account."""
    ids = [a.id for a in accounts]
    open_findings = service.open_findings(session, ids)
    critical = findings_overview.open_critical_per_org(session, ids)
    stale = findings_overview.open_older_than_per_org(session, ids, now - STALE_AFTER)
    agents = service.agents_used(session, ids)
    return [
        AccountFigures(
            account=a,
            open_findings=open_findings.get(a.id, 0),
            open_critical=critical.get(a.id, 0),
            open_stale=stale.get(a.id, 0),
            agents_used=agents.get(a.id, 0),
            agent_seats=a.agent_seat_count,
        )
        for a in accounts
    ]
