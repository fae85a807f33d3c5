"""One exception per failure, each carrying what the server said.

``APIStatusError`` subclasses are raised for HTTP error statuses with the RFC 7807 problem document
attached (``.problem``, a dict; ``.detail`` its human message); ``TokenError`` for a refused token request
(RFC 6749 ``error``/``error_description``); ``APIConnectionError`` when no answer came at all.
"""

from __future__ import annotations

from typing import Any

import httpx

from openmira_client._retry import parse_retry_after

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "OpenMiraError",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "TokenError",
    "Unauthorized",
    "UnsupportedMediaType",
]


class OpenMiraError(Exception):
    """The base of every error this client raises."""


class APIError(OpenMiraError):
    def __init__(self, message: str, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before an answer."""

    def __init__(self, request: httpx.Request, message: str = "connection error") -> None:
        super().__init__(message, request)


class APITimeoutError(APIConnectionError):
    def __init__(self, request: httpx.Request) -> None:
        super().__init__(request, "request timed out")


class APIStatusError(APIError):
    """The server answered with an error status; ``problem`` is its problem document (or ``{}``)."""

    status_code: int

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.response = response
        self.status_code = response.status_code
        self.problem = problem
        self.title: str | None = problem.get("title")
        self.detail: str | None = problem.get("detail")
        self.invalid_params: list[dict[str, str]] | None = problem.get("invalid_params")
        self.fault: str | None = response.headers.get("x-openmira-fault")
        message = f"{response.status_code} {self.title or response.reason_phrase}"
        if self.detail:
            message += f": {self.detail}"
        if self.fault:
            message += f" [injected fault: {self.fault}]"
        super().__init__(message, response.request)


class BadRequest(APIStatusError):
    status_code = 400


class Unauthorized(APIStatusError):
    status_code = 401


class Forbidden(APIStatusError):
    status_code = 403


class NotFound(APIStatusError):
    status_code = 404


class MethodNotAllowed(APIStatusError):
    status_code = 405


class Conflict(APIStatusError):
    status_code = 409


class PayloadTooLarge(APIStatusError):
    status_code = 413


class UnsupportedMediaType(APIStatusError):
    status_code = 415


class RateLimited(APIStatusError):
    """429: over the key pair's rate limit. ``retry_after`` is the server's advice in seconds."""

    status_code = 429

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        super().__init__(response, problem)
        self.retry_after: float | None = parse_retry_after(response.headers.get("retry-after"))


class ServerError(APIStatusError):
    """Any 5xx."""


class ServiceUnavailable(ServerError):
    status_code = 503


class TokenError(APIStatusError):
    """The token endpoint refused the credentials or the request (RFC 6749 section 5.2)."""

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.error: str | None = problem.get("error")
        self.error_description: str | None = problem.get("error_description")
        problem = {"title": self.error, "detail": self.error_description, **problem}
        super().__init__(response, problem)


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: RateLimited,
    503: ServiceUnavailable,
}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def status_error(response: httpx.Response) -> APIStatusError:
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else APIStatusError
    return cls(response, _body(response))


def token_error(response: httpx.Response) -> APIStatusError:
    if response.status_code == 429 or response.status_code >= 500:
        return status_error(response)
    return TokenError(response, _body(response))
