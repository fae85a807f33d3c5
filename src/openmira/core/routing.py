"""One request, one transaction: the route class commits once after the handler, or rolls back.

Where a synchronous handler runs, and its commit with it:

- a read (GET) runs on the event loop itself. Its queries are index range reads bounded by the page
  size, shorter than a hand-off to a worker thread, which costs about 0.1 ms of CPU and a GIL switch each
  way (measured: more than the page query of a list). A read that may scan many rows (a substring or
  regex filter) hands itself to the thread pool explicitly (see ``findings.routes.get_findings``).
- a write runs in the thread pool, handler and commit in one hand-off: its commit may wait on the disk
  (SQLite ``synchronous=FULL``) or the network, and other requests go on meanwhile.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openmira.runtime import runtime_of


async def get_db(request: Request) -> Session:
    session: Session | None = getattr(request.state, "db", None)
    if session is None:
        # Creating a Session does no I/O; a connection is taken on first use.
        session = runtime_of(request).sessions()
        request.state.db = session
    return session


DbSession = Annotated[Session, Depends(get_db)]


def _finish(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def _call_and_finish(endpoint: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """Run a synchronous handler, then commit (or roll back) the request's session in the same thread."""
    sessions = [value for value in arguments.values() if isinstance(value, Session)]
    try:
        result = endpoint(**arguments)
    except BaseException:
        for session in sessions:
            _finish(session, False)
        raise
    for session in sessions:
        _finish(session, True)
    return result


def _in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        return await run_in_threadpool(_call_and_finish, endpoint, arguments)

    return run


def _on_the_loop(endpoint: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        return _call_and_finish(endpoint, arguments)

    return run


READ_METHODS = frozenset({"GET", "HEAD"})


class TransactionalRoute(APIRoute):
    """Commit before the response leaves, so an acknowledged write is a durable write."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not iscoroutinefunction(endpoint):
            reads = {m.upper() for m in kwargs.get("methods") or ["GET"]} <= READ_METHODS
            # The wrapper keeps the handler's signature (FastAPI reads it through __wrapped__).
            endpoint = _on_the_loop(endpoint) if reads else _in_one_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except BaseException:
                await _finish_request(request, commit=False)
                raise
            await _finish_request(request, commit=True)
            response.headers.update(getattr(request.state, "rate_limit_headers", None) or {})
            return response

        return run


async def _finish_request(request: Request, *, commit: bool) -> None:
    """Finish the request's session unless its handler already did (see ``_call_and_finish``): on the loop
    after a read, in the thread pool after a write."""
    session: Session | None = getattr(request.state, "db", None)
    if session is None:
        return
    request.state.db = None
    if not session.in_transaction():
        session.close()
    elif request.method in READ_METHODS:
        _finish(session, commit)
    else:
        await run_in_threadpool(_finish, session, commit)
