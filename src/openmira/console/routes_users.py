"""Settings > Organization > Users: administrators add users, change their roles, disable, enable them and
give them a new password, through ``openmira.users.service`` as the CLI does.

A new user's password is generated and shown once to the administrator, who passes it on (see
docs/decisions.md). Every change keeps an enabled administrator in the organization, and a user of another
organization is a 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from openmira.console.deps import CheckedAdmin, ConsoleNotFound
from openmira.console.routes_settings import ORG_PAGE, render_settings
from openmira.console.sessions import SignedIn
from openmira.core.errors import ApiError, BadRequest, NotFound
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.users import service as users
from openmira.users.models import Role, User

router = APIRouter(route_class=TransactionalRoute)

USERS = ORG_PAGE + "/users"


@dataclass(frozen=True)
class IssuedPassword:
    """A generated password to show once, after "Add user" or "Reset password"."""

    kind: str
    email: str
    password: str


def _roles(values: list[str] | None) -> list[Role]:
    try:
        return [Role(int(v)) for v in values or []]
    except ValueError:
        raise BadRequest.param("roles", "choose among administrator, manager, analyst and responder",
                               "body") from None


def _page(request: Request, db: Session, me: SignedIn, *, status_code: int = 200, **extra: Any) -> Response:
    return render_settings(request, db, me, ORG_PAGE, status_code=status_code, extra=extra)


def _user(db: Session, me: SignedIn, user_id: uuid.UUID) -> User:
    try:
        return users.get_org_user(db, me.org.id, user_id)
    except NotFound as exc:
        raise ConsoleNotFound() from exc


def _done(request: Request, what: str) -> Response:
    # The page words ``?user=roles|disabled|enabled`` (settings_org.html's _users.html).
    return RedirectResponse(f"{request.scope.get('root_path', '')}{ORG_PAGE}?user={what}#users", status_code=303)


@router.post(USERS)
def add_user(
    request: Request,
    db: DbSession,
    me: CheckedAdmin,
    email: Annotated[str, Form()] = "",
    first_name: Annotated[str, Form()] = "",
    last_name: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    typed = {"email": email, "first_name": first_name, "last_name": last_name, "roles": roles or []}
    password = users.generate_password()
    try:
        chosen = _roles(roles)
        if not chosen:
            raise BadRequest.param("roles", "choose at least one role", "body")
        made = users.create_user(db, me.org.id, email, first_name=first_name, last_name=last_name, roles=chosen,
                                 password=password)
    except ApiError as exc:
        db.rollback()
        # The dialog opens again with what was typed and why it was refused.
        return _page(request, db, me, status_code=exc.status, add_user_error=_message(exc), add_user_form=typed)
    db.commit()
    return _page(request, db, me, issued_password=IssuedPassword("created", made.email, password))


def _message(exc: ApiError) -> str:
    detail = exc.detail or exc.title
    return detail[:1].upper() + detail[1:] + ("" if detail.endswith(".") else ".")


def _change(request: Request, db: Session, me: SignedIn, what: str, apply: Any) -> Response:
    """Apply one change to a user; a refusal (the last administrator) re-shows the page with why."""
    try:
        apply()
    except ApiError as exc:
        db.rollback()
        return _page(request, db, me, status_code=exc.status, user_error=_message(exc))
    db.commit()
    return _done(request, what)


@router.post(USERS + "/{user_id}/roles")
def change_roles(
    request: Request, db: DbSession, me: CheckedAdmin, user_id: uuid.UUID,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    user = _user(db, me, user_id)
    return _change(request, db, me, "roles",
                   lambda: users.set_roles(db, user, _roles(roles), keep_an_admin=True))


@router.post(USERS + "/{user_id}/disable")
def disable(request: Request, db: DbSession, me: CheckedAdmin, user_id: uuid.UUID) -> Response:
    user = _user(db, me, user_id)
    return _change(request, db, me, "disabled", lambda: users.set_disabled(db, user, True, keep_an_admin=True))


@router.post(USERS + "/{user_id}/enable")
def enable(request: Request, db: DbSession, me: CheckedAdmin, user_id: uuid.UUID) -> Response:
    user = _user(db, me, user_id)
    return _change(request, db, me, "enabled", lambda: users.set_disabled(db, user, False))


@router.post(USERS + "/{user_id}/password")
def reset_password(request: Request, db: DbSession, me: CheckedAdmin, user_id: uuid.UUID) -> Response:
    user = _user(db, me, user_id)
    password = users.reset_password(db, user)
    db.commit()
    return _page(request, db, me, issued_password=IssuedPassword("reset", user.email, password))
