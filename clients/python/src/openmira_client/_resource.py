"""The base of every resource class: path templates, envelopes and pagers.

Resource modules under ``resources/`` are written once, for the sync client; ``scripts/generate_async.py``
derives ``resources_async/`` from them (``def`` -> ``async def``, ``return self._one(`` -> ``return await
...``), and a test fails if the two drift.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from openmira_client._envelope import Envelope, ListResponse
from openmira_client._pager import AsyncPager, SyncPager
from openmira_client._query import build_params

if TYPE_CHECKING:
    from openmira_client._client import AsyncClient, Client

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
ID = str | uuid.UUID
FilterValue = Any  # str | int | bool | datetime | UUID, or a list of them for `in` / `!in`


def operation(method: str, path: str) -> Callable[[F], F]:
    """Record which API operation a method calls (its path relative to the resource's scope prefix), so a
    test can check every operation of the server's OpenAPI document has a method."""

    def mark(fn: F) -> F:
        fn.__openmira_operation__ = (method, path)  # type: ignore[attr-defined]
        return fn

    return mark


def paging(
    page: int | None, page_size: int | None, limit: int | None, order_by: str | None, **extra: Any
) -> dict[str, Any]:
    return {"page": page, "page_size": page_size, "limit": limit, "order_by": order_by, **extra}


class _Resource:
    def __init__(self, prefix: str, prefix_template: str) -> None:
        self._prefix = prefix
        # The unformatted prefix (``/msp/accounts/{account_id}``), for the operations test.
        self._prefix_template = prefix_template

    def _path(self, template: str, **ids: ID) -> str:
        return self._prefix + template.format(**{k: quote(str(v), safe="") for k, v in ids.items()})

    @staticmethod
    def _params(values: Mapping[str, Any], filters: Mapping[str, Any] | None = None) -> dict[str, str]:
        return build_params(values, filters)


class SyncResource(_Resource):
    def __init__(self, client: Client, prefix: str = "", prefix_template: str | None = None) -> None:
        super().__init__(prefix, prefix if prefix_template is None else prefix_template)
        self._client = client

    def _one(
        self, method: str, path: str, model: type[T], *, params: Mapping[str, str] | None = None,
        body: Any = None, retry_writes: bool | None = None,
    ) -> T:
        response = self._client._send(method, path, params=params, body=body, retry_writes=retry_writes)
        return Envelope[model].model_validate_json(response.content).data  # type: ignore[valid-type]

    def _list(self, path: str, page_model: type[T], params: Mapping[str, str]) -> T:
        response = self._client._send("GET", path, params=params)
        return page_model.model_validate_json(response.content)  # type: ignore[attr-defined, no-any-return]

    def _iter(self, path: str, page_model: type[ListResponse[T]], params: Mapping[str, str]) -> SyncPager[T]:
        return SyncPager(lambda p, q: self._list(p, page_model, q), path, params)


class AsyncResource(_Resource):
    def __init__(self, client: AsyncClient, prefix: str = "", prefix_template: str | None = None) -> None:
        super().__init__(prefix, prefix if prefix_template is None else prefix_template)
        self._client = client

    async def _one(
        self, method: str, path: str, model: type[T], *, params: Mapping[str, str] | None = None,
        body: Any = None, retry_writes: bool | None = None,
    ) -> T:
        response = await self._client._send(method, path, params=params, body=body, retry_writes=retry_writes)
        return Envelope[model].model_validate_json(response.content).data  # type: ignore[valid-type]

    async def _list(self, path: str, page_model: type[T], params: Mapping[str, str]) -> T:
        response = await self._client._send("GET", path, params=params)
        return page_model.model_validate_json(response.content)  # type: ignore[attr-defined, no-any-return]

    def _iter(self, path: str, page_model: type[ListResponse[T]], params: Mapping[str, str]) -> AsyncPager[T]:
        return AsyncPager(lambda p, q: self._list(p, page_model, q), path, params)
