"""Request dependencies: the signed-in user, CSRF checks, administrator checks, tenant visibility."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session

from openmira.console.sessions import SESSION_COOKIE, CookieSigner, SignedIn, resolve_session, tokens_equal
from openmira.console.sessions import user_org_ids as _user_org_ids
from openmira.core.routing import DbSession
from openmira.orgs.models import Organization


class SignInRequired(Exception):
    """No valid session: a page redirects to sign-in, a form post is refused."""


class ConsoleForbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FormExpired(ConsoleForbidden):
    """A form posted with a CSRF token that is not the session's (an older session's page, or a forgery)."""


class ConsoleNotFound(Exception):
    pass


def signer(request: Request) -> CookieSigner:
    return request.app.state.cookie_signer


def current_user(request: Request, db: DbSession) -> SignedIn:
    token = signer(request).unsign(request.cookies.get(SESSION_COOKIE), "session")
    signed_in = resolve_session(db, token)
    if signed_in is None:
        raise SignInRequired()
    request.state.signed_in = signed_in
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(current_user)]


def checked_form(me: CurrentUser, csrf_token: Annotated[str, Form()] = "") -> SignedIn:
    """Every state-changing form carries the session's CSRF token; anything else changes nothing."""
    if not tokens_equal(me.csrf_token, csrf_token):
        raise FormExpired("The form's security token is missing or out of date, so nothing was changed.")
    return me


CheckedUser = Annotated[SignedIn, Depends(checked_form)]


def checked_admin(me: CheckedUser) -> SignedIn:
    if not me.is_admin:
        raise ConsoleForbidden("Only administrators can do this.")
    return me


CheckedAdmin = Annotated[SignedIn, Depends(checked_admin)]


def visible_org(db: Session, me: SignedIn, org_id: uuid.UUID) -> Organization:
    """The organization if this user may see it (their own, or an MSP's sub-account), else 404."""
    if org_id not in _user_org_ids(db, me):
        raise ConsoleNotFound()
    org = db.get(Organization, org_id)
    if org is None:
        raise ConsoleNotFound()
    return org
