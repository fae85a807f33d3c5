"""Core SELECTs on the driver's cursor (``db.reads.execute_core``): the same rows SQLAlchemy's own execution
gives, the same errors, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, create_engine, event, func, literal, select, text, update
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Session

from openmira.auth.scope import scope_values
from openmira.credentials.service import _GRANT
from openmira.db.greenlets import run_in_greenlet
from openmira.db.reads import _prepare, execute_core
from openmira.db.session import ReadConnection, make_async_read_engine, make_engine, make_read_engine
from openmira.demo.seed import org_identity, seed_orgs
from openmira.findings import listing, service
from openmira.findings.filters import parse_filters
from openmira.findings.models import Finding, FindingOwner
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org

SEED = 11
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
ORGS = Organization.__table__


@pytest.fixture
def accounts(db: Session) -> list[uuid.UUID]:
    """Two seeded organizations, sub-accounts of an MSP."""
    seed_orgs(db, orgs=2, findings=60, seed=SEED, as_of=AS_OF)
    ids = [org_identity(SEED, i)[1] for i in range(2)]
    msp = create_org(db, "Reads MSP", msp=True)
    db.execute(update(Organization).where(Organization.id.in_(ids)).values(parent_id=msp.id))
    db.commit()
    return ids


def _statements(db: Session, accounts: list[uuid.UUID]) -> list[tuple[str, Any, dict[str, Any]]]:
    """The app's own statements, with the values it binds: one account and several (an expanding IN and one
    parameter per account), filtered and ordered lists and their counts, look-ups by ID (the details: a row
    per owner), people, key pairs."""
    dialect = db.get_bind().dialect.name
    most_owned = (
        select(FindingOwner.finding_id)
        .join(Finding, Finding.id == FindingOwner.finding_id)
        .where(Finding.org_id == accounts[0])
        .group_by(FindingOwner.finding_id)
        .order_by(func.count().desc(), FindingOwner.finding_id)
        .limit(1)
    )
    finding = db.get(Finding, db.scalar(most_owned))
    assert finding is not None
    assert db.scalar(select(func.count()).where(FindingOwner.finding_id == finding.id)) >= 2
    cases: list[tuple[str, Any, dict[str, Any]]] = []
    for query in ("", "status=40&priority.in=1,2,3&blocked=false", "name.contains=a&created.gt=2025-11-15T00:00:00Z"):
        filters = parse_filters([tuple(p.split("=", 1)) for p in query.split("&") if p], dialect)  # type: ignore[misc]
        for order_by in (None, "priority;asc,modified;desc"):
            order = listing.parse_order(order_by, listing.ORDER_FIELDS, default=listing.DEFAULT_ORDER)
            for scope in ([accounts[0]], accounts):
                values = {
                    **filters.values, **{f"org_{i}": org for i, org in enumerate(scope)}, "limit": 7, "offset": 3,
                    "depth": 10, "org_ids": scope,
                }
                name = f"{query or 'all'} {order_by} x{len(scope)}"
                cases.append((f"page {name}", listing._page_statement(len(scope), filters.clauses, order), values))
                cases.append((f"count {name}", listing._count_statement(len(scope), filters.clauses), values))
    for columns in ("ref", "finding", "details"):
        for scope in ([accounts[0]], accounts, [accounts[1]]):  # the last: another account's ID, no row
            values = {**scope_values(scope), "finding_id": finding.id}
            cases.append((f"{columns} x{len(scope)}", service._by_id(columns, len(scope) == 1), values))
    users = list(db.scalars(text("SELECT id FROM users")).all())[:5]
    cases.append(("people", service._PEOPLE, {"ids": [uuid.UUID(str(u)) if not isinstance(u, uuid.UUID) else u
                                                       for u in users] or [uuid.uuid4()]}))
    cases.append(("key pair", _GRANT, {"client_id": "no-such-client"}))
    cases.append(("constant", select(func.count()).select_from(ORGS).where(ORGS.c.name == bindparam("n")), {"n": "x"}))
    return cases


def _compare(cases: list[tuple[str, Any, dict[str, Any]]], expected: list[list[Any]], got: list[list[Any]]) -> None:
    for (name, _, _), want, rows in zip(cases, expected, got, strict=True):
        assert [tuple(row) for row in rows] == [tuple(row) for row in want], name
        # Typed as SQLAlchemy types them (a UUID or timestamp in its wire text, a bool, an int), not as stored.
        assert [[type(v) for v in row] for row in rows] == [[type(v) for v in row] for row in want], name
    assert sum(len(rows) for rows in got) > 100  # the cases read real rows, not only empty results


def test_rows_are_what_sqlalchemy_gives_in_a_session(db: Session, accounts: list[uuid.UUID]) -> None:
    cases = _statements(db, accounts)
    expected = [db.connection().execute(statement, values).all() for _, statement, values in cases]
    _compare(cases, expected, [execute_core(db, statement, values).all() for _, statement, values in cases])


def test_rows_are_what_sqlalchemy_gives_on_the_read_paths(
    db: Session, engine: Engine, accounts: list[uuid.UUID]
) -> None:
    """As read-only requests read: a plain connection of the read engine (autocommit on PostgreSQL), in a
    worker thread; on PostgreSQL also asyncpg in a greenlet on the event loop, a dialect of
    its own."""
    cases = _statements(db, accounts)
    expected = [db.connection().execute(statement, values).all() for _, statement, values in cases]
    db.rollback()

    def read_all(reader: ReadConnection) -> list[list[Any]]:
        try:
            return [execute_core(reader, statement, values).all() for _, statement, values in cases]
        finally:
            reader.close()

    _compare(cases, expected, read_all(ReadConnection(make_read_engine(engine))))
    async_engine = make_async_read_engine(engine)
    if async_engine is None:
        assert engine.dialect.name == "sqlite"  # SQLite has nothing to wait for: no asyncio engine
        return

    async def on_the_loop() -> list[list[Any]]:
        try:
            reader = ReadConnection(make_read_engine(async_engine.sync_engine))
            return await run_in_greenlet(lambda: read_all(reader))
        finally:
            await async_engine.dispose()

    _compare(cases, expected, asyncio.run(on_the_loop()))


def test_rows_have_the_columns_by_sqlalchemys_names(db: Session, accounts: list[uuid.UUID]) -> None:
    user = db.execute(text("SELECT id, email FROM users WHERE email IS NOT NULL ORDER BY email")).first()
    assert user is not None
    (person,) = execute_core(db, service._PEOPLE, {"ids": [uuid.UUID(str(user.id))]}).all()
    assert (person.email, person[1]) == (user.email, user.email)
    finding = db.scalars(select(Finding).where(Finding.org_id == accounts[1])).first()
    assert finding is not None
    ref = execute_core(db, service._by_id("ref", True), {"org_0": accounts[1], "finding_id": finding.id}).first()
    assert (ref.id, ref.org_id) == (finding.id, accounts[1])
    shown = service._by_id("finding", True)
    (row,) = execute_core(db, shown, {"org_0": accounts[1], "finding_id": finding.id}).all()
    # Named by the statement's column keys, where SQLAlchemy tells repeated names apart (name, name_1).
    assert row._fields == tuple(shown.selected_columns.keys())
    assert (row.name, row.name_1) == (finding.name, db.get(Organization, accounts[1]).name)  # type: ignore[union-attr]


def test_the_result_helpers(db: Session, accounts: list[uuid.UUID]) -> None:
    names = select(ORGS.c.name).where(ORGS.c.id.in_(bindparam("ids", expanding=True))).order_by(ORGS.c.name)
    expected = sorted(db.scalars(select(Organization.name).where(Organization.id.in_(accounts))).all())
    assert execute_core(db, names, {"ids": accounts}).scalars() == expected
    assert execute_core(db, names, {"ids": accounts}).scalar() == expected[0]
    assert execute_core(db, names, {"ids": accounts[:1]}).scalar_one() in expected
    assert execute_core(db, names, {"ids": [uuid.uuid4()]}).first() is None
    with pytest.raises(NoResultFound):
        execute_core(db, names, {"ids": [uuid.uuid4()]}).scalar_one()
    with pytest.raises(MultipleResultsFound):
        execute_core(db, names, {"ids": accounts}).scalar_one()


def test_only_reads_are_run(db: Session, accounts: list[uuid.UUID]) -> None:
    """Refused before anything reaches the database: a statement that is not a SELECT, a SELECT whose CTE
    writes, one that locks rows, and what this path would otherwise ignore (execution options)."""
    before = db.scalars(select(Organization.name).where(Organization.id == accounts[0])).one()
    renamed = update(ORGS).where(ORGS.c.id == accounts[0]).values(name="changed")
    writing_cte = select(ORGS.c.id).add_cte(renamed.returning(ORGS.c.id).cte("renamed"))
    refused = [
        (renamed, "SELECTs only"),
        (writing_cte, "writes or locks"),
        (select(ORGS.c.id).execution_options(stream_results=True), "execution options"),
    ]
    locking = select(ORGS.c.id).with_for_update()
    if db.get_bind().dialect.name == "postgresql":
        refused.append((locking, "writes or locks"))
    else:  # SQLite has no row locks: SQLAlchemy leaves the clause out, and the read runs
        assert len(execute_core(db, locking).all()) >= 2
    for statement, message in refused:
        with pytest.raises(TypeError, match=message):
            execute_core(db, statement)
    db.rollback()
    assert db.scalars(select(Organization.name).where(Organization.id == accounts[0])).one() == before


def test_a_driver_error_is_sqlalchemys_without_the_bound_values(db: Session) -> None:
    secret = "s3cret-value-not-for-logs"
    broken = select(func.no_such_function(bindparam("v")))
    with pytest.raises(DBAPIError) as raised:
        execute_core(db, broken, {"v": secret})
    assert "no_such_function" in str(raised.value)
    assert secret not in str(raised.value)
    assert not raised.value.connection_invalidated
    db.rollback()
    assert execute_core(db, select(func.count()).select_from(ORGS)).scalar_one() >= 0


def test_a_driver_error_on_a_read_connection_ends_as_in_a_session(engine: Engine) -> None:
    """On SQLite the read connection reads on the pool's connection itself (on PostgreSQL's threads' engine
    through a Connection, which sets autocommit); the failure still goes through SQLAlchemy's handling, and
    the connection goes back to the pool usable."""
    reader = ReadConnection(make_read_engine(engine))
    execute_core(reader, select(func.count()).select_from(ORGS)).scalar_one()
    assert (reader._pooled is not None) == (engine.dialect.name == "sqlite")
    with pytest.raises(DBAPIError) as raised:
        execute_core(reader, select(func.no_such_function(bindparam("v"))), {"v": "s3cret-value-not-for-logs"})
    assert "no_such_function" in str(raised.value) and "s3cret" not in str(raised.value)
    assert not raised.value.connection_invalidated
    reader.close()
    assert not reader.connected
    assert execute_core(reader, select(func.count()).select_from(ORGS)).scalar_one() >= 0
    reader.close()


def test_a_read_connection_that_cannot_connect_raises_sqlalchemys_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'openmira.db'}")
    with pytest.raises(DBAPIError) as raised:
        execute_core(ReadConnection(make_read_engine(engine)), select(literal(1)))
    assert "unable to open database file" in str(raised.value)


def test_a_dead_connection_is_invalidated_and_replaced(postgres_url: str) -> None:
    """PostgreSQL only: SQLite runs in the process, its connection cannot die under it."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    statement = select(func.abs(bindparam("n")))
    try:
        with Session(engine) as session:
            assert execute_core(session, statement, {"n": -2}).scalar_one() == 2
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with make_engine(postgres_url).connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            with pytest.raises(DBAPIError) as raised:
                execute_core(session, statement, {"n": -3})
            assert raised.value.connection_invalidated
        with Session(engine) as session:  # the pool gave the dead connection up: its one slot works again
            assert execute_core(session, statement, {"n": -4}).scalar_one() == 4
    finally:
        engine.dispose()


