"""Engines and sessions: SQLite (embedded default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.util import is_exit_exception

from openmira.core.regex import sqlite_regexp
from openmira.db.files import create_private_file, sqlite_path

log = logging.getLogger("openmira.db")


def make_engine(url: str, **kwargs: Any) -> Engine:
    # A database error's log record must not carry the bound values (webhook URLs, secret hashes and
    # ciphertexts, e-mail addresses): SQLAlchemy then shows the statement only.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None and path.parent.is_dir():
            create_private_file(path)  # before SQLite creates it with the umask's mode (0644 as a rule)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine)
    return engine


def make_async_read_engine(engine: Engine) -> AsyncEngine | None:
    """On PostgreSQL, an engine on asyncpg's connections for the reads of one event loop (the app's lifespan
    makes and disposes it): a read then waits for the database on the loop, in a greenlet (``core.routing``),
    instead of in a worker thread. The hand-off to a thread and back cost about a third of a finding's CPU
    (measured, issue 11). Its pool is its own, as large as the threads' pool; asyncio connections belong to
    the loop that made them. None on SQLite, which has nothing to wait for, and for a PostgreSQL driver other
    than the threads' psycopg (whose URL the loop's connections read too).

    asyncpg, not psycopg's asyncio connection (the threads' driver): asyncpg reads the server's answers in
    its protocol's callbacks, where psycopg's asyncio connection registers its socket with the loop and
    removes it again for every wait. A finding's statement cost 60 µs of the process's CPU on asyncpg against
    108 on psycopg's asyncio connection (the same statement, one connection, one after the other); a served
    finding's CPU went 0.83x (docs/benchmarks.md, round 13)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return None
    pool = engine.pool
    sizes: dict[str, Any] = {}
    if isinstance(pool, QueuePool):  # the same sizes as the threads' pool
        sizes = {"pool_size": pool.size(), "max_overflow": pool._max_overflow, "pool_timeout": pool.timeout()}
    # Autocommit from its connect on (make_read_engine counts on it), not set per checkout. So nothing is reset
    # when a connection comes back: a raw read opens no transaction, and the one way out of autocommit here
    # (``ensure_transaction``, for a ``SET LOCAL``) begins the ``Connection``'s transaction, which it rolls back
    # when it closes, as it resets the isolation level it set. The pool's rollback was a wait on the loop for
    # nothing, at every request (SQLAlchemy's advice for autocommit pools).
    dsn, connect_args, dropped = asyncpg_arguments(engine.url, os.environ)
    if dropped:
        log.warning(
            "The event loop's PostgreSQL reads (asyncpg) connect without the URL's TCP settings %s, which asyncpg "
            "does not have (the worker threads' connections use them).",
            ", ".join(dropped),
        )
    async_engine = create_async_engine(
        "postgresql+asyncpg://",
        async_creator=functools.partial(_asyncpg_connect, dsn, connect_args),
        hide_parameters=True,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        **sizes,
    )
    _ping_idle_connections(async_engine.sync_engine)
    return async_engine


# libpq's options that asyncpg reads itself, in the same form (it sends any other option of its DSN to the
# server as a setting); and the two of them that are such settings in libpq too.
_ASYNCPG_READS = frozenset({
    "host", "port", "user", "password", "dbname", "passfile", "sslmode", "sslcert", "sslkey", "sslrootcert",
    "sslcrl", "sslpassword", "ssl_min_protocol_version", "ssl_max_protocol_version", "sslnegotiation",
    "target_session_attrs", "krbsrvname", "gsslib", "application_name", "options",
})
# libpq's TCP settings, which asyncpg does not have: the loop's connections go without them (with a warning).
_TCP_SETTINGS = frozenset({
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
})
# libpq's environment variables that asyncpg does not read: translated (PGOPTIONS, PGAPPNAME, PGCONNECT_TIMEOUT),
# or refused where they would change where or how the threads' connections connect. Session defaults (PGTZ,
# PGDATESTYLE) are left: the reads format their values in SQL.
_ENVIRONMENT = {"options": "PGOPTIONS", "application_name": "PGAPPNAME", "connect_timeout": "PGCONNECT_TIMEOUT"}
_REFUSED_ENVIRONMENT = (
    "PGSERVICE", "PGHOSTADDR", "PGREQUIREAUTH", "PGCHANNELBINDING", "PGGSSENCMODE", "PGSSLCERTMODE", "PGSSLCRLDIR",
    "PGREQUIREPEER", "PGCLIENTENCODING",
)


