"""Limits on what a caller controls before any handler runs: body size and body media type."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmira.core.errors import problem

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _is_oauth(scope: Scope) -> bool:
    return scope["path"].startswith("/oauth/")


def edge_error(scope: Scope, status: int, detail: str, param: tuple[str, str] | None = None) -> JSONResponse:
    """A refusal before any handler runs: RFC 6749 JSON on the token endpoint, else a problem document
    (naming the parameter, ``(name, where)``, when there is one)."""
    if _is_oauth(scope):
        return JSONResponse({"error": "invalid_request", "error_description": detail}, status_code=status)
    invalid = [{"name": param[0], "in": param[1], "reason": detail}] if param else []
    return problem(status, detail, invalid_params=invalid)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the app the whole, already read body once, then defers to the server's."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, whether or not Content-Length tells the truth.

    The body is read here (it is small by construction) and replayed to the app, so a handler
    never sees a partial body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        too_large = f"the request body exceeds {self.max_bytes} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()):  # isdigit() alone takes '²', which int() refuses
                await edge_error(scope, 400, "invalid Content-Length")(scope, receive, send)
                return
            # A number longer than the limit's is over it: int() refuses more than 4,300 digits.
            digits = declared.lstrip("0")
            if len(digits) > len(str(self.max_bytes)) or int(digits or "0") > self.max_bytes:
                await edge_error(scope, 413, too_large)(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await edge_error(scope, 413, too_large)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)


class JsonBodyMiddleware:
    """The API takes JSON only: any other non-empty body is a 415, not a confusing 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _BODY_METHODS:
            length = _header(scope, b"content-length")
            has_body = (length is not None and length != "0") or _header(scope, b"transfer-encoding") is not None
            media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            is_json = media_type == "application/json" or media_type.endswith("+json")
            if has_body and media_type and not is_json:
                await problem(415, f"the body must be application/json, not {media_type}")(scope, receive, send)
                return
        await self.app(scope, receive, send)


MAX_URL_BYTES = 8192
# Above the most parameters one operation documents (the findings list: 75 filters and paging), so that
# a request the OpenAPI document calls valid is never refused for its number of parameters.
MAX_QUERY_PARAMS = 128
# A bearer token is under 1 KiB; browsers send a few KiB of headers. (Behind uvicorn's default httptools
# parser the bytes are read before this check; a proxy in front bounds them at the socket.)
MAX_HEADER_BYTES = 16384
MAX_HEADERS = 100


class RequestLimitsMiddleware:
    """Bounds on what a caller controls before the body: URL length, number of query parameters, and
    the size and number of headers (431)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            if len(scope.get("raw_path") or scope["path"].encode()) + len(query) > MAX_URL_BYTES:
                await edge_error(scope, 414, f"the URL is longer than {MAX_URL_BYTES} bytes")(scope, receive, send)
                return
            headers = scope["headers"]
            if len(headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
                detail = f"the request headers exceed {MAX_HEADERS} fields or {MAX_HEADER_BYTES} bytes"
                await edge_error(scope, 431, detail)(scope, receive, send)
                return
            if query.count(b"&") + 1 > MAX_QUERY_PARAMS:
                detail = f"more than {MAX_QUERY_PARAMS} query parameters"
                await edge_error(scope, 400, detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)
