"""``Client`` and ``AsyncClient``: the same request flow (``_core``) driven with blocking or async I/O."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

import httpx

from openmira_client._core import (
    DEFAULT_AUDIENCE,
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    DEFAULT_TOKEN_URL,
    Flow,
    NeedToken,
    RequestBuilder,
    Send,
    Sleep,
    Token,
)
from openmira_client._envelope import ListResponse
from openmira_client._models import Health, Resolution
from openmira_client._retry import RetryPolicy
from openmira_client.resources.meta import Meta
from openmira_client.resources.scopes import MspScope, OrgScope
from openmira_client.resources_async.meta import AsyncMeta
from openmira_client.resources_async.scopes import AsyncMspScope, AsyncOrgScope

log = logging.getLogger("openmira_client")


class _TokenCache:
    """The current token, shared by a client and its ``with_options`` copies."""

    def __init__(self) -> None:
        self.token: Token | None = None

    def usable(self, stale: str | None) -> str | None:
        token = self.token
        if token is None or token.value == stale or time.monotonic() >= token.refresh_at:
            return None
        return token.value


def _settings(
    client_id: str | None, client_secret: str | None, base_url: str | None, token_url: str | None
) -> tuple[str, str, str, str]:
    # Arguments first, then the environment, then real Blumira: the same code runs against either.
    client_id = client_id or os.environ.get("BLUMIRA_CLIENT_ID")
    client_secret = client_secret or os.environ.get("BLUMIRA_CLIENT_SECRET")
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret are required (or BLUMIRA_CLIENT_ID / BLUMIRA_CLIENT_SECRET)")
    base_url = base_url or os.environ.get("BLUMIRA_BASE_URL") or DEFAULT_BASE_URL
    token_url = token_url or os.environ.get("BLUMIRA_TOKEN_URL") or DEFAULT_TOKEN_URL
    return client_id, client_secret, base_url, token_url


class _ClientOptions:
    def _configure(
        self,
        client_id: str | None,
        client_secret: str | None,
        base_url: str | None,
        token_url: str | None,
        audience: str,
        max_retries: int,
        retry_writes: bool,
        headers: Mapping[str, str] | None,
    ) -> None:
        cid, secret, base, token = _settings(client_id, client_secret, base_url, token_url)
        self._builder = RequestBuilder(
            client_id=cid, client_secret=secret, base_url=base, token_url=token, audience=audience,
            retry=RetryPolicy(max_retries=max_retries, retry_writes=retry_writes), headers=headers,
        )
        self._tokens = _TokenCache()

    @property
    def base_url(self) -> str:
        return str(self._builder.base_url).rstrip("/")

    @property
    def token_url(self) -> str:
        return str(self._builder.token_url)

    @property
    def client_id(self) -> str:
        return self._builder.client_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, base_url={self.base_url!r})"

    def _copy_options(self, other: Any, max_retries: int | None, retry_writes: bool | None) -> None:
        policy = self._builder.retry
        other._builder = self._builder.with_retry(dataclasses.replace(
            policy,
            max_retries=policy.max_retries if max_retries is None else max_retries,
            retry_writes=policy.retry_writes if retry_writes is None else retry_writes,
        ))
        other._tokens = self._tokens


class Client(_ClientOptions):
    """A Blumira Public API client (real Blumira by default; pass ``base_url``/``token_url`` for OpenMira).

    Obtains and caches a token, renews it before it expires and once when the server answers 401, retries
    what is safe to retry, and raises an ``APIStatusError`` subclass for every error status.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        audience: str = DEFAULT_AUDIENCE,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry_writes: bool = False,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._configure(client_id, client_secret, base_url, token_url, audience, max_retries, retry_writes, headers)
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None
        self._lock = threading.Lock()
        self._mount()

    def _mount(self) -> None:
        self.meta = Meta(self)
        self.org = OrgScope(self, "/org")
        self.msp = MspScope(self, "/msp")

    def with_options(self, *, max_retries: int | None = None, retry_writes: bool | None = None) -> Client:
        """A client sharing this one's connection pool and token, with other retry settings."""
        other = Client.__new__(Client)
        self._copy_options(other, max_retries, retry_writes)
        other._http, other._owns_http, other._lock = self._http, False, self._lock
        other._mount()
        return other

    def health(self) -> Health:
        return self.meta.health()

    def resolutions(self) -> ListResponse[Resolution]:
        return self.meta.resolutions()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # The I/O behind the flows.
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._drive(self._builder.request_flow(method, path, **kwargs))

    def _token(self, stale: str | None) -> str:
        with self._lock:
            value = self._tokens.usable(stale)
            if value is None:
                self._tokens.token = self._drive(self._builder.token_flow())
                value = self._tokens.token.value
            return value

    def _drive(self, flow: Flow | Any) -> Any:
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Send):
                try:
                    outcome = self._http.send(step.request)
                    outcome.read()
                except httpx.HTTPError as exc:
                    outcome = exc
            elif isinstance(step, Sleep):
                log.info("retrying in %.2f s", step.seconds)
                time.sleep(step.seconds)
                outcome = None
            elif isinstance(step, NeedToken):
                outcome = self._token(step.stale)


class AsyncClient(_ClientOptions):
    """The async twin of ``Client``: the same arguments, every API method awaitable, pagers ``async for``."""

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        audience: str = DEFAULT_AUDIENCE,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry_writes: bool = False,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._configure(client_id, client_secret, base_url, token_url, audience, max_retries, retry_writes, headers)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http_client is None
        self._lock = asyncio.Lock()
        self._mount()

    def _mount(self) -> None:
        self.meta = AsyncMeta(self)
        self.org = AsyncOrgScope(self, "/org")
        self.msp = AsyncMspScope(self, "/msp")

    def with_options(self, *, max_retries: int | None = None, retry_writes: bool | None = None) -> AsyncClient:
        other = AsyncClient.__new__(AsyncClient)
        self._copy_options(other, max_retries, retry_writes)
        other._http, other._owns_http, other._lock = self._http, False, self._lock
        other._mount()
        return other

    async def health(self) -> Health:
        return await self.meta.health()

    async def resolutions(self) -> ListResponse[Resolution]:
        return await self.meta.resolutions()

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._drive(self._builder.request_flow(method, path, **kwargs))  # type: ignore[no-any-return]

    async def _token(self, stale: str | None) -> str:
        async with self._lock:
            value = self._tokens.usable(stale)
            if value is None:
                self._tokens.token = await self._drive(self._builder.token_flow())
                value = self._tokens.token.value
            return value

    async def _drive(self, flow: Flow | Any) -> Any:
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Send):
                try:
                    outcome = await self._http.send(step.request)
                    await outcome.aread()
                except httpx.HTTPError as exc:
                    outcome = exc
            elif isinstance(step, Sleep):
                log.info("retrying in %.2f s", step.seconds)
                await asyncio.sleep(step.seconds)
                outcome = None
            elif isinstance(step, NeedToken):
                outcome = await self._token(step.stale)
