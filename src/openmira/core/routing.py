"""One request, one transaction: the route class commits once after the handler, or rolls back (a
read-only request, below, has nothing to commit and is closed).

Where a synchronous handler runs, and its commit with it, in the same place:

- a read (GET) on SQLite runs on the event loop itself. SQLite is in the process: its queries are CPU work
  with nothing to wait for, and an index read bounded by a page is shorter than a hand-off to a worker
  thread, which costs about 0.1 ms of CPU and a GIL switch each way (measured: more than a page query).
- everything else runs in the thread pool, handler and commit in one hand-off: a write's commit may wait
  on the disk (SQLite ``synchronous=FULL``), and PostgreSQL's every statement waits on the network, so
  other requests go on meanwhile.
- a read that may scan many rows asks for the thread pool itself (``run_read(..., long=True)``, used by
  the findings list for substring and regex filters), or on PostgreSQL in the lifespan (below) runs on the
  loop in a wider turn.
- a read through a :data:`DbReader` on PostgreSQL, in the app's lifespan, runs on the event loop in a
  greenlet: its connection is asyncpg's (``db.session.make_async_read_engine``), so the read
  waits for the database without holding the loop and without a thread hand-off, which cost about a third
  of a finding's CPU (measured, issue 11).

Database work in threads, and reads on the loop, run at most ``OPENMIRA_DB_THREADS`` (8) at once; the rest
wait their turn. With anyio's default of 40, 32 concurrent requests on PostgreSQL kept 32 threads and the
event loop fighting for the GIL: p99 of a finding at 32 connections went from 280 ms to 120-130 ms with 8,
at the same or a higher rate (docs/benchmarks.md); reads on the loop all at once did as badly. Long reads
take their turns from anyio's default limiter, so scans never hold the short requests' turns.

A GET route is read-only unless its handler is marked :func:`writes` (reading an agent command advances
it): its session comes from ``Runtime.read_sessions`` (autocommit on PostgreSQL, refuses writes) and is
closed, not committed. A handler or dependency that runs Core statements only takes a :data:`DbReader`
instead: on a read-only route a plain connection of the same read engine (``db.session.ReadConnection``),
without the ORM session's unit of work; on any other route the request's session, in its transaction.

The route itself hands a handler the parameters that only read the request (its session or connection, its
tenant scope, the runtime, its page: dependencies marked :func:`request_local`) rather than FastAPI's
dependency solver, which costs about 5 µs per dependency and request and 10 µs per query parameter (measured,
issue 11). Those that read a query model (the page) are documented as FastAPI documents one, and a 400 lists
their errors where FastAPI listed a solved dependency's.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import weakref
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, get_args, get_origin

from anyio import CapacityLimiter, WouldBlock, to_thread
from fastapi import Depends, Request, Response, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, _effective_route_context_var
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

from openmira.core.errors import ApiError
from openmira.core.path_handler import path_only_app, path_only_handler, path_parameters
from openmira.core.request_local import QueryValidationError, is_request_local, query_parameters, request_local
from openmira.db.greenlets import run_in_greenlet
from openmira.db.session import ReadConnection, Reader, dialect_of, is_read_only
from openmira.runtime import runtime_of

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
READ_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_DB_THREADS = 8
# Per event loop (anyio's RunVar did the same at 1.5% of a finding's CPU on PostgreSQL).
_db_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()
_PATH_PARAMETER = re.compile(r"\{[^{}]*\}")
# Set in a request's state as its route starts calling its own dependencies (``_with_route_arguments``), so that
# one that refuses the request is not called again for its answer (``TransactionalRoute._as_fastapi_answered``).
_CALLED_OWN = "route_dependencies_called"


def set_db_threads(threads: int) -> None:
    """Bound the threads that run database work at once, for the running event loop (the app's lifespan)."""
    _db_limiters[asyncio.get_running_loop()] = CapacityLimiter(threads)


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _db_limiters.get(loop)
    if limiter is None:  # an app driven without its lifespan (some test harnesses)
        limiter = _db_limiters[loop] = CapacityLimiter(DEFAULT_DB_THREADS)
    return limiter


async def _in_db_thread(work: Callable[..., T], *args: Any) -> T:
    return await to_thread.run_sync(work, *args, limiter=_limiter())


async def _on_db_turn(work: Callable[[], T], *, long: bool) -> T:
    """Run ``work`` on the loop, in a greenlet (its database waits yield to the loop; ``db.greenlets``), in a
    turn of the same limiter as the database threads (long reads: of the default one): with every request's
    reads at once, 32 connections on PostgreSQL gave fewer answers a second and a p99 twice as long (measured,
    issue 11).

    A free turn is taken at once: ``async with`` a limiter always yields to the loop first (anyio's
    checkpoint), a turn of the loop per read for nothing (3-4% of a finding's CPU); the read itself yields
    soon enough, at its first wait for the database."""
    limiter = to_thread.current_default_thread_limiter() if long else _limiter()
    try:
        limiter.acquire_nowait()
    except WouldBlock:
        await limiter.acquire()
    try:
        return await run_in_greenlet(work)
    finally:
        limiter.release()


def writes(handler: F) -> F:
    """Mark a GET handler that writes (it gets a read-write transaction, committed after it). It goes below
    the route's decorator: the route reads the mark when it is registered."""
    if getattr(handler, "routed", False):
        raise TypeError(f"@writes must come below the route decorator of {handler.__name__}")
    handler.writes = True  # type: ignore[attr-defined]
    return handler


def _read_only(request: Request) -> bool:
    return getattr(request.scope.get("route"), "read_only", False)


def _state(request: Request) -> dict[str, Any]:
    """The request's state (what ``request.state`` reads and writes), as its dict: ``request.state`` answers a
    missing name with an exception it builds, and a read-only request looked up four that are missing as a rule
    (a finding's instructions went from 0.93x to 0.86x of round 11's on SQLite without them, issue 11)."""
    return request.scope.setdefault("state", {})  # type: ignore[no-any-return]


@request_local
async def get_db(request: Request) -> Session:
    state = _state(request)
    session: Session | None = state.get("db")
    if session is None:
        # Creating a Session does no I/O; a connection is taken on first use.
        runtime = runtime_of(request)
        session = state["db"] = runtime.read_sessions() if _read_only(request) else runtime.sessions()
    return session


DbSession = Annotated[Session, Depends(get_db)]


@request_local
async def get_reader(request: Request) -> Reader:
    if not _read_only(request):
        return await get_db(request)
    state = _state(request)
    reader: ReadConnection | None = state.get("reader")
    if reader is None:
        reader = state["reader"] = read_connection(request)
    return reader


def read_connection(request: Request) -> ReadConnection:
    """A new read-only connection for ``request``'s reads, where the lifespan keeps them for this loop
    (Runtime.loop_reads): PostgreSQL's engine whose reads wait on the loop, or the connection SQLite's reads on
    the loop keep; else the threads' engine and the pool. It takes no connection yet: that happens on first
    use, where the read runs (``run_read``, which gives it back)."""
    state = _state(request)
    engine = state.get("read_engine") or runtime_of(request).read_engine
    return ReadConnection(engine, state.get("loop_connection"))


# For Core statements only: a read-only route's connection, or any other route's session. A handler that
# takes one does all its database work through it (its reads may run in a greenlet on the loop, where a
# session of its own would block the loop).
DbReader = Annotated[Reader, Depends(get_reader)]


def _finish(db: Reader, commit: bool) -> None:
    if is_read_only(db):
        db.close()  # nothing to commit, nothing to roll back
        return
    assert isinstance(db, Session)
    try:
        if commit:
            db.commit()
        else:
            db.rollback()
    finally:
        db.close()


def _in_process(db: Reader) -> bool:
    """Whether the database runs inside this process (SQLite): nothing to wait for."""
    return dialect_of(db) == "sqlite"


def _work_and_finish(sessions: list[Reader], work: Callable[[], T]) -> T:
    """Run ``work``, then commit the sessions it used (or roll them back if it raised), where it ran (read-only
    sessions and connections are closed)."""
    try:
        result = work()
    except BaseException:
        for session in sessions:
            _finish(session, False)
        raise
    for session in sessions:
        _finish(session, True)
    return result


async def run_query(session: Reader, work: Callable[[], T]) -> T:
    """Run a query of the request's session where the module's rule says, for dependencies that read before
    the handler (the MSP scopes, the console's page look-ups), and end its transaction there.

    Ending it gives the connection back before the request waits for the handler's turn on a database
    thread: a request holding a connection while it waits for a thread, beside threads waiting for a
    connection, could otherwise deadlock until the pool's timeout. (The handler's own queries are still
    scoped by what the dependency found, so a change between the two is a 404, never a leak.)"""

    def query_and_end() -> T:
        if is_read_only(session):
            try:
                return work()
            finally:
                session.close()  # nothing to commit; the next use takes a connection again
        result = work()
        session.commit()
        return result

    return await _run_where_it_belongs([session], query_and_end, long=False)


def _on_loop(dbs: list[Reader]) -> bool:
    """Whether ``dbs`` read on the event loop, in a greenlet (all of them or none: see ``_with_route_arguments``)."""
    return any(isinstance(db, ReadConnection) and db.on_loop for db in dbs)


async def _run_where_it_belongs(dbs: list[Reader], work: Callable[[], T], *, long: bool) -> T:
    """Run ``work``, which uses ``dbs``, where the module's rule says for a read (and for a dependency's
    look-up through the request's session, ``run_query``)."""
    if _on_loop(dbs):
        return await _on_db_turn(work, long=long)
    if not long and all(_in_process(db) for db in dbs):
        return work()
    if long:
        return await run_in_threadpool(work)
    return await _in_db_thread(work)


async def _run_and_finish(sessions: list[Reader], work: Callable[[], T], *, read: bool, long: bool = False) -> T:
    """Run ``work`` and finish its sessions where the module's rule says."""
    if read:
        return await _run_where_it_belongs(sessions, functools.partial(_work_and_finish, sessions, work), long=long)
    return await _in_db_thread(_work_and_finish, sessions, work)


async def run_read(session: Reader, work: Callable[[], T], *, long: bool = False) -> T:
    """Run a read and finish its transaction where the module's rule says (``long``: it may scan many rows)."""
    return await _run_and_finish([session], work, read=True, long=long)


def _request_local_dependency(annotation: Any) -> Callable[[Request], Awaitable[Any]] | None:
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, params.Depends) and is_request_local(meta.dependency):
                return meta.dependency
    return None