def asyncpg_arguments(url: URL, environ: Mapping[str, str]) -> tuple[str, dict[str, Any], list[str]]:
    """What asyncpg connects with to the database of the threads' URL, which is libpq's (psycopg's) form:
    asyncpg's DSN, its other arguments, and the TCP settings of the URL it goes without.

    asyncpg reads most of libpq's form itself (``_ASYNCPG_READS``). Translated here: ``connect_timeout``
    (asyncpg's ``timeout``, for all hosts together; 0 or less leaves asyncpg's own, 60 s),
    ``fallback_application_name``, a repeated ``host`` (asyncpg keeps the last), and ``PGOPTIONS``,
    ``PGAPPNAME``, ``PGCONNECT_TIMEOUT``. Anything else is refused with a ``ValueError`` naming it: asyncpg
    would send it to the server, which refuses an option it does not know, or connect without a requirement
    the URL states (``require_auth``, ``channel_binding``, ``gssencmode``, ``sslcertmode``), to another address
    (``hostaddr``, ``service``) or in another encoding (``client_encoding``)."""
    query: dict[str, Any] = dict(url.query)
    for option, variable in _ENVIRONMENT.items():
        if option not in query and environ.get(variable):
            query[option] = environ[variable]
    fallback = query.pop("fallback_application_name", None)
    if fallback and "application_name" not in query:
        query["application_name"] = fallback
    if isinstance(query.get("host"), tuple):
        query["host"] = ",".join(query["host"])
    dropped = sorted(option for option in query if option in _TCP_SETTINGS)
    timeout = query.pop("connect_timeout", None)
    refused = sorted(option for option in query if option not in _ASYNCPG_READS | _TCP_SETTINGS)
    if query.get("sslrootcert") == "system":  # libpq 16's system store; asyncpg looks for a file of that name
        refused.append("sslrootcert=system")
    refused += [variable for variable in _REFUSED_ENVIRONMENT if environ.get(variable)]
    if refused:
        raise ValueError(
            f"{', '.join(refused)} (in the database URL or libpq's environment) cannot be honoured by the event "
            "loop's PostgreSQL reads (asyncpg): remove it (docs/deploying.md)"
        )
    for option in dropped:
        del query[option]
    connect_args: dict[str, Any] = {}
    if timeout is not None:
        try:
            seconds = float(str(timeout))
        except ValueError:
            raise ValueError(f"the database URL's connect_timeout is not a number: {timeout!r}") from None
        if seconds > 0:
            connect_args["timeout"] = seconds
    dsn = url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    return dsn, connect_args, dropped


async def _asyncpg_connect(dsn: str, connect_args: dict[str, Any]) -> Any:
    """An asyncpg connection whose UUIDs are Python's, as psycopg's are: asyncpg's own class (a subclass) is
    not one orjson writes."""
    connection = await asyncpg.connect(dsn, **connect_args)
    try:
        await connection.set_type_codec("uuid", schema="pg_catalog", encoder=str, decoder=uuid.UUID, format="text")
    except BaseException:
        connection.terminate()  # no wait: this may be a cancellation
        raise
    return connection


