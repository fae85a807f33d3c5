"""Read-only requests (core.routing): a GET route's session comes from ``Runtime.read_sessions``, refuses
every kind of write before it reaches the database, and leaves the shared pool as it found it; a GET handler
marked ``writes`` and every other method keep one committed transaction. The route provides the parameters
that only read the request (its session, the runtime), and FastAPI's OpenAPI document does not see them.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, func, insert, literal, literal_column, select, text, update
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from openmira.core.routing import DbReader, DbSession, TransactionalRoute, run_read, writes
from openmira.db.greenlets import run_in_greenlet
from openmira.db.reads import execute_core
from openmira.db.session import LoopConnection, ReadConnection, Reader, ensure_transaction, make_read_engine
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org
from openmira.runtime import Runtime, RuntimeDep
from tests.conftest import make_runtime, make_settings

ORGS = Organization.__table__


def _rename(session: Reader, org_id: str, name: str, how: str) -> None:
    if how == "orm":
        assert isinstance(session, Session)
        org = session.get(Organization, uuid.UUID(org_id))
        assert org is not None
        org.name = name
        session.flush()
    elif how == "orm_dml":
        assert isinstance(session, Session)
        session.execute(update(Organization).where(Organization.id == uuid.UUID(org_id)).values(name=name))
    elif how == "text":
        statement = text("UPDATE organizations SET name = :name WHERE id = :id")
        session.connection().execute(statement, {"name": name, "id": org_id})
    elif how == "writing_cte":  # PostgreSQL runs it; SQLite has no writing CTEs (a syntax error there)
        statement = text("WITH renamed AS (UPDATE organizations SET name = :name WHERE id = :id RETURNING id) "
                         "SELECT id FROM renamed")
        session.connection().execute(statement, {"name": name, "id": org_id})
    else:  # Core on the connection, as the services write
        session.connection().execute(update(ORGS).where(ORGS.c.id == uuid.UUID(org_id)).values(name=name))


def _app(runtime: Runtime) -> FastAPI:
    router = APIRouter(route_class=TransactionalRoute)

    @router.get("/read/{org_id}")
    def read(org_id: str, session: DbSession, runtime: RuntimeDep) -> dict[str, Any]:
        name = session.scalar(select(Organization.name).where(Organization.id == uuid.UUID(org_id)))
        return {"name": name, "runtime": runtime is not None}

    @router.get("/sneaky-write/{org_id}")
    def sneaky_write(org_id: str, how: str, session: DbSession) -> dict[str, str]:
        _rename(session, org_id, "written by a GET", how)
        return {"status": "written"}

    @router.get("/insert-then-read")
    def insert_then_read(session: DbSession) -> dict[str, str]:
        session.connection().execute(insert(ORGS).values(id=uuid.uuid4(), name="never", kind="org", license="FREE"))
        return {"status": "inserted"}

    @router.get("/declared-write/{org_id}")
    @writes
    def declared_write(org_id: str, session: DbSession) -> dict[str, str]:
        _rename(session, org_id, "written by a declared GET", "connection")
        return {"status": "written"}

    @router.get("/reader/{org_id}")
    def read_core(org_id: str, db: DbReader) -> dict[str, Any]:
        name = execute_core(db, select(ORGS.c.name).where(ORGS.c.id == uuid.UUID(org_id))).scalar()
        return {"name": name, "connection": isinstance(db, ReadConnection)}

    @router.get("/reader-sneaky-write/{org_id}")
    def reader_sneaky_write(org_id: str, how: str, db: DbReader) -> dict[str, str]:
        _rename(db, org_id, "written by a GET", how)
        return {"status": "written"}

    @router.post("/reader-write/{org_id}")
    def reader_write(org_id: str, db: DbReader) -> dict[str, Any]:
        _rename(db, org_id, "written through a POST's reader", "connection")
        return {"connection": isinstance(db, ReadConnection)}

    @router.post("/write/{org_id}")
    def write(org_id: str, session: DbSession) -> dict[str, str]:
        _rename(session, org_id, "written by a POST", "orm")
        return {"status": "written"}

    @router.post("/write-then-fail/{org_id}")
    def write_then_fail(org_id: str, session: DbSession) -> dict[str, str]:
        _rename(session, org_id, "half a write", "connection")
        raise RuntimeError("after the write")

    app = FastAPI()
    app.state.runtime = runtime
    app.include_router(router)
    return app


@pytest.fixture
def setup(database_url: str, db: Session) -> Iterator[tuple[TestClient, Session, str]]:
    from openmira.db.session import make_engine

    settings = make_settings(database_url)
    # One connection, so every request reuses the connection the previous one gave back to the pool.
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    org = create_org(db, "Read Only Org")
    db.commit()
    try:
        with TestClient(_app(make_runtime(settings, engine)), raise_server_exceptions=False) as client:
            yield client, db, str(org.id)
    finally:
        engine.dispose()


def _name(db: Session, org_id: str) -> str:
    db.expire_all()
    return db.scalar(select(Organization.name).where(Organization.id == uuid.UUID(org_id))) or ""


@pytest.mark.parametrize("how", ["orm", "orm_dml", "text", "writing_cte", "connection"])
def test_a_get_that_writes_without_saying_so_fails_and_changes_nothing(
    setup: tuple[TestClient, Session, str], how: str
) -> None:
    client, db, org_id = setup
    response = client.get(f"/sneaky-write/{org_id}", params={"how": how})
    assert response.status_code == 500
    assert _name(db, org_id) == "Read Only Org"
    # The pool's one connection is usable and clean for the next request.
    assert client.get(f"/read/{org_id}").json() == {"name": "Read Only Org", "runtime": True}


def test_a_read_only_route_reads_core_through_a_plain_connection_and_gives_it_back(
    setup: tuple[TestClient, Session, str],
) -> None:
    client, db, org_id = setup
    pool = client.app.state.runtime.engine.pool  # type: ignore[attr-defined]
    for _ in range(3):  # the pool's one connection, taken and given back each time
        assert client.get(f"/reader/{org_id}").json() == {"name": "Read Only Org", "connection": True}
        assert pool.checkedout() == 0
    # A failed write after those reads, on the same pooled connection, is still rolled back whole.
    assert client.post(f"/write-then-fail/{org_id}").status_code == 500
    assert _name(db, org_id) == "Read Only Org"


@pytest.mark.parametrize("how", ["text", "writing_cte", "connection"])
def test_a_read_only_connection_refuses_writes(setup: tuple[TestClient, Session, str], how: str) -> None:
    client, db, org_id = setup
    assert client.get(f"/reader-sneaky-write/{org_id}", params={"how": how}).status_code == 500
    assert _name(db, org_id) == "Read Only Org"
    assert client.get(f"/reader/{org_id}").json()["name"] == "Read Only Org"


def test_a_reader_on_a_write_route_is_its_session_and_is_committed(setup: tuple[TestClient, Session, str]) -> None:
    client, db, org_id = setup
    assert client.post(f"/reader-write/{org_id}").json() == {"connection": False}
    assert _name(db, org_id) == "written through a POST's reader"


def test_a_get_that_inserts_without_saying_so_leaves_no_row(setup: tuple[TestClient, Session, str]) -> None:
    client, db, _ = setup
    before = db.scalar(select(func.count()).select_from(ORGS))
    assert client.get("/insert-then-read").status_code == 500
    assert db.scalar(select(func.count()).select_from(ORGS)) == before


def test_a_declared_get_write_and_a_post_write_are_committed(setup: tuple[TestClient, Session, str]) -> None:
    client, db, org_id = setup
    assert client.get(f"/declared-write/{org_id}").json() == {"status": "written"}
    assert _name(db, org_id) == "written by a declared GET"
    assert client.post(f"/write/{org_id}").json() == {"status": "written"}
    assert _name(db, org_id) == "written by a POST"


def test_a_failed_write_after_reads_on_the_same_connection_is_rolled_back(
    setup: tuple[TestClient, Session, str],
) -> None:
    """Reads on PostgreSQL run in autocommit on a pooled connection: the pool must hand the next write its
    transaction back, or the write below would be committed statement by statement."""
    client, db, org_id = setup
    for _ in range(3):
        assert client.get(f"/read/{org_id}").status_code == 200
    assert client.post(f"/write-then-fail/{org_id}").status_code == 500
    assert _name(db, org_id) == "Read Only Org"
    assert client.get(f"/read/{org_id}").json()["name"] == "Read Only Org"


def test_a_read_session_holds_no_transaction_open(database_url: str, engine: Any, db: Session) -> None:
    """On PostgreSQL a read is in autocommit: no BEGIN and COMMIT round trips, and no backend left "idle in
    transaction" between its statements. A write session still opens its transaction."""
    runtime = make_runtime(make_settings(database_url), engine)
    with runtime.read_sessions() as read, runtime.sessions() as write, runtime.sessions() as observer:
        if engine.dialect.name != "postgresql":
            read.execute(select(Organization.id)).all()
            assert not read.connection().connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
            return
        state = "SELECT state FROM pg_stat_activity WHERE pid = :pid"
        read_pid = read.scalar(text("SELECT pg_backend_pid()"))
        write_pid = write.scalar(text("SELECT pg_backend_pid()"))
        assert observer.scalar(text(state), {"pid": read_pid}) == "idle"
        assert observer.scalar(text(state), {"pid": write_pid}) == "idle in transaction"


