"""Core SELECTs run on the driver's cursor: built and compiled by SQLAlchemy, executed without its
per-statement execution layer.

A finding by ID is one short statement, and ``Connection.execute`` around it (the execution context, its
events, the cursor result and its row objects) cost four times the statement itself: 65 µs against 16 on
the cursor, a quarter of the request's CPU in-process, 30% of the details' two statements (measured, issue
11). So the hot reads take this path, and every Core read takes it, so there is one way to run one.

What SQLAlchemy still does: build the statement and compile it for the connection's dialect (once per
statement and dialect, kept as long as the statement lives), bind the values (``construct_params``; or
``construct_expanded_state`` where an ``IN`` list is expanded or a value is written into the text, which
also gives the expanded values' processors), each bound value's and each column's processor (its type's
own), the pool, the connection and its transaction (the caller's session or read-only connection: a read
here is in the same transaction as the rest of the request), and a failure's handling:
``Connection._handle_dbapi_exception``, its one private method used here, so that a driver error, a dead
connection (the pool's other connections too) or a read cancelled mid-statement end exactly as in
SQLAlchemy's own execution (``tests/core/test_core_reads.py`` holds that). A failed read on the connection
SQLite's loop keeps (``db.session.LoopConnection``) is handled on a pooled connection of its own, since the
kept one is not the request's to give back; a dead kept connection is replaced, and its error raised as a
failed connect's. What this module does: the cursor call and the processors' application.

Only reads come here: a statement that is not a SELECT, or whose SQL holds a writing clause (a CTE that
inserts, ``FOR UPDATE``), is refused when it is first prepared, so the read-only engine's per-statement write
guard (``db.session``) loses nothing by not seeing it. Writes, ORM queries and text go through SQLAlchemy.
"""

from __future__ import annotations

import collections
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

from sqlalchemy import Select
from sqlalchemy.engine import BindTyping, Dialect
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.sql.compiler import SQLCompiler

from openmira.db.session import ReadConnection, Reader, has_writing_clause

# A row: a named tuple of the statement's columns (by position, or by SQLAlchemy's de-duplicated column keys).
CoreRow: TypeAlias = Any
_Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Prepared:
    compiled: SQLCompiler
    positional: bool
    # The bound values' processors by name; an expanded IN list's come with its expansion, per execution.
    binds: dict[str, _Processor]
    row: Callable[[Sequence[Any]], CoreRow]
    # Nothing rendered per execution (no expanded IN list, no value written into the text): the compiled text
    # is the statement, and SQLAlchemy's expansion, a regular-expression pass over it, is skipped, as
    # SQLAlchemy's own execution skips it under the same condition (DefaultExecutionContext._init_compiled).
    fixed: bool
    # (column index, processor) of the columns that have one; known after the first execution, whose cursor
    # describes the columns as the driver sends them (a type's processor may depend on that).
    processors: list[tuple[int, _Processor]] | None = field(default=None)


# Per statement, per dialect. Statements are module constants or built once per shape by cached builders;
# one built for a single call (a test's) takes its prepared form with it when it is freed.
_prepared: weakref.WeakKeyDictionary[Select[Any], dict[Dialect, _Prepared]] = weakref.WeakKeyDictionary()


def _prepare(statement: Select[Any], dialect: Dialect) -> _Prepared:
    by_dialect = _prepared.get(statement)
    if by_dialect is None:
        if not isinstance(statement, Select):
            raise TypeError(f"execute_core runs SELECTs only, not {type(statement).__name__}")
        by_dialect = _prepared[statement] = {}
    prepared = by_dialect.get(dialect)
    if prepared is None:
        prepared = by_dialect[dialect] = _compile(statement, dialect)
    return prepared