# A connection that sat idle may have been closed by the server (a restart, an idle timeout): it is pinged
# before use, and replaced if dead. One that was in use moments ago is not: a ping per checkout is a round
# trip per request, as much as the request's own query.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()  # not a context manager in every driver adapter (SQLAlchemy 2.0's asyncio)
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:
        # The pool discards this connection and checks out another (SQLAlchemy's pessimistic disconnect
        # handling, as pool_pre_ping does it).
        raise DisconnectionError(f"the pooled connection is dead: {exc}") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged commit
    # durable across a crash of the process or of the machine.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # ``REGEXP`` for regex filters, matched by RE2 (linear time; see openmira.core.regex).
    dbapi_connection.create_function("regexp", 2, sqlite_regexp, deterministic=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class ReadOnlyViolation(RuntimeError):
    """A read-only session was asked to write: a GET handler that writes must say so (``core.routing.writes``)."""


def make_read_engine(engine: Engine) -> Engine:
    """The engine of read-only requests: nothing to commit, so a request ends its connection with a close,
    and on PostgreSQL each statement runs in autocommit, without the ``BEGIN`` and ``COMMIT`` round trips
    around it.

    That changes nothing a reader sees: in READ COMMITTED (PostgreSQL's default, and ours) every statement
    takes its own snapshot inside a transaction too. SQLite (pysqlite) opens no transaction for a ``SELECT``
    either way. It is a copy of ``engine`` on the same pool; the isolation level is set and reset on the
    driver's connection object, with no round trip (not on :func:`make_async_read_engine`'s engine, whose
    connections are autocommit from their connect on: a ``Connection`` would set it again at each checkout
    and reset it at checkin, 4% of a finding).

    Every statement it sends through SQLAlchemy's execution is checked before it reaches the database
    (:func:`_refuse_writes`), whatever path it took (a flush, ORM or Core DML, text), so a write is refused
    whole rather than committed statement by statement; Core reads on the driver's cursor (``db.reads``) are
    checked once, when prepared."""
    # Not for an engine autocommit from its connect on (make_async_read_engine's): SQLAlchemy's own test of it.
    connects_autocommit = engine.dialect._on_connect_isolation_level == "AUTOCOMMIT"  # type: ignore[attr-defined]
    per_checkout = engine.dialect.name == "postgresql" and not connects_autocommit
    options = {"isolation_level": "AUTOCOMMIT"} if per_checkout else {}
    reader = engine.execution_options(**options)
    # The copy's listeners are its own, so writers pay nothing for the check.
    event.listen(reader, "before_cursor_execute", _refuse_writes)
    return reader


def make_read_session_factory(read_engine: Engine) -> sessionmaker[Session]:
    """Sessions on :func:`make_read_engine`'s engine, for read-only requests that use the ORM."""
    return sessionmaker(read_engine, expire_on_commit=False, info={"read_only": True})


class LoopConnection:
    """SQLite's reads on the event loop: one connection that the loop keeps for its lifespan
    (``Runtime.loop_reads``), from a pool of its own beside the engine's, so the writers' pool keeps its size.
    Taking a connection from the pool and giving it back around every read was 8-9% of a finding's
    instructions (measured, issue 11).

    Only the thread that made it reads on it (the loop's); a read elsewhere (a long read in a worker thread)
    takes the pool's connection as before. It holds nothing between two reads: a read on the driver's cursor
    (``db.reads``) runs its statement, fetches every row and closes its cursor without yielding to the loop,
    and pysqlite opens no transaction for a ``SELECT``, so each read sees what was committed before it and no
    read holds back a WAL checkpoint. A read that needs SQLAlchemy's execution (``ReadConnection.connection``:
    text, a failure's handling) takes a pooled connection of its own, as without it. A read that finds it
    gone (a disconnect, to SQLAlchemy) has it replaced, as the pool replaces a connection it invalidates."""

    __slots__ = ("_dialect", "_pool", "_pooled", "_thread")

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect
        self._pool = engine.pool.recreate()  # the same creator and connect-time pragmas
        self._pooled: PoolProxiedConnection | None = self._pool.connect()
        self._thread: int | None = threading.get_ident()

    def here(self) -> PoolProxiedConnection | None:
        """The kept connection, on the thread that may read on it (none once closed); else None."""
        if threading.get_ident() != self._thread:
            return None
        if self._pooled is None:  # replaced after a read found it gone
            self._pooled = self._pool.connect()
        return self._pooled

    def read_failed(self, pooled: PoolProxiedConnection, exc: BaseException, cursor: Any) -> bool:
        """A read on ``pooled`` failed: if it was the kept connection and the failure leaves it in no known
        state (SQLAlchemy's tests: a disconnect, or an exit such as a cancellation), drop it, and say so; the
        next read here takes a new one."""
        if pooled is not self._pooled:
            return False
        dialect = self._dialect
        if not is_exit_exception(exc) and not (
            isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(exc, pooled.dbapi_connection, cursor)
        ):
            return False
        self._pooled = None
        pooled.invalidate(exc)
        return True

    def close(self) -> None:
        self._thread = None
        pooled, self._pooled = self._pooled, None
        if pooled is not None:
            pooled.close()
        self._pool.dispose()


class ReadConnection:
    """A read-only request's connection to :func:`make_read_engine`'s engine, for handlers and dependencies
    that run Core statements only: what they use of a session (``connection()``, ``get_bind()``) without
    the ORM's unit of work around it, whose creation, transaction and close cost 6-10% of a finding by ID's
    instructions (measured, issue 11).

    The pooled connection is taken on first use, as a session takes it, wherever the read runs
    (``core.routing``: on PostgreSQL in a greenlet on the event loop, or a worker thread; never blocking the
    loop). ``close()`` gives it back; the next use takes one again.

    A read on the driver's cursor (``db.reads``) takes the pool's connection without a SQLAlchemy
    ``Connection`` around it where the engine sets nothing per checkout (SQLite's, and the loop's autocommit
    engine on PostgreSQL): making and closing that ``Connection`` was 4-6% of a finding (measured, issue 11).
    What needs SQLAlchemy's execution (``connection()``: text, a failure's handling) gets a ``Connection``
    around the same pooled connection, in the same state.

    With ``loop`` (SQLite, in the app's lifespan), a read on the driver's cursor on the loop's thread reads on
    the connection the loop keeps (:class:`LoopConnection`) and has nothing to give back; ``connection()``
    still takes a pooled one."""

    __slots__ = ("_connection", "_engine", "_loop", "_per_checkout", "_pooled")

    def __init__(self, read_engine: Engine, loop: LoopConnection | None = None) -> None:
        self._engine = read_engine
        self._loop = loop
        self._connection: Connection | None = None
        self._pooled: PoolProxiedConnection | None = None
        # Options a ``Connection`` applies at each checkout and resets at checkin (the threads' autocommit on
        # PostgreSQL): only a ``Connection`` applies them.
        self._per_checkout = bool(read_engine.get_execution_options())

    @property
    def connected(self) -> bool:
        return self._connection is not None or self._pooled is not None

    @property
    def on_loop(self) -> bool:
        """Whether it reads through :func:`make_async_read_engine`'s engine: only in a greenlet on the loop."""
        return self._engine.dialect.is_async

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    def pooled(self) -> PoolProxiedConnection:
        """The pool's connection, or on the loop the one it keeps (:class:`LoopConnection`), for a read on the
        driver's cursor."""
        if self._connection is None and not self._per_checkout:
            if self._pooled is None:
                dialect = self._engine.dialect
                try:
                    kept = self._loop.here() if self._loop is not None else None  # connects again after a drop
                    if kept is not None:
                        return kept  # the loop's, not this request's: nothing to give back
                    self._pooled = self._engine.raw_connection()
                except dialect.loaded_dbapi.Error as exc:  # as Connection() reports it: SQLAlchemy's error
                    Connection._handle_dbapi_exception_noconnection(exc, dialect, self._engine)
            return self._pooled
        return self.connection().connection

    def read_failed(self, pooled: PoolProxiedConnection, exc: BaseException, cursor: Any) -> None:
        """A read on ``pooled`` failed, before SQLAlchemy's handling of it on :meth:`connection`. A failure that
        leaves the loop's kept connection dead is handled here instead, and raised: the connection is dropped
        (:meth:`LoopConnection.read_failed`) and the error raised as SQLAlchemy raises a failed connect's
        (without the statement). SQLAlchemy's handling on a pooled connection would take that healthy
        connection for the dead one and invalidate it, and with it every connection of the writers' pool."""
        if self._loop is not None and self._loop.read_failed(pooled, exc, cursor):
            Connection._handle_dbapi_exception_noconnection(
                exc, self._engine.dialect, self._engine, is_disconnect=True, invalidate_pool_on_disconnect=False
            )

    def connection(self) -> Connection:
        if self._connection is None:
            if self._pooled is not None:  # the connection already taken, now owned by the Connection
                pooled, self._pooled = self._pooled, None
                self._connection = Connection(self._engine, pooled)
            else:
                self._connection = self._engine.connect()
        return self._connection

    def get_bind(self) -> Engine:
        return self._engine

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
        if self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            pooled.close()  # back to the pool (the threads' pool rolls back; the loop's autocommit one has nothing to)


# What a read runs on: a request's session, or a read-only request's connection.
Reader = Session | ReadConnection


# The first words of statements that change something; reads start with SELECT, WITH, SHOW, SET (LOCAL).
_WRITING_WORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY",
     "GRANT", "REVOKE", "CALL", "DO", "VACUUM", "REINDEX", "CLUSTER", "LOCK", "COMMENT", "ATTACH", "DETACH"}
)


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _executemany: bool
) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise ReadOnlyViolation("a read-only request tried to write (an INSERT, UPDATE or DELETE)")
    if statement.startswith("SELECT"):  # every compiled read; text may start anyhow
        return
    words = statement.lstrip()[:16].split(None, 1)  # the first word, without copying a long statement
    first = words[0].upper() if words else ""
    if first in _WRITING_WORDS or (first == "WITH" and has_writing_clause(statement)):
        raise ReadOnlyViolation(f"a read-only request tried to write (a {first} statement)")