def test_a_dead_connection_of_the_loops_read_engine_is_invalidated_and_replaced(postgres_url: str) -> None:
    """The loop's read engine reads on the pool's connection without a ``Connection`` around it: a backend
    killed under it still ends as SQLAlchemy ends it (invalidated, the pool's slot freed)."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    async_engine = make_async_read_engine(engine)
    assert async_engine is not None
    statement = select(func.abs(bindparam("n")))
    read_engine = make_read_engine(async_engine.sync_engine)

    def reads() -> None:
        reader = ReadConnection(read_engine)
        assert execute_core(reader, statement, {"n": -2}).scalar_one() == 2
        pid = execute_core(reader, select(func.pg_backend_pid())).scalar_one()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        with pytest.raises(DBAPIError) as raised:
            execute_core(reader, statement, {"n": -3})
        assert raised.value.connection_invalidated
        reader.close()
        again = ReadConnection(read_engine)  # the pool's one slot works again
        assert execute_core(again, statement, {"n": -4}).scalar_one() == 4
        again.close()

    async def run() -> None:
        try:
            await run_in_greenlet(reads)
        finally:
            await async_engine.dispose()

    try:
        asyncio.run(run())
    finally:
        engine.dispose()


def test_the_loops_read_engine_ends_a_failed_or_cancelled_read_as_sqlalchemy_does(postgres_url: str) -> None:
    """The loop's read engine runs a statement in one wait on asyncpg's connection, and its pool resets
    nothing at checkin (autocommit). A driver error is SQLAlchemy's, without the bound values, and the same
    backend goes on idle, in no transaction; a read cancelled mid-statement invalidates its connection, and
    the pool's one slot works again at once."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    async_engine = make_async_read_engine(engine)
    assert async_engine is not None
    read_engine = make_read_engine(async_engine.sync_engine)
    backend_state = "SELECT state FROM pg_stat_activity WHERE pid = :pid"

    def failing() -> tuple[int, int]:
        reader = ReadConnection(read_engine)
        pid = execute_core(reader, select(func.pg_backend_pid())).scalar_one()
        with pytest.raises(DBAPIError) as raised:
            execute_core(reader, select(func.no_such_function(bindparam("v"))), {"v": "s3cret-value-not-for-logs"})
        assert "no_such_function" in str(raised.value) and "s3cret" not in str(raised.value)
        assert not raised.value.connection_invalidated
        reader.close()
        with engine.connect() as observer:  # back in the pool: idle, not in a failed transaction
            assert observer.execute(text(backend_state), {"pid": pid}).scalar_one() == "idle"
        again = ReadConnection(read_engine)
        same = execute_core(again, select(func.pg_backend_pid())).scalar_one()
        again.close()
        return pid, same

    def sleeping() -> None:
        reader = ReadConnection(read_engine)
        try:
            execute_core(reader, select(func.pg_sleep(bindparam("s"))), {"s": 30})
        finally:
            reader.close()

    def new_read_backend() -> int:
        reader = ReadConnection(read_engine)
        try:
            return execute_core(reader, select(func.pg_backend_pid())).scalar_one()
        finally:
            reader.close()

    async def run() -> tuple[int, int, int, int]:
        try:
            pid, same = await run_in_greenlet(failing)
            before = await run_in_greenlet(new_read_backend)  # the pool's one backend, before the sleep
            task = asyncio.ensure_future(run_in_greenlet(sleeping))
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            fresh = await asyncio.wait_for(run_in_greenlet(new_read_backend), 10)
            return pid, same, before, fresh
        finally:
            await async_engine.dispose()

    try:
        pid, same, before, fresh = asyncio.run(run())
        assert same == pid  # the failed read's connection went back to the pool usable
        assert fresh != before  # the cancelled read's connection was given up, a new one took its slot
    finally:
        engine.dispose()


