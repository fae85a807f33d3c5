"""Templates, filters, and the sanitizer for HTML that comes from the API (comment bodies)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nh3
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import HTMLResponse

from openmira.db.base import utcnow
from openmira.meta.enums import FINDING_TYPES, RESOLUTIONS, STATUSES
from openmira.users.models import Role

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Comment bodies are HTML posted through the API by anyone holding a read-write key. Keep simple
# formatting; drop everything that can run or restyle: scripts, styles, event handlers, forms, frames,
# images (no tracking pixels) and every URL scheme but http, https and mailto. The page's
# Content-Security-Policy (no inline script, no inline style) is a second wall behind this one.
_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "em", "h3", "h4", "hr", "i", "li", "ol", "p", "pre", "s",
    "strong", "sub", "sup", "u", "ul",
}
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}}
_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(value: str | None) -> Markup:
    cleaned = nh3.clean(
        value or "",
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)


def format_dt(value: datetime | str | None) -> str:
    """The console's one date format, ``2026-11-29 14:03 UTC``, for every date on every page: an ORM
    datetime or a wire timestamp (``2026-11-29T14:03:00.000000Z``, as the API's finding objects carry)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def format_age(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = max(0, int((utcnow() - value).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def role_name(role_id: int) -> str:
    try:
        return Role(role_id).label.title()
    except ValueError:
        return str(role_id)


def person(user: Any) -> str:
    if user is None:
        return "—"
    name = f"{user.first_name} {user.last_name}".strip()
    return f"{name} <{user.email}>" if name else user.email


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(dt=format_dt, age=format_age, safe_html=sanitize_html, person=person)
templates.env.globals.update(
    role_name=role_name, ROLES=[(int(r), r.label.title()) for r in Role],
    STATUSES=STATUSES, RESOLUTIONS=RESOLUTIONS, FINDING_TYPES=FINDING_TYPES
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "base": request.scope.get("root_path", "").rstrip("/") or "",
        "me": getattr(request.state, "signed_in", None),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