# A data-changing or row-locking clause anywhere in a statement: a CTE that inserts (``WITH x AS (INSERT``),
# ``FOR UPDATE``. Whole words, so columns such as ``updated`` or ``last_update`` do not count.
_WRITING_CLAUSE = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b")


def has_writing_clause(sql: str) -> bool:
    """Whether ``sql`` holds a clause that writes or locks rows, in any case."""
    return _WRITING_CLAUSE.search(sql.upper()) is not None


def is_read_only(db: Reader) -> bool:
    """Whether ``db`` is a read-only request's session or connection (nothing to commit)."""
    return isinstance(db, ReadConnection) or db.info.get("read_only", False)


def dialect_of(db: Reader) -> str:
    """The name of ``db``'s database dialect: ``sqlite`` or ``postgresql``."""
    return db.get_bind().dialect.name


def ensure_transaction(db: Reader) -> None:
    """Give ``db`` a transaction for what follows, for settings that last until its end (PostgreSQL's
    ``SET LOCAL``, which does nothing in autocommit). A read-only session or connection ends what it holds
    first (nothing to keep) and goes on in the engine's default isolation level; other sessions already
    have a transaction."""
    if dialect_of(db) != "postgresql" or not is_read_only(db):
        return
    db.close()
    if isinstance(db, ReadConnection):
        connection = db.connection()  # first: an engine's dialect learns its default level on its first connect
        connection.execution_options(isolation_level=connection.dialect.default_isolation_level)
        # Begun here, not by the first statement through it: a read on the driver's cursor (db.reads) would open
        # the driver's transaction without the Connection knowing, and nothing would roll it back (the loop's
        # pool resets nothing at checkin).
        connection.begin()
    else:
        db.connection(execution_options={"isolation_level": db.get_bind().dialect.default_isolation_level})