def test_route_provided_parameters_are_not_in_the_openapi_document(setup: tuple[TestClient, Session, str]) -> None:
    client, _, _ = setup
    operation = client.app.openapi()["paths"]["/read/{org_id}"]["get"]  # type: ignore[attr-defined]
    assert [p["name"] for p in operation["parameters"]] == ["org_id"]


def test_writes_above_the_route_decorator_is_refused() -> None:
    router = APIRouter(route_class=TransactionalRoute)
    with pytest.raises(TypeError, match="below the route decorator"):

        @writes
        @router.get("/misplaced")
        def misplaced() -> dict[str, str]:
            return {}


def test_a_handler_takes_a_session_or_a_reader_not_both() -> None:
    router = APIRouter(route_class=TransactionalRoute)
    with pytest.raises(TypeError, match="takes both a DbSession and a DbReader"):

        @router.get("/both")
        def both(session: DbSession, db: DbReader) -> dict[str, str]:
            return {}


def _where_app(runtime: Runtime, *, lifespan: bool) -> FastAPI:
    """A read through a DbReader that says where it ran and holds its connection for a while."""
    router = APIRouter(route_class=TransactionalRoute)

    @router.get("/where/{org_id}")
    def where(org_id: str, db: DbReader, hold: float = 0.0) -> dict[str, Any]:
        name = execute_core(db, select(ORGS.c.name).where(ORGS.c.id == uuid.UUID(org_id))).scalar()
        if hold:
            execute_core(db, select(func.pg_sleep(hold))).all()
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:  # a worker thread runs no loop
            on_loop = False
        return {"name": name, "on_loop": on_loop}

    @router.get("/where-long/{org_id}")
    async def where_long(org_id: str, db: DbReader) -> dict[str, Any]:
        """A read that may scan many rows (the list's substring filters): in a worker thread on either database."""
        statement = select(ORGS.c.name).where(ORGS.c.id == uuid.UUID(org_id))
        return await run_read(db, lambda: {"name": execute_core(db, statement).scalar(), "on_loop": False}, long=True)

    @asynccontextmanager
    async def reads(_: FastAPI) -> AsyncIterator[Mapping[str, Any]]:
        async with runtime.loop_reads() as state:
            yield state

    app = FastAPI(lifespan=reads if lifespan else None)
    app.state.runtime = runtime
    app.include_router(router)
    return app


