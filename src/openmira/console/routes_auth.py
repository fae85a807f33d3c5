"""Sign-in and sign-out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openmira.auth.budgets import take_all
from openmira.console.deps import CheckedUser, signer
from openmira.console.render import render
from openmira.console.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    end_session,
    start_session,
    tokens_equal,
)
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.runtime import runtime_of
from openmira.users.models import User
from openmira.users.passwords import hashing_slot, verify_password
from openmira.users.service import get_user_by_email

router = APIRouter(route_class=TransactionalRoute)

SIGN_IN_FAILED = "Incorrect email or password."
# Attempts (failed and successful alike) per minute: per (account, address), so that wrong passwords sent
# from one place never lock the owner out elsewhere; and per address over every account, so that trying
# one password on many accounts is slow too.
SIGN_IN_LIMIT, SIGN_IN_ADDRESS_LIMIT, SIGN_IN_WINDOW = 10, 30, 60.0


def _cookie_kwargs(request: Request) -> dict[str, object]:
    base = request.scope.get("root_path", "") or "/"
    return {"path": base, "httponly": True, "samesite": "lax", "secure": request.url.scheme == "https"}


def safe_next(request: Request, target: str | None) -> str:
    """Only a path inside the console: never another host (``//evil``, ``/\\evil``, ``https:...``)."""
    base = request.scope.get("root_path", "")
    if target and target.startswith(base + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return base + "/"


def _login_token(request: Request) -> str:
    return signer(request).unsign(request.cookies.get(LOGIN_CSRF_COOKIE), "sign-in") or secrets.token_urlsafe(32)


def _sign_in_page(request: Request, token: str, *, next_url: str, email: str = "", error: str = "",
                  status_code: int = 200) -> Response:
    response = render(
        request, "sign_in.html",
        {"csrf_token": token, "next": next_url, "email": email, "error": error},
        status_code=status_code,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, signer(request).sign(token, "sign-in"), max_age=3600,
                        **_cookie_kwargs(request))  # type: ignore[arg-type]
    return response


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _sign_in_page(request, _login_token(request), next_url=safe_next(request, next))


def _check_credentials(db: Session, email: str, password: str) -> User | None:
    user = get_user_by_email(db, email) if len(email) <= 320 else None
    # An unknown email still verifies a (dummy) argon2 hash: both failures take the same time.
    ok = verify_password(password[:1024], user.password_hash if user is not None else None)
    return user if ok and user is not None and not user.disabled else None


@router.post("/sign-in")
async def sign_in(
    request: Request,
    db: DbSession,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    expected = signer(request).unsign(request.cookies.get(LOGIN_CSRF_COOKIE), "sign-in")
    next_url = safe_next(request, next)
    if not tokens_equal(expected, csrf_token):
        return _sign_in_page(request, secrets.token_urlsafe(32), next_url=next_url, email=email,
                             error="The sign-in form expired. Please try again.", status_code=403)
    assert expected is not None
    email = email.strip()
    address = request.client.host if request.client else "unknown"
    budgets = [
        (f"console-sign-in:{address}|{email.lower()[:320]}", SIGN_IN_LIMIT),  # no address holds a "|"
        (f"console-sign-in-ip:{address}", SIGN_IN_ADDRESS_LIMIT),
    ]
    _, refusal = await take_all(runtime_of(request).limiter, budgets, SIGN_IN_WINDOW)
    if refusal is not None:
        response = _sign_in_page(request, expected, next_url=next_url, email=email, status_code=429,
                                 error="Too many sign-in attempts. Wait a minute and try again.")
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    async with hashing_slot():
        user = await run_in_threadpool(_check_credentials, db, email, password)
    if user is None:
        return _sign_in_page(request, expected, next_url=next_url, email=email, error=SIGN_IN_FAILED,
                             status_code=401)
    token = await run_in_threadpool(start_session, db, user)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, signer(request).sign(token, "session"),
                        max_age=int(SESSION_LIFETIME.total_seconds()), **_cookie_kwargs(request))  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=str(_cookie_kwargs(request)["path"]))
    return response


@router.post("/sign-out")
def sign_out(request: Request, db: DbSession, me: CheckedUser) -> Response:
    end_session(db, me.session_id)
    base = request.scope.get("root_path", "")
    response = RedirectResponse(base + "/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=str(_cookie_kwargs(request)["path"]))
    return response
