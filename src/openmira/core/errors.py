"""One exception hierarchy for the API, each with its status, rendered as RFC 7807 problem documents."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("openmira.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ApiError(Exception):
    status: int = 500
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        invalid_params: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.invalid_params = list(invalid_params or [])
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status, title = 400, "Bad Request"

    @classmethod
    def param(cls, name: str, reason: str, where: str = "query") -> BadRequest:
        return cls(f"{name}: {reason}", invalid_params=[{"name": name, "in": where, "reason": reason}])


class Unauthorized(ApiError):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        # RFC 6750 section 3.1: a request with no credentials gets a challenge without an error code.
        challenge = 'Bearer realm="public-api"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(ApiError):
    status, title = 403, "Forbidden"


class NotFound(ApiError):
    status, title = 404, "Not Found"


class Conflict(ApiError):
    status, title = 409, "Conflict"


class PayloadTooLarge(ApiError):
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(ApiError):
    status, title = 415, "Unsupported Media Type"


class TooManyRequests(ApiError):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(ApiError):
    status, title = 503, "Service Unavailable"


_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
}


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    invalid_params: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if invalid_params:
        body["invalid_params"] = list(invalid_params)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE)


def _with_rate_headers(request: Request, headers: Mapping[str, str]) -> dict[str, str]:
    merged = dict(getattr(request.state, "rate_limit_headers", {}) or {})
    merged.update(headers)
    return merged


_UNION_TAG_ERRORS = ("union_tag_invalid", "union_tag_not_found")


def _field_path(loc: Sequence[Any], body: Any) -> list[str]:
    """``loc`` as the client wrote it: pydantic puts the tag of a tagged-union member (``"restart"``) into
    the location of that member's errors; a tag is a value of the object at that point, not a key."""
    path: list[str] = []
    cursor = body
    for part in loc:
        if isinstance(cursor, dict) and isinstance(part, str) and part not in cursor and part in cursor.values():
            continue
        path.append(str(part))
        if isinstance(cursor, dict):
            cursor = cursor.get(part)
        elif isinstance(cursor, list) and isinstance(part, int) and 0 <= part < len(cursor):
            cursor = cursor[part]
        else:
            cursor = None
    return path


def _validation_params(exc: RequestValidationError) -> list[dict[str, str]]:
    params = []
    for err in exc.errors():
        raw = list(err.get("loc", ()))
        where = str(raw[0]) if raw else "body"
        loc = [where, *_field_path(raw[1:], exc.body if where == "body" else None)]
        if err.get("type") in _UNION_TAG_ERRORS:
            # A missing or unknown tag is an error of the tag field itself (e.g. ``action``).
            loc.append(str((err.get("ctx") or {}).get("discriminator", "")).strip("'"))
        name = ".".join(loc[1:]) or where
        reason = err.get("msg", "invalid value")
        if err.get("type") == "json_invalid":
            reason = "the body is not valid JSON"
        params.append({"name": name, "in": where, "reason": reason})
    return params


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem(
        exc.status, exc.detail, title=exc.title, invalid_params=exc.invalid_params,
        headers=_with_rate_headers(request, exc.headers),
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem(exc.status_code, detail, headers=_with_rate_headers(request, exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    params = _validation_params(exc)
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params) or "invalid request"
    return problem(400, detail, invalid_params=params, headers=_with_rate_headers(request, {}))


def log_unexpected(
    request: Request, exc: Exception, what: str = "unhandled error", logger: logging.Logger | None = None
) -> None:
    """Log an error that becomes a 500, once. Starlette's error layer answers and then re-raises, so an error
    of the API or the console (apps inside the outer one) reaches an outer error layer too (core/dispatch.py):
    the first to see it logs it."""
    if getattr(exc, "_openmira_logged", False):
        return
    (logger or log).exception("%s on %s %s", what, request.method, request.url.path, exc_info=exc)
    with contextlib.suppress(AttributeError):  # an exception type without a __dict__
        exc._openmira_logged = True  # type: ignore[attr-defined]


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log_unexpected(request, exc)
    return problem(500, "The server could not complete the request.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
