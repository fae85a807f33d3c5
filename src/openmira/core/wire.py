"""How values become JSON on the wire: one encoder, one response class, one timestamp form, and columns
read straight into their wire form.

The hot lists select columns as plain rows (no ORM entities, no per-row models) and encode them once
with orjson, whose output for these values is byte for byte what FastAPI's JSON rendering of the
pydantic schemas gives (``tests/findings/test_wire_golden.py`` holds it to that). Every timestamp, in
either path, is written by ``format_timestamp``. The schemas stay the documentation of every response,
and the tests validate responses against them.

``wire_column`` selects a UUID or timestamp column in its wire form: PostgreSQL writes it (``to_char``, a
cast), SQLite's stored text is reshaped as it is read. No ``UUID`` or ``datetime`` object is built for a
row only to be formatted again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import orjson
from pydantic import PlainSerializer, WithJsonSchema
from sqlalchemy import ColumnElement, FunctionElement, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import UserDefinedType
from starlette.responses import Response


def dumps(value: Any) -> bytes:
    """The API's JSON: compact, UTF-8 (not ASCII-escaped), datetimes in the one wire form."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class WireJSONResponse(Response):
    """A JSON response encoded by :func:`dumps` (content must already be in its wire shape)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def format_timestamp(value: datetime) -> str:
    """The one wire form of a moment: RFC 3339 in UTC, always six fractional digits, ``Z``
    (``2026-11-29T11:14:00.000000Z``). One fixed form, so a client that infers the format from the first
    value (pandas does) parses every other."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# The same form in a schema: documented as a date-time, written by ``format_timestamp``.
Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _sqlite_timestamp(value: str | None) -> str | None:
    # SQLAlchemy stores ``YYYY-MM-DD HH:MM:SS.ffffff`` (naive UTC) on SQLite; anything else is parsed.
    if value is None:
        return None
    if len(value) == 26 and value[10] == " ":
        return value.replace(" ", "T") + "Z"
    return format_timestamp(datetime.fromisoformat(value).replace(tzinfo=UTC))


# A page repeats a few IDs in every row (its organization, the people who changed the findings): remembered,
# they cost a fifth of the formatting (measured, issue 11). The size bounds the memory at about 1 MiB.
@lru_cache(maxsize=4096)
def _sqlite_uuid(value: str | None) -> str | None:
    if value is None:
        return None
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


class _WireText(UserDefinedType[str]):
    """The text of a wire value. PostgreSQL writes it in SQL (below); on SQLite the stored text is reshaped
    in Python as it is read, which is cheaper there than SQLite's string functions (measured)."""

    cache_ok = True

    def __init__(self, sqlite_reader: Callable[[str | None], str | None]) -> None:
        self.sqlite_reader = sqlite_reader

    def get_col_spec(self, **_: Any) -> str:
        raise NotImplementedError("a wire value is only read")

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        return self.sqlite_reader if dialect.name == "sqlite" else None


class wire_timestamp(FunctionElement[str]):
    """A UTC timestamp column read in the wire form of ``format_timestamp``."""

    type = _WireText(_sqlite_timestamp)
    name = "wire_timestamp"
    inherit_cache = True


class wire_uuid(FunctionElement[str]):
    """A UUID column read as its canonical string."""

    type = _WireText(_sqlite_uuid)
    name = "wire_uuid"
    inherit_cache = True


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(wire_timestamp, "sqlite")
@compiles(wire_uuid, "sqlite")
def _sqlite_column(element: FunctionElement[str], compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


@compiles(wire_timestamp, "postgresql")
def _postgres_timestamp(element: wire_timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    return f"""to_char({_argument(element, compiler, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


@compiles(wire_uuid, "postgresql")
def _postgres_uuid(element: wire_uuid, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({_argument(element, compiler, **kw)} AS TEXT)"


def wire_column(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``column`` read in its wire form (UUIDs and timestamps as their JSON strings, made by the database)."""
    from openmira.db.base import UTCDateTime

    if isinstance(column.type, UTCDateTime):
        return wire_timestamp(column).label(column.key)
    if isinstance(column.type, Uuid):
        return wire_uuid(column).label(column.key)
    return column
