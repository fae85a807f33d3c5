"""The request builder and the request flow, shared by ``Client`` and ``AsyncClient``.

A flow is a generator that yields what it needs done (send this request, sleep this long, give me a token)
and receives the outcome; each client drives it with its own I/O. So authentication, token refresh on a
401, retries and error mapping are written once, like httpx's auth flows.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from openmira_client._exceptions import APIConnectionError, APITimeoutError, status_error, token_error
from openmira_client._retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from openmira_client._version import __version__

DEFAULT_BASE_URL = "https://api.blumira.com/public-api/v1"
DEFAULT_TOKEN_URL = "https://auth.blumira.com/oauth/token"
DEFAULT_AUDIENCE = "public-api"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"openmira-client/{__version__}"


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class NeedToken:
    """Ask the driver for a valid token; ``stale`` is one the server just refused (do not return it again)."""

    stale: str | None = None


Step = Send | Sleep | NeedToken
Flow = Generator[Step, Any, httpx.Response]


@dataclass
class Token:
    value: str
    refresh_at: float  # time.monotonic() after which it is renewed before use


def refresh_margin(expires_in: float) -> float:
    # Renew early enough that a token never expires mid-request: 10% of its life, at most 5 minutes.
    return min(300.0, expires_in * 0.1)


class RequestBuilder:
    """Turns (method, path, params, body) into an ``httpx.Request`` against the configured URLs."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base_url: str,
        token_url: str,
        audience: str,
        retry: RetryPolicy,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.token_url = httpx.URL(token_url)
        self.audience = audience
        self.retry = retry
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}

    def __repr__(self) -> str:  # never the secret
        return f"RequestBuilder(client_id={self.client_id!r}, base_url={str(self.base_url)!r})"

    def with_retry(self, retry: RetryPolicy) -> RequestBuilder:
        """The same URLs and credentials with another retry policy (for ``with_options``)."""
        other = copy.copy(self)
        other.retry = retry
        return other

    def url(self, path: str) -> httpx.URL:
        """A path under the API base (``/org/findings``), or a ``links`` value (``/public-api/v1/...?page=2``)."""
        if path.startswith(self.base_url.path):
            return self.base_url.join(path)
        return self.base_url.join(path.lstrip("/"))

    def api_request(
        self, method: str, url: httpx.URL, params: Mapping[str, str] | None, body: Any, token: str
    ) -> httpx.Request:
        headers = {**self.headers, "Authorization": f"Bearer {token}"}
        if params:
            url = url.copy_merge_params(dict(params))
        return httpx.Request(method, url, headers=headers, json=body)

    def token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            headers=self.headers,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "audience": self.audience,
            },
        )

    def _attempts(
        self, method: str, make: Callable[[], httpx.Request], retry_writes: bool | None
    ) -> Generator[Step, Any, httpx.Response]:
        """Send ``make()``'s request, retrying as the policy allows; return the last response or raise."""
        attempt = 0
        while True:
            request = make()
            outcome = yield Send(request)
            if isinstance(outcome, httpx.HTTPError):
                status, retry_after = None, None
            elif outcome.status_code in RETRYABLE_STATUSES:
                status, retry_after = outcome.status_code, parse_retry_after(outcome.headers.get("retry-after"))
            else:
                return outcome
            retry = self.retry.should_retry(method, status, attempt, retry_writes)
            delay = self.retry.delay(attempt, retry_after) if retry else None
            if delay is None:
                if isinstance(outcome, httpx.TimeoutException):
                    raise APITimeoutError(request) from outcome
                if isinstance(outcome, httpx.HTTPError):
                    raise APIConnectionError(request, f"connection error: {outcome!r}") from outcome
                return outcome
            attempt += 1
            yield Sleep(delay)

    def token_flow(self) -> Generator[Step, Any, Token]:
        # A token request changes nothing on the server, so it is retried like a read.
        response = yield from self._attempts("GET", self.token_request, None)
        if response.status_code != 200:
            raise token_error(response)
        body = response.json()
        expires_in = float(body.get("expires_in", 3600))
        return Token(body["access_token"], time.monotonic() + expires_in - refresh_margin(expires_in))

    def request_flow(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        retry_writes: bool | None = None,
    ) -> Flow:
        url = self.url(path)
        token: str = yield NeedToken()
        refreshed = False
        while True:
            current = token
            response = yield from self._attempts(
                method, lambda t=current: self.api_request(method, url, params, body, t), retry_writes
            )
            if response.status_code == 401 and not refreshed:
                # Expired early, revoked by a rotation, or the server's keys changed: one fresh token, once.
                refreshed = True
                token = yield NeedToken(stale=token)
                continue
            if response.status_code >= 400:
                raise status_error(response)
            return response
