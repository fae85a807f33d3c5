"""One request, one transaction: the route class commits once after the handler, or rolls back.

A synchronous handler runs in the thread pool together with its commit: one hand-off to a worker thread
per request, not one for the handler and another for the commit (each hand-off costs a GIL switch, which
is much of a small request's time under load).
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

from openmira.runtime import Runtime, get_runtime


async def get_db(request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Session:
    session: Session | None = getattr(request.state, "db", None)
    if session is None:
        # Creating a Session does no I/O; a connection is taken on first use.
        session = runtime.sessions()
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


class TransactionalRoute(APIRoute):
    """Commit before the response leaves, so an acknowledged write is a durable write."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # The wrapper keeps the handler's signature (FastAPI reads it through __wrapped__).
        super().__init__(path, endpoint if iscoroutinefunction(endpoint) else _in_one_thread(endpoint), **kwargs)

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
    """Finish the request's session unless its handler already did (see ``_call_and_finish``)."""
    session: Session | None = getattr(request.state, "db", None)
    if session is None:
        return
    request.state.db = None
    if session.in_transaction():
        await run_in_threadpool(_finish, session, commit)
