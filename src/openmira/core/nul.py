"""One rule for every text input, applied once at the edge: a NUL character is a 400 naming the parameter.

PostgreSQL text cannot hold NUL (a query binding one fails: a 500), and SQLite compares it wrongly
(``name.contains=%00`` matched every finding), so no handler should ever see one. This middleware looks at
the query string, the path, and form and JSON bodies (the body is already read and bounded by
``BodyLimitMiddleware``) of every request, API, token endpoint and console alike (the API's JSON bodies
excepted, see below). The common case costs one substring search per part: only a request that may hold
a NUL is parsed, to name the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from openmira.core.limits import edge_error, replaying

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NUL = "\x00"


def _printable(name: str) -> str:
    return name.replace(NUL, "\\0")


def _in_pairs(raw: bytes) -> str | None:
    """The first parameter of a URL-encoded string (query or form body) with a NUL in its name or value."""
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return _printable(name)
    return None


def _json_paths(value: Any, path: str) -> Iterator[str]:
    """Where NUL characters are in a parsed JSON document: ``description``, ``owners[2]``, ``a.b``."""
    if isinstance(value, str):
        if NUL in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{_printable(key)}" if path else _printable(key)
            if NUL in key:
                yield child
            yield from _json_paths(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_paths(item, f"{path}[{index}]")


def _in_json(body: bytes) -> str | None:
    # JSON can only carry a NUL escaped (a raw control character is invalid JSON and refused as such).
    if b"\\u0000" not in body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (or too deep to read): the handler refuses it itself
        return None
    try:
        return next(_json_paths(document, ""), None)
    except RecursionError:  # readable, but too deep to walk here: name the body
        return "body"


def _in_body(scope: Scope, body: bytes, json_bodies: bool) -> str | None:
    media_type = ""
    for key, value in scope["headers"]:
        if key == b"content-type":
            media_type = value.decode("latin-1").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        return _in_pairs(body) if b"%00" in body or b"\x00" in body else None
    return _in_json(body) if json_bodies else None


class NulGuardMiddleware:
    """Sits inside ``BodyLimitMiddleware``, which has read the whole (bounded) body. Each request passes one
    guard: the outer app's, or for the API (which the outer app's stack never sees, core/dispatch.py) the
    API's own, run after authentication.

    The API's guard leaves JSON bodies (``json_bodies=False``) to their schemas: every text field of every
    API body refuses NUL with its pattern, naming the field (tests/hardening/test_nul.py keeps it so), and
    unknown fields are ignored, never stored, as the contract says.
    """

    def __init__(self, app: ASGIApp, *, json_bodies: bool = True) -> None:
        self.app = app
        self.json_bodies = json_bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        found: tuple[str, str] | None = None
        if NUL in scope["path"]:
            found = ("path", "path")
        elif b"%00" in query or b"\x00" in query:
            name = _in_pairs(query)
            found = (name, "query") if name is not None else None
        if found is None and scope["method"] in _BODY_METHODS:
            message = await receive()
            body = message.get("body", b"")
            receive = replaying(body, receive)
            name = _in_body(scope, body, self.json_bodies)
            found = (name, "body") if name is not None else None
        if found is not None:
            detail = f"{found[0]}: must not contain NUL characters"
            await edge_error(scope, 400, detail, found)(scope, receive, send)
            return
        await self.app(scope, receive, send)
