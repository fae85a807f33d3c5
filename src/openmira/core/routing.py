"""One request, one transaction: the route class commits once after the handler, or rolls back.

Where a synchronous handler runs, and its commit with it, in the same place:

- a read (GET) on SQLite runs on the event loop itself. SQLite is in the process: its queries are CPU work
  with nothing to wait for, and an index read bounded by a page is shorter than a hand-off to a worker
  thread, which costs about 0.1 ms of CPU and a GIL switch each way (measured: more than a page query).
- everything else runs in the thread pool, handler and commit in one hand-off: a write's commit may wait
  on the disk (SQLite ``synchronous=FULL``), and PostgreSQL's every statement waits on the network, so
  other requests go on meanwhile.
- a read that may scan many rows asks for the thread pool itself (``run_read(..., long=True)``, used by
  the findings list for substring and regex filters).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from inspect import iscoroutinefunction
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openmira.runtime import runtime_of

T = TypeVar("T")
READ_METHODS = frozenset({"GET", "HEAD"})


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


def _in_process(session: Session) -> bool:
    """Whether the session's database runs inside this process (SQLite): nothing to wait for."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


def _work_and_finish(sessions: list[Session], work: Callable[[], T]) -> T:
    """Run ``work``, then commit the sessions it used (or roll them back if it raised), in the same thread."""
    try:
        result = work()
    except BaseException:
        for session in sessions:
            _finish(session, False)
        raise
    for session in sessions:
        _finish(session, True)
    return result


async def run_query(session: Session, work: Callable[[], T]) -> T:
    """Run a query of the request's session where the module's rule says, leaving the transaction open
    (for dependencies that read before the handler, such as the MSP scopes)."""
    if _in_process(session):
        return work()
    return await run_in_threadpool(work)


async def _run_and_finish(sessions: list[Session], work: Callable[[], T], *, read: bool, long: bool = False) -> T:
    """Run ``work`` and finish its sessions where the module's rule says."""
    if read and not long and all(_in_process(s) for s in sessions):
        return _work_and_finish(sessions, work)
    return await run_in_threadpool(_work_and_finish, sessions, work)


async def run_read(session: Session, work: Callable[[], T], *, long: bool = False) -> T:
    """Run a read and finish its transaction where the module's rule says (``long``: it may scan many rows)."""
    return await _run_and_finish([session], work, read=True, long=long)


def _transactional(endpoint: Callable[..., Any], *, read: bool) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        sessions = [value for value in arguments.values() if isinstance(value, Session)]
        return await _run_and_finish(sessions, functools.partial(endpoint, **arguments), read=read)

    return run


class TransactionalRoute(APIRoute):
    """Commit before the response leaves, so an acknowledged write is a durable write."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not iscoroutinefunction(endpoint):
            read = {m.upper() for m in kwargs.get("methods") or ["GET"]} <= READ_METHODS
            # The wrapper keeps the handler's signature (FastAPI reads it through __wrapped__).
            endpoint = _transactional(endpoint, read=read)
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
    """Finish the request's session unless its handler already did (a scope look-up may have opened it)."""
    session: Session | None = getattr(request.state, "db", None)
    if session is None:
        return
    request.state.db = None
    if not session.in_transaction():
        session.close()
    elif request.method in READ_METHODS and _in_process(session):
        _finish(session, commit)
    else:
        await run_in_threadpool(_finish, session, commit)