def _own_parameters(dependency: Callable[..., Awaitable[Any]]) -> list[inspect.Parameter]:
    """The path parameters a route's own request-local dependency takes besides the request (an MSP account's
    ID), as keyword-only parameters."""
    taken = [
        parameter
        for parameter in inspect.signature(dependency, eval_str=True).parameters.values()
        if parameter.annotation is not Request
    ]
    for parameter in taken:
        in_path = get_origin(parameter.annotation) is Annotated and any(
            isinstance(meta, params.Path) for meta in get_args(parameter.annotation)[1:]
        )
        if not in_path:
            raise TypeError(f"{dependency.__name__}: a route's own dependency takes the request and path parameters")
    return [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in taken]


def _with_route_arguments(
    endpoint: Callable[..., Any], *, read: bool, first: list[Callable[..., Awaitable[Any]]]
) -> Callable[..., Awaitable[Any]]:
    """The endpoint as FastAPI sees it: without the parameters the route provides (``request_local``), with
    the request and the path parameters of the route's own dependencies, and, for a synchronous handler, run
    and committed where the module's rule says. ``first`` are the route's own request-local dependencies (a
    tenant prefix's scope), called before the rest with their path parameters.

    ``app.dependency_overrides`` do not reach the parameters or the own dependencies the route provides
    (nothing overrides them)."""
    signature = inspect.signature(endpoint, eval_str=True)
    own = {dependency: _own_parameters(dependency) for dependency in first}
    taken = [parameter for parameters in own.values() for parameter in parameters]
    if clash := {p.name for p in taken} & set(signature.parameters):
        raise TypeError(f"{endpoint.__name__} takes {sorted(clash)}, which the route's own dependency takes")
    provided = {
        name: dependency
        for name, parameter in signature.parameters.items()
        if (dependency := _request_local_dependency(parameter.annotation)) is not None
    }
    if takes_path := [name for name, dependency in provided.items() if _own_parameters(dependency)]:
        # Only a route's own dependency gets its path parameters (a handler's gets the request alone).
        raise TypeError(f"{endpoint.__name__}: {takes_path} take path parameters; make them the route's dependencies")
    if get_db in provided.values() and get_reader in provided.values():
        # A read-only route's reader may wait on the event loop (in a greenlet) and a session in a thread:
        # one handler's reads run in one place.
        raise TypeError(f"{endpoint.__name__} takes both a DbSession and a DbReader; take one")
    request_name = next((n for n, p in signature.parameters.items() if p.annotation is Request), None)
    kept = [p for n, p in signature.parameters.items() if n not in provided]
    if request_name is None:
        request_name = "_route_request"
        kept.append(inspect.Parameter(request_name, inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    # After the handler's own: FastAPI documented a route dependency's parameters after the handler's.
    kept.extend(taken)
    handler_takes_request = request_name in signature.parameters
    is_async = inspect.iscoroutinefunction(endpoint)
    calls = [(dependency, [parameter.name for parameter in parameters]) for dependency, parameters in own.items()]

    @functools.wraps(endpoint)
    async def run(**arguments: Any) -> Any:
        request: Request = arguments[request_name] if handler_takes_request else arguments.pop(request_name)
        _state(request)[_CALLED_OWN] = True
        for dependency, names in calls:
            await dependency(request, **{name: arguments.pop(name) for name in names})
        for name, dependency in provided.items():
            arguments[name] = await dependency(request)
        if is_async:
            return await endpoint(**arguments)
        sessions = [value for value in arguments.values() if isinstance(value, (Session, ReadConnection))]
        return await _run_and_finish(sessions, functools.partial(endpoint, **arguments), read=read)

    run.__signature__ = signature.replace(parameters=sorted(kept, key=lambda p: p.kind))  # type: ignore[attr-defined]
    run.route_endpoint = endpoint  # type: ignore[attr-defined]
    run.provided = list(provided.values())  # type: ignore[attr-defined]
    run.own = calls  # type: ignore[attr-defined]
    return run


class TransactionalRoute(APIRoute):
    """Commit before the response leaves, so an acknowledged write is a durable write; a read-only route
    (a GET whose handler is not marked :func:`writes`) reads through a read-only session and closes it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        endpoint = getattr(endpoint, "route_endpoint", endpoint)  # a route re-registered elsewhere (api._mount)
        self.read_only = methods <= READ_METHODS and not getattr(endpoint, "writes", False)
        endpoint.routed = True  # type: ignore[attr-defined]
        dependencies: list[params.Depends] = list(kwargs.pop("dependencies", None) or [])
        first = [d.dependency for d in dependencies if is_request_local(d.dependency)]
        kwargs["dependencies"] = [d for d in dependencies if not is_request_local(d.dependency)]
        run = _with_route_arguments(endpoint, read=self.read_only, first=first)
        # The query parameters the route reads itself (the page), documented where FastAPI put them: after the
        # route's own parameters, before those its ``openapi_extra`` lists (a list's filters).
        self.query_dependencies = [d for d in [*first, *run.provided] if getattr(d, "query_model", None)]
        extra = dict(kwargs.get("openapi_extra") or {})
        listed = {(p["name"], p["in"]) for p in extra.get("parameters", [])}  # a route registered again lists them
        documented = [
            p
            for d in self.query_dependencies
            for p in query_parameters(d.query_model)
            if (p["name"], p["in"]) not in listed
        ]
        if documented:
            extra["parameters"] = [*documented, *extra.get("parameters", [])]
            kwargs["openapi_extra"] = extra
        super().__init__(path, run, **kwargs)
        # Served where it is registered, a path-only route skips what FastAPI's request_response adds for nothing
        # (core.path_handler; its handler is built again for this, once). An included route is served by the app
        # FastAPI builds for its inclusion; a route with a body limit of its own keeps FastAPI's, which applies it.
        path_only = path_only_handler(self.dependant, self.endpoint)
        if path_only is not None and self.max_body_size is None:
            self.app = path_only_app(self._finishing(path_only))
        # FastAPI's are those it solves (a router including this route adds them to its own); all of them, the
        # route's request-local ones too, are for a route registered again from this one (api._mount).
        self.declared_dependencies = dependencies
        # The path's text after its last parameter, which a request's path that matches this route ends with (or
        # with it and a newline, before which the regex's ``$`` also matches), and its text between parameters
        # before that, which such a path holds.
        parts = _PATH_PARAMETER.split(self.path_format)
        self.endings = (parts[-1], parts[-1] + "\n")
        self.literals = tuple(part for part in parts[:-1] if part)
        # The route's own request-local dependencies (a tenant scope) with the fields of their path parameters
        # (an MSP account's ID), which FastAPI validates as the handler's.
        fields = {field.name: field for field in self.dependant.path_params}
        self.own_dependencies = [(dependency, [fields[name] for name in names]) for dependency, names in run.own]
        # FastAPI solved a route's dependencies before the handler's parameters, the page's among them: a 400 lists
        # the parameters of the route's own request-local dependencies first, then those of the route dependencies
        # FastAPI solves (``solved_first``), then the page's, then the rest.
        self.own_parameters = {("path", field.alias) for _, own in self.own_dependencies for field in own}
        self.solved_first = {
            (field.field_info.in_.value, field.alias)  # type: ignore[attr-defined]
            for dependant in self.dependant.dependencies[: len(kwargs["dependencies"])]
            for field in get_flat_params(dependant)
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """As FastAPI matches, but a path that lacks a piece of this route's text is refused first.

        The router tries its routes in order until one matches, each at about 1 µs (FastAPI's route context, the
        route's path, its regex): 18 routes before a finding's details, 32 to 50 before an MSP account's. The
        test refuses nothing the regex would match: the path the regex reads is the end of the request's path
        (behind any root path), and holds the route's text between its parameters, ending with its last (or
        with it and a newline)."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if not path.endswith(self.endings):
                return Match.NONE, {}
            for literal in self.literals:
                if literal not in path:
                    return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        # A route that takes nothing from FastAPI but its path runs without FastAPI's request handler
        # (core.path_handler); any other keeps it. A route included in a router is built from what FastAPI sets
        # for it meanwhile: its dependant there holds the including routers' dependencies and prefix.
        context = _effective_route_context_var.get()
        included = context is not None and context.original_route is self
        path_only = path_only_handler(context.dependant if included else self.dependant, self.endpoint)
        return self._finishing(path_only or super().get_route_handler())

    def _finishing(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` as this route runs it: its request's session and connection finished (committed if it
        answered), a 400 in FastAPI's order, the rate-limit headers on its answer."""

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except (RequestValidationError, ApiError) as exc:
                try:
                    answer = await self._as_fastapi_answered(request, exc)
                finally:
                    await _finish_request(request, commit=False)
                if answer is exc:
                    raise
                raise answer from None
            except BaseException:
                await _finish_request(request, commit=False)
                raise
            await _finish_request(request, commit=True)
            rate_limit_headers: dict[str, str] | None = _state(request).get("rate_limit_headers")
            if rate_limit_headers:
                # Appended as Starlette writes a header (its name in lower case): no handler sets these, and
                # setting them by name, which looks for each in the response's headers first, was about 2% of a
                # finding in a sampling profile (issue 11).
                response.raw_headers.extend(
                    (name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in rate_limit_headers.items()
                )
            return response

        return run

    async def _as_fastapi_answered(self, request: Request, exc: RequestValidationError | ApiError) -> Exception:
        """What FastAPI answered when it solved what the route now provides itself (``request_local``): the
        route's own dependencies first (what one raises is the answer), a 400's errors in FastAPI's order."""
        if isinstance(exc, RequestValidationError) and (
            isinstance(exc, QueryValidationError)  # raised by the route, after its own dependencies
            or any(error.get("type") == "json_invalid" for error in exc.errors())  # FastAPI's first and only
        ):
            return exc
        if not _state(request).get(_CALLED_OWN):
            # FastAPI refused the handler's parameters, or one of its dependencies refused the request, before the
            # route called its own: FastAPI called each of those whose parameters are valid first, and what it
            # raises (a 403, a 404) is the answer.
            for dependency, fields in self.own_dependencies:
                values, failed = path_parameters(fields, request.path_params)
                if not failed:
                    await dependency(request, **values)
        if isinstance(exc, ApiError) or not (self.query_dependencies or self.own_parameters):
            return exc
        errors = exc.errors()
        # Put the errors of what the route provides where FastAPI listed them when it solved it (the order is part of
        # the 400): the route's own dependencies', then those it solved before the handler's, the page's, the rest.
        def where(error: Any) -> tuple[Any, ...]:
            return tuple(error.get("loc", ())[:2])

        own = [e for e in errors if where(e) in self.own_parameters]
        first = [e for e in errors if where(e) in self.solved_first]
        rest = [e for e in errors if where(e) not in self.own_parameters and where(e) not in self.solved_first]
        page = await _query_errors(request, self.query_dependencies)
        return RequestValidationError([*own, *first, *page, *rest], body=exc.body, endpoint_ctx=exc.endpoint_ctx)


async def _query_errors(request: Request, dependencies: list[Callable[[Request], Awaitable[Any]]]) -> list[Any]:
    errors: list[Any] = []
    for dependency in dependencies:
        try:
            await dependency(request)
        except QueryValidationError as exc:
            errors.extend(exc.errors())
    return errors


async def _finish_request(request: Request, *, commit: bool) -> None:
    """Finish the request's session unless its handler already did (a scope look-up may have opened it), and
    give back its read-only connection (a no-op when it holds none)."""
    state = _state(request)
    reader: ReadConnection | None = state.get("reader")
    try:
        if reader is not None:
            state["reader"] = None
            if reader.connected:  # as a rule the read that used it gave it back
                await _run_where_it_belongs([reader], reader.close, long=False)
    finally:
        await _finish_session(request, commit=commit)


async def _finish_session(request: Request, *, commit: bool) -> None:
    state = _state(request)
    session: Session | None = state.get("db")
    if session is None:
        return
    state["db"] = None
    if not session.in_transaction():
        if session.identity_map:  # objects a finished read left attached; else it is closed or was never used
            session.close()
    elif is_read_only(session):
        session.close()
    elif request.method in READ_METHODS and _in_process(session):
        _finish(session, commit)
    else:
        await _in_db_thread(_finish, session, commit)