def test_postgresql_plans_an_unfiltered_list_once(db: Session, accounts: list[uuid.UUID]) -> None:
    """An unfiltered list's page numbers are in its SQL text, so PostgreSQL settles on one generic plan for
    the prepared statement instead of planning every execution. A filtered list's stay bound: whether it is
    planned for its values is then PostgreSQL's cost-based choice, as before (a generic plan chosen on
    common values would serve rare ones by the wrong index)."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("plans of prepared statements are PostgreSQL's")
    order = listing.parse_order(None, listing.ORDER_FIELDS, default=listing.DEFAULT_ORDER)
    status = parse_filters([("status", "40")], "postgresql")
    engine = make_engine(db.get_bind().url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    reader = ReadConnection(make_read_engine(engine))  # a new connection: no other test's prepared statements
    page = {"org_0": accounts[0], "org_1": accounts[1], "org_ids": accounts[:2], "limit": 7, "offset": 3, "depth": 10}
    try:
        for clauses, values in (((), page), (status.clauses, {**page, **status.values})):
            for accounts_listed in (1, 2):
                statement = listing._page_statement(accounts_listed, clauses, order)
                for _ in range(12):  # psycopg prepares at the 5th; PostgreSQL weighs a generic plan after 5 more
                    assert len(execute_core(reader, statement, values).all()) == 7
        plans = reader.connection().execute(
            text("SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements WHERE statement LIKE :s"),
            {"s": "%findings%"},
        ).all()
    finally:
        reader.close()
        engine.dispose()
    assert len(plans) == 4, plans  # one account and the merge of two, unfiltered and filtered, each prepared
    unfiltered = [(generic, custom) for generic, custom, sql in plans if "LIMIT 7 OFFSET 3" in sql]
    assert len(unfiltered) == 2 and all(generic > 0 and custom == 5 for generic, custom in unfiltered), plans
    filtered = [sql for _, _, sql in plans if "LIMIT 7 OFFSET 3" not in sql]
    assert all(re.search(r"LIMIT \$\d+ OFFSET \$\d+", sql) for sql in filtered), filtered


def _plan(db: Session, statement: Any, values: dict[str, Any]) -> list[str]:
    """The database's plan of ``statement`` as the app sends it (its SQL and bound values, prefixed)."""
    connection = db.connection()
    sqlite = connection.dialect.name == "sqlite"

    def explain(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> tuple[str, Any]:
        return ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params

    event.listen(connection, "before_cursor_execute", explain, retval=True)
    try:
        rows = connection.execute(statement, values).cursor.fetchall()
    finally:
        event.remove(connection, "before_cursor_execute", explain)
    return [str(row[-1]) for row in rows]


def test_a_finding_and_its_details_are_read_by_index(db: Session, accounts: list[uuid.UUID]) -> None:
    """No look-up by ID scans a table: the details' owners are found by the finding's ID (a nested join
    had SQLite build every finding's owners for each request). On PostgreSQL with sequential scans
    disabled, so that a small test table's cheap scan does not hide a missing index path."""
    cases = [case for case in _statements(db, accounts) if case[0].split()[0] in ("ref", "finding", "details")]
    assert len(cases) == 9
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL enable_seqscan = off"))
    for name, statement, values in cases:
        plan = _plan(db, statement, values)
        scans = [step for step in plan if re.match(r"\s*(->\s*)?(SCAN|MATERIALIZE|Seq Scan)", step)]
        assert plan and not scans, (name, plan)


def test_only_statements_that_render_per_execution_are_expanded(db: Session, accounts: list[uuid.UUID]) -> None:
    """A statement with nothing to render per execution runs from its compiled text, without SQLAlchemy's
    expansion pass; one that expands an ``IN`` list or writes its page numbers into its text goes through it
    (the rows of both are compared with SQLAlchemy's above)."""
    dialect = db.get_bind().dialect
    by_name = {name: statement for name, statement, _ in _statements(db, accounts)}
    filtered = "page name.contains=a&created.gt=2025-11-15T00:00:00Z None x1"
    fixed = ["ref x1", "finding x1", "details x1", "key pair", filtered]
    expanded = ["people", "finding x2", "page all None x1", "page all None x2"]
    assert [name for name in fixed + expanded if _prepare(by_name[name], dialect).fixed] == fixed