def test_postgresql_reads_of_a_lifespan_wait_on_its_event_loop(database_url: str, engine: Any, db: Session) -> None:
    """In the app's lifespan a PostgreSQL read through a DbReader runs on the event loop (asyncio psycopg,
    no thread hand-off); without one (a harness that skips it) it runs in a worker thread, as before. More
    reads at once than the database turns (8) and the loop's pool (10 + 20) allow wait their turn, without
    holding the loop, and all are answered."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the asyncio read engine is PostgreSQL's; SQLite reads run on the loop without one")
    org = create_org(db, "Loop Org")
    db.commit()
    runtime = make_runtime(make_settings(database_url), engine)
    with TestClient(_where_app(runtime, lifespan=True)) as client:
        assert client.get(f"/where/{org.id}").json() == {"name": "Loop Org", "on_loop": True}
        with ThreadPoolExecutor(40) as pool:  # 40 reads that each hold their connection for 0.2 s
            answers = list(pool.map(lambda _: client.get(f"/where/{org.id}", params={"hold": 0.2}), range(40)))
        assert [a.status_code for a in answers] == [200] * 40
        assert {a.json()["name"] for a in answers} == {"Loop Org"}
    with TestClient(_where_app(runtime, lifespan=False)) as client:
        assert client.get(f"/where/{org.id}").json() == {"name": "Loop Org", "on_loop": False}


def test_the_loops_reads_are_autocommit_and_a_transaction_they_take_ends_with_the_request(
    database_url: str, engine: Any
) -> None:
    """The loop's read engine connects in autocommit (no BEGIN, nothing left open between statements). A read
    that asks for a transaction (``ensure_transaction``, for the list's ``SET LOCAL``) gets one, and the next
    request's connection from the same pool is autocommit again, without the setting."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the asyncio read engine is PostgreSQL's")
    runtime = make_runtime(make_settings(database_url), engine)
    state = "SELECT state FROM pg_stat_activity WHERE pid = :pid"

    def backend(reader: ReadConnection, observer: Session) -> tuple[int, str, str]:
        pid = execute_core(reader, select(func.pg_backend_pid())).scalar()
        observer.rollback()  # pg_stat_activity is read once per transaction
        setting = execute_core(reader, select(func.current_setting("statement_timeout"))).scalar()
        return pid, observer.scalar(text(state), {"pid": pid}), setting

    async def run() -> list[tuple[int, str, str]]:
        async with runtime.loop_reads() as loop_state:
            read_engine = loop_state["read_engine"]
            assert read_engine.dialect.is_async

            def requests() -> list[tuple[int, str, str]]:
                seen = []
                with runtime.sessions() as observer:
                    first = ReadConnection(read_engine)
                    seen.append(backend(first, observer))
                    ensure_transaction(first)
                    first.connection().execute(text("SET LOCAL statement_timeout = 1234"))
                    seen.append(backend(first, observer))
                    first.close()
                    second = ReadConnection(read_engine)
                    seen.append(backend(second, observer))
                    second.close()
                    # A transaction asked for and then only read through, on the driver's cursor: still ended.
                    third = ReadConnection(read_engine)
                    ensure_transaction(third)
                    execute_core(third, select(func.now())).scalar()
                    third.close()
                    fourth = ReadConnection(read_engine)
                    seen.append(backend(fourth, observer))
                    fourth.close()
                return seen

            return await run_in_greenlet(requests)

    first, in_transaction, second, fourth = asyncio.run(run())
    pid, default = first[0], first[2]
    assert default != "1234ms"
    # The same backend (the pool holds one connection), back in autocommit and without the setting.
    assert [first, in_transaction, second, fourth] == [
        (pid, "idle", default), (pid, "idle in transaction", "1234ms"), (pid, "idle", default), (pid, "idle", default)
    ]


@contextmanager
def _pool_events(engine: Any, name: str) -> Iterator[list[tuple[int, Any]]]:
    """The connections that the pool event ``name`` (checkout, invalidate) reported on ``engine``'s pool while
    in the block, each with the thread it happened on (a kept connection's too: its pool is a copy of the
    engine's, listeners and all)."""
    seen: list[tuple[int, Any]] = []

    def note(dbapi_connection: Any, *_: Any) -> None:
        seen.append((threading.get_ident(), dbapi_connection))

    event.listen(engine.pool, name, note)
    try:
        yield seen
    finally:
        event.remove(engine.pool, name, note)


def test_sqlite_reads_on_the_loop_keep_one_connection_and_see_each_commit(database_url: str, engine: Any) -> None:
    """In the app's lifespan SQLite's reads on the event loop read on the connection the loop keeps: reads take
    nothing from the writers' pool, and each sees what was committed before it. A long read, in a worker
    thread, takes the pool's connection as before and gives it back."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the kept connection is SQLite's; PostgreSQL's reads on the loop have an engine of their own")
    runtime = make_runtime(make_settings(database_url), engine)
    with runtime.sessions() as writer, _pool_events(engine, "checkout") as checkouts:
        org = create_org(writer, "Kept Org")
        writer.commit()
        with TestClient(_where_app(runtime, lifespan=True)) as client:
            for name in ("Kept Org", "Renamed once", "Renamed twice"):
                if name != "Kept Org":
                    writer.execute(update(ORGS).where(ORGS.c.id == org.id).values(name=name))
                    writer.commit()
                taken = len(checkouts)  # the writer's own
                assert client.get(f"/where/{org.id}").json() == {"name": name, "on_loop": True}
                assert len(checkouts) == taken
            assert client.get(f"/where-long/{org.id}").json() == {"name": "Renamed twice", "on_loop": False}
            assert len(checkouts) == taken + 1 and checkouts[-1][0] != threading.get_ident()
            assert engine.pool.checkedout() == 0  # the long read gave its back; the writer's commit ended its own


def _kept_reads(database_url: str, engine: Any, reads: Callable[[LoopConnection, ReadConnection], Any]) -> Any:
    """``reads(kept, reader)`` on the loop, in a lifespan's state; a read on the kept connection can call
    ``kept_only()``, a function only that connection has."""
    runtime = make_runtime(make_settings(database_url), engine)
    read_engine = make_read_engine(engine)

    async def run() -> Any:
        async with runtime.loop_reads() as state:
            kept: LoopConnection = state["loop_connection"]
            kept.here().dbapi_connection.create_function("kept_only", 0, lambda: "kept")  # type: ignore[union-attr]
            return reads(kept, ReadConnection(read_engine, kept))

    return asyncio.run(run())


def test_sqlite_the_kept_connection_has_the_connect_time_settings(database_url: str, engine: Any) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the kept connection is SQLite's")

    def reads(_kept: LoopConnection, reader: ReadConnection) -> tuple[Any, ...]:
        settings = select(
            func.kept_only(),
            select(literal_column("foreign_keys")).select_from(text("pragma_foreign_keys")).scalar_subquery(),
            # REGEXP is RE2's (linear time), which has no backreferences: no match, where Python's re matches.
            literal("aa").regexp_match(r"(a)\1"),
            literal("kerberos").regexp_match("(?i)KERB"),
        )
        return tuple(execute_core(reader, settings).first())  # type: ignore[arg-type]

    assert _kept_reads(database_url, engine, reads) == ("kept", 1, 0, 1)


def test_sqlite_a_failed_read_on_the_kept_connection_is_sqlalchemys_error_and_the_next_read_is_served(
    database_url: str, engine: Any
) -> None:
    """A read that fails on the loop's connection raises as on a pooled one (SQLAlchemy's error, the statement
    named) and the connection serves the next read; a dead one (closed under it) is replaced. Only the loop's
    thread reads on it, and it is closed when the lifespan ends."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the kept connection is SQLite's")

    def reads(kept: LoopConnection, reader: ReadConnection) -> dict[str, Any]:
        seen: dict[str, Any] = {"first": kept.here(), "kept": [kept.here().dbapi_connection]}  # type: ignore[union-attr]
        with pytest.raises(OperationalError, match="no such function: no_such_function"):
            execute_core(reader, select(func.no_such_function()))
        reader.close()  # as the request ends
        seen["after_error"] = execute_core(reader, select(func.kept_only())).scalar()
        kept.here().dbapi_connection.close()  # type: ignore[union-attr]
        with pytest.raises(ProgrammingError, match="closed database") as dead:
            execute_core(reader, select(literal(1)))
        reader.close()
        seen["invalidated"] = dead.value.connection_invalidated
        seen["replaced"] = kept.here() is not seen["first"]
        seen["kept"].append(kept.here().dbapi_connection)  # type: ignore[union-attr]
        seen["after_replacement"] = execute_core(reader, select(literal(41) + 1)).scalar()
        with ThreadPoolExecutor(1) as other:
            seen["elsewhere"] = other.submit(kept.here).result()
        seen["raw"] = kept.here().dbapi_connection  # type: ignore[union-attr]
        return seen

    with _pool_events(engine, "checkout") as checkouts, _pool_events(engine, "invalidate") as invalidated:
        seen = _kept_reads(database_url, engine, reads)
    raw, kept = seen.pop("raw"), seen.pop("kept")
    del seen["first"]
    assert seen == {"after_error": "kept", "invalidated": True, "replaced": True, "after_replacement": 42,
                    "elsewhere": None}
    # Beside the kept connection and its replacement: the first failure's handling, on a pooled connection of
    # its own, given back; no read. The dead connection is the only one invalidated: the writers' pool is not.
    assert len([connection for _, connection in checkouts if connection not in kept]) == 1
    assert [connection for _, connection in invalidated] == kept[:1]
    assert engine.pool.checkedout() == 0
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        raw.execute("SELECT 1")  # closed with the lifespan
