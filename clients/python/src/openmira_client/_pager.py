"""Pagers: iterate every item of a list operation, page after page, by following ``links.next``.

``links.next`` is authoritative (it carries the caller's filters and order); ``meta.total_pages`` is a
second stop condition, so a server that forgets to null ``next`` on its last page cannot loop forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _next(page: Any, seen: set[str]) -> str | None:
    link = page.links.next
    if link is None or page.meta.page >= page.meta.total_pages or link in seen:
        return None
    seen.add(link)
    return link


class SyncPager(Generic[T]):
    """``for item in pager`` walks every item; ``pager.pages()`` yields whole pages (with ``meta``)."""

    def __init__(self, fetch: Callable[[str, Mapping[str, str] | None], Any], path: str, params: Mapping[str, str]):
        self._fetch = fetch
        self._path = path
        self._params = params

    def pages(self) -> Iterator[Any]:
        page = self._fetch(self._path, self._params)
        seen: set[str] = set()
        while True:
            yield page
            link = _next(page, seen)
            if link is None:
                return
            page = self._fetch(link, None)  # the link already holds every parameter

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncPager(Generic[T]):
    """``async for item in pager`` walks every item; ``pager.pages()`` yields whole pages."""

    def __init__(
        self, fetch: Callable[[str, Mapping[str, str] | None], Awaitable[Any]], path: str, params: Mapping[str, str]
    ):
        self._fetch = fetch
        self._path = path
        self._params = params

    async def pages(self) -> AsyncIterator[Any]:
        page = await self._fetch(self._path, self._params)
        seen: set[str] = set()
        while True:
            yield page
            link = _next(page, seen)
            if link is None:
                return
            page = await self._fetch(link, None)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item
