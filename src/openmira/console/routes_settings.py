"""Settings > Organization (Blumira API Credentials) and MSP Portal > Integrations.

Both pages manage the key pairs of the signed-in user's own organization (an MSP's own pairs are its
MSP key pairs) through ``openmira.credentials.service``, exactly as the CLI does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.console.deps import CheckedAdmin, ConsoleNotFound, CurrentUser
from openmira.console.render import render
from openmira.console.sessions import SignedIn
from openmira.core.errors import ApiError
from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel
from openmira.findings.models import Finding
from openmira.meta.enums import STATUS_OPEN
from openmira.orgs.models import Organization
from openmira.runtime import get_runtime
from openmira.users.models import User

router = APIRouter()

ORG_PAGE = "/settings/organization"
MSP_PAGE = "/msp/integrations"


@dataclass(frozen=True)
class Issued:
    """A secret to show once, in the "generated" or "rotated" window."""

    kind: str
    client_id: str
    client_secret: str
    label: str
    access: str


def _page_for(page: str) -> str:
    return "settings_org.html" if page == ORG_PAGE else "msp_integrations.html"


def _sub_accounts(db: Session, msp_id: uuid.UUID) -> list[dict[str, Any]]:
    open_counts = dict(
        db.execute(
            select(Finding.org_id, func.count())
            .join(Organization, Organization.id == Finding.org_id)
            .where(Organization.parent_id == msp_id, Finding.status == STATUS_OPEN)
            .group_by(Finding.org_id)
        ).all()
    )
    user_counts = dict(
        db.execute(
            select(User.org_id, func.count())
            .join(Organization, Organization.id == User.org_id)
            .where(Organization.parent_id == msp_id)
            .group_by(User.org_id)
        ).all()
    )
    accounts = db.scalars(
        select(Organization).where(Organization.parent_id == msp_id).order_by(Organization.name, Organization.id)
    )
    return [
        {"org": a, "open_findings": open_counts.get(a.id, 0), "users": user_counts.get(a.id, 0)} for a in accounts
    ]


def _render(
    request: Request, db: Session, me: SignedIn, page: str, *, issued: Issued | None = None, error: str = "",
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "org": me.org,
        "pairs": credentials.list_key_pairs(db, me.org.id),
        "can_manage": me.is_admin,
        "action_base": request.scope.get("root_path", "") + page + "/credentials",
        "issued": issued,
        "error": error,
        "access_levels": AccessLevel,
    }
    if page == MSP_PAGE:
        context["accounts"] = _sub_accounts(db, me.org.id)
    else:
        context["members"] = sorted(me.user and db.scalars(select(User).where(User.org_id == me.org.id)),
                                    key=lambda u: u.email)
    return render(request, _page_for(page), context, status_code=status_code)


def _check_page(me: SignedIn, page: str) -> None:
    if page == MSP_PAGE and not me.is_msp:
        raise ConsoleNotFound()


@router.get("/settings")
def settings_home(request: Request) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + ORG_PAGE, status_code=303)


@router.get(ORG_PAGE)
def organization_settings(request: Request, db: CurrentUser.__metadata__ and Any, me: CurrentUser) -> Response:
    raise NotImplementedError