def _compile(statement: Select[Any], dialect: Dialect) -> _Prepared:
    # What SQLAlchemy's execution would honour and this path does not: refused rather than ignored.
    if statement.get_execution_options():
        raise TypeError("execute_core takes no execution options")
    if dialect.bind_typing is BindTyping.SETINPUTSIZES:
        raise TypeError(f"execute_core cannot bind for {dialect.name} (setinputsizes)")
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    if has_writing_clause(compiled.string):
        raise TypeError("execute_core runs reads only: this SELECT writes or locks")
    if compiled.escaped_bind_names:
        raise TypeError(f"bound parameter names that need escaping: {sorted(compiled.escaped_bind_names)}")
    binds = {
        name: processor
        for name, bind in compiled.binds.items()
        if not bind.expanding and (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    names = list(statement.selected_columns.keys())
    row = collections.namedtuple("CoreRow", names, rename=True)._make  # type: ignore[misc]
    fixed = not compiled.post_compile_params and not compiled.literal_execute_params
    return _Prepared(compiled, bool(compiled.positional), binds, row, fixed)


def _result_processors(
    statement: Select[Any], dialect: Dialect, description: Sequence[Any]
) -> list[tuple[int, _Processor]]:
    columns = list(statement.selected_columns)
    if len(columns) != len(description):
        raise RuntimeError(f"the cursor returned {len(description)} columns for {len(columns)} selected")
    processors = []
    for index, (column, described) in enumerate(zip(columns, description, strict=True)):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        if processor is not None:
            processors.append((index, processor))
    return processors


class CoreResult:
    """The rows of a statement run by :func:`execute_core`, all fetched (a read's rows are few: a page)."""

    __slots__ = ("_rows",)

    def __init__(self, rows: list[CoreRow]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[CoreRow]:
        return iter(self._rows)

    def all(self) -> list[CoreRow]:
        return self._rows

    def first(self) -> CoreRow | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if not self._rows:
            raise NoResultFound("no row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("multiple rows were found when exactly one was required")
        return self._rows[0][0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]


def execute_core(db: Reader, statement: Select[Any], params: Mapping[str, Any] | None = None) -> CoreResult:
    """Run a Core SELECT (tables and columns, no mapped entities) on the session's or the read-only request's
    connection, in its transaction, and fetch its rows (see the module's docstring)."""
    if isinstance(db, ReadConnection):
        dialect, pooled = db.dialect, db.pooled()
    else:
        connection = db.connection()
        dialect, pooled = connection.dialect, connection.connection
    prepared = _prepare(statement, dialect)
    compiled, binds = prepared.compiled, prepared.binds
    values: Mapping[str, Any]
    positions: Sequence[str] | None
    if prepared.fixed:
        sql, values, positions = compiled.string, compiled.construct_params(params), compiled.positiontup
    else:
        state = compiled.construct_expanded_state(params)
        sql, values, positions = state.statement, state.parameters, state.positiontup
        if state.processors:
            binds = {**binds, **state.processors}
    arguments: Sequence[Any] | dict[str, Any]
    if prepared.positional:
        arguments = [binds[name](values[name]) if name in binds else values[name] for name in positions or ()]
    else:
        arguments = {name: binds[name](value) if name in binds else value for name, value in values.items()}
    # Read once per statement: a driver may build the column objects anew on every read of it (psycopg did:
    # 5% of a finding).
    describe = prepared.processors is None
    cursor = None
    try:
        # On the loop's engine, SQLAlchemy's adapted asyncpg cursor: its statement is one wait of the greenlet.
        cursor = pooled.dbapi_connection.cursor()
        cursor.execute(sql, arguments)
        fetched = cursor.fetchall()
        description = cursor.description if describe else None
    except BaseException as exc:  # a cancellation too: the connection is then in no known state
        if isinstance(db, ReadConnection):
            db.read_failed(pooled, exc, cursor)
        db.connection()._handle_dbapi_exception(exc, sql, arguments, cursor, None)
    if cursor is not None:
        cursor.close()
    if description is not None:
        prepared.processors = _result_processors(statement, dialect, description)
    processors, make = prepared.processors, prepared.row
    if not processors:
        return CoreResult([make(fetched_row) for fetched_row in fetched])
    rows = []
    for fetched_row in fetched:
        row = list(fetched_row)
        for index, processor in processors:
            row[index] = processor(row[index])
        rows.append(make(row))
    return CoreResult(rows)
