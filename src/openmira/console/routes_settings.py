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

from openmira.console import findings_view
from openmira.console.deps import CheckedAdmin, ConsoleNotFound, CurrentUser
from openmira.console.render import render
from openmira.console.sessions import SignedIn
from openmira.core.errors import ApiError
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel
from openmira.findings.models import Finding
from openmira.meta.enums import STATUS_OPEN
from openmira.orgs.models import Organization
from openmira.runtime import runtime_of
from openmira.users.models import User

router = APIRouter(route_class=TransactionalRoute)

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


def render_settings(
    request: Request, db: Session, me: SignedIn, page: str, *, issued: Issued | None = None, error: str = "",
    status_code: int = 200, extra: dict[str, Any] | None = None,
) -> Response:
    """The settings page (``ORG_PAGE`` or ``MSP_PAGE``), with what a form post wants to show on it."""
    context: dict[str, Any] = {
        "org": me.org,
        "page": page,
        "pairs": credentials.list_key_pairs(db, me.org.id),
        "can_manage": me.is_admin,
        "page_url": request.scope.get("root_path", "") + page,
        "action_base": request.scope.get("root_path", "") + page + "/credentials",
        "issued": issued,
        "error": error,
    }
    if page == MSP_PAGE:
        context["accounts"] = _sub_accounts(db, me.org.id)
    else:
        context["members"] = findings_view.members(db, me.org.id)
    context.update(extra or {})
    return render(request, _page_for(page), context, status_code=status_code)


def _check_page(me: SignedIn, page: str) -> None:
    if page == MSP_PAGE and not me.is_msp:
        raise ConsoleNotFound()


def _invalidate(request: Request, db: Session, client_id: str) -> None:
    # Commit first, then drop this process's cached view, so the change is seen here at once
    # (other processes see it within the cache's TTL).
    db.commit()
    runtime_of(request).credentials.invalidate(client_id)


@router.get("/settings")
def settings_home(request: Request) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + ORG_PAGE, status_code=303)


@router.get("/msp")
def msp_home(request: Request) -> Response:
    return RedirectResponse(request.scope.get("root_path", "") + MSP_PAGE, status_code=303)


def _register(page: str) -> None:
    @router.get(page, name=f"page{page}")
    def show(request: Request, db: DbSession, me: CurrentUser) -> Response:
        _check_page(me, page)
        return render_settings(request, db, me, page)

    @router.post(page + "/credentials", name=f"generate{page}")
    def generate(
        request: Request,
        db: DbSession,
        me: CheckedAdmin,
        label: Annotated[str, Form()] = "",
        access: Annotated[str, Form()] = AccessLevel.READ_WRITE.value,
    ) -> Response:
        _check_page(me, page)
        if access not in {a.value for a in AccessLevel}:
            return render_settings(request, db, me, page, error="Choose an access level.", status_code=400)
        try:
            made = credentials.create_key_pair(
                db, me.org.id, label=label, access=AccessLevel(access), created_by=me.user.id
            )
        except ApiError as exc:
            db.rollback()
            return render_settings(request, db, me, page, error=exc.detail, status_code=exc.status)
        db.commit()
        issued = Issued("generated", made.pair.client_id, made.client_secret, made.pair.label, made.pair.access)
        return render_settings(request, db, me, page, issued=issued)

    @router.post(page + "/credentials/{client_id}/rotate", name=f"rotate{page}")
    def rotate(request: Request, db: DbSession, me: CheckedAdmin, client_id: str) -> Response:
        _check_page(me, page)
        try:
            made = credentials.rotate_key_pair(db, client_id, me.org.id)
        except ApiError as exc:
            raise ConsoleNotFound() from exc
        _invalidate(request, db, client_id)
        issued = Issued("rotated", made.pair.client_id, made.client_secret, made.pair.label, made.pair.access)
        return render_settings(request, db, me, page, issued=issued)

    @router.post(page + "/credentials/{client_id}/delete", name=f"delete{page}")
    def delete(request: Request, db: DbSession, me: CheckedAdmin, client_id: str) -> Response:
        _check_page(me, page)
        try:
            credentials.delete_key_pair(db, client_id, me.org.id)
        except ApiError as exc:
            raise ConsoleNotFound() from exc
        _invalidate(request, db, client_id)
        return RedirectResponse(request.scope.get("root_path", "") + page + "?deleted=1", status_code=303)


_register(ORG_PAGE)
_register(MSP_PAGE)
