"""Overview pages, the console's landing page: an organization's findings at a glance, and an MSP's accounts.

The figures come from the services behind the API (``findings.overview``, ``msp.overview``); this module
only picks the organizations the user may see and lays the figures out as charts (``console.charts``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.console import charts
from openmira.console.charts import BarSpec
from openmira.console.deps import ConsoleNotFound, CurrentUser, visible_org
from openmira.console.render import render
from openmira.console.sessions import SignedIn, user_org_ids
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.db.base import utcnow
from openmira.findings import overview as figures
from openmira.meta.enums import FINDING_TYPES, STATUS_OPEN
from openmira.msp import overview as msp_figures
from openmira.orgs.models import Organization

router = APIRouter(route_class=TransactionalRoute)


def overview_path(me: SignedIn) -> str:
    return "/msp/overview" if me.is_msp else f"/orgs/{me.org.id}/overview"


@router.get("/")
def home(request: Request, me: CurrentUser) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + overview_path(me), status_code=303)


@router.get("/overview")
def my_overview(request: Request, me: CurrentUser) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + overview_path(me), status_code=303)


def _findings_link(base: str, org_id: uuid.UUID, **filters: int) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"status": STATUS_OPEN, **filters}.items())
    return f"{base}/orgs/{org_id}/findings?{query}"


@router.get("/orgs/{org_id}/overview")
def org_overview(request: Request, db: DbSession, me: CurrentUser, org_id: uuid.UUID) -> Response:
    org = visible_org(db, me, org_id)
    base = request.scope.get("root_path", "")
    ids = [org.id]
    today = utcnow().date()
    by_priority = figures.open_by_priority(db, ids)
    by_type = figures.open_by_type(db, ids)
    days = figures.daily_activity(db, ids, today)

    def link(**filters: int) -> str:
        return _findings_link(base, org.id, **filters)

    context: dict[str, Any] = {
        "org": org,
        "open_total": sum(by_priority.values()),
        "priority_chart": charts.bar_chart(
            "open-by-priority", "Open findings by priority", "Open findings of each priority, P1 most urgent.",
            [(f"P{p}", link(priority=p), [BarSpec("open", n, "open", f"bar-prio-{p}")])
             for p, n in by_priority.items()],
        ),
        "type_chart": charts.bar_chart(
            "open-by-type", "Open findings by type", "Open findings of each finding type.",
            [(FINDING_TYPES.get(t, str(t)), link(type=t), [BarSpec("open", n, "open", "bar-type")])
             for t, n in by_type.items()],
        ),
        "activity": charts.activity_chart("activity", "Findings opened and resolved per day", days),
        "median_to_resolve": charts.duration_text(figures.median_time_to_resolve(db, ids, today)),
        "oldest_urgent": figures.oldest_open_urgent(db, ids),
        "window_days": figures.ACTIVITY_DAYS,
    }
    return render(request, "overview_org.html", context)


def _sub_accounts(db: Session, me: SignedIn) -> list[Organization]:
    ids = user_org_ids(db, me) - {me.org.id}
    if not ids:
        return []
    return list(db.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))


@router.get("/msp/overview")
def msp_overview(request: Request, db: DbSession, me: CurrentUser) -> Response:
    if not me.is_msp:
        raise ConsoleNotFound()
    base = request.scope.get("root_path", "")
    accounts = msp_figures.account_figures(db, _sub_accounts(db, me), utcnow())
    findings_chart = charts.bar_chart(
        "findings-per-account", "Open and P1 findings per account",
        "Open findings and open P1 (critical) findings of each sub-account.",
        [(a.account.name, f"{base}/orgs/{a.account.id}/overview", _findings_bars(a)) for a in accounts],
        series=[("Open", "bar-open"), ("Open P1", "bar-prio-1")],
    )
    seats_chart = charts.bar_chart(
        "seats-per-account", "Agent seats used per account",
        "Agent devices enrolled in each sub-account, against its seats.",
        [(a.account.name, f"{base}/orgs/{a.account.id}/overview", [_seats_bar(a)]) for a in accounts],
    )
    context: dict[str, Any] = {
        "accounts": accounts,
        "attention": [a for a in accounts if a.needs_attention],
        "findings_chart": findings_chart,
        "seats_chart": seats_chart,
        "stale_days": msp_figures.STALE_AFTER.days,
    }
    return render(request, "overview_msp.html", context)


def _findings_bars(account: msp_figures.AccountFigures) -> list[BarSpec]:
    return [
        BarSpec("open", account.open_findings, "open", "bar-open"),
        BarSpec("critical", account.open_critical, "open P1", "bar-prio-1"),
    ]


def _seats_bar(account: msp_figures.AccountFigures) -> BarSpec:
    css = "bar-seats-over" if account.agents_used > account.agent_seats else "bar-seats"
    text = f"{account.agents_used} / {account.agent_seats}"
    return BarSpec("agents", account.agents_used, "agent seats used", css, track=account.agent_seats, text=text)
