"""One request, one transaction: the route class commits once after the handler, or rolls back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

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


class TransactionalRoute(APIRoute):
    """Commit before the response leaves, so an acknowledged write is a durable write."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except BaseException:
                session = getattr(request.state, "db", None)
                if session is not None:
                    request.state.db = None
                    await run_in_threadpool(_finish, session, False)
                raise
            session = getattr(request.state, "db", None)
            if session is not None:
                request.state.db = None
                await run_in_threadpool(_finish, session, True)
            response.headers.update(getattr(request.state, "rate_limit_headers", None) or {})
            return response

        return run
