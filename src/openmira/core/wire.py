"""How values become JSON on the wire: one encoder, one response class, and column types that read
UUIDs and timestamps straight into their wire form.

The hot lists select columns as plain rows (no ORM entities, no per-row models) and encode them once
with orjson, whose output for these values is byte for byte what FastAPI's JSON rendering of the
pydantic schemas gives (``tests/findings/test_wire_golden.py`` holds it to that). Every timestamp, in
either path, is written by ``format_timestamp``. The schemas stay the
documentation of every response, and the tests validate responses against them.

``WireUuid`` and ``WireTimestamp`` are for reading only: they turn what each driver returns (SQLite's
hex and ``YYYY-MM-DD HH:MM:SS.ffffff`` text, PostgreSQL's ``uuid`` and ``timestamptz`` objects) into the
wire string in one step, instead of building ``UUID`` and ``datetime`` objects only to format them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import PlainSerializer, WithJsonSchema
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine, UserDefinedType
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
        return f"{value[:10]}T{value[11:]}Z"
    return format_timestamp(datetime.fromisoformat(value).replace(tzinfo=UTC))


def _object_timestamp(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _hex_uuid(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(value))


def _object_uuid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


class _WireType(UserDefinedType[str]):
    cache_ok = True
    _readers: dict[bool, Callable[[Any], str | None]]

    def get_col_spec(self, **_: Any) -> str:
        raise NotImplementedError("a wire type only reads; declare columns with their storage type")

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], str | None]:
        return self._readers[dialect.name == "sqlite"]

    def bind_processor(self, dialect: Dialect) -> None:
        raise NotImplementedError("a wire type only reads")


class WireUuid(_WireType):
    """A UUID column read as its canonical string."""

    cache_ok = True

    _readers = {True: _hex_uuid, False: _object_uuid}


class WireTimestamp(_WireType):
    """A UTC timestamp column read as its RFC 3339 wire string."""

    cache_ok = True

    _readers = {True: _sqlite_timestamp, False: _object_timestamp}


def wire_type(storage: TypeEngine[Any]) -> type[_WireType] | None:
    """The wire type that reads a column of ``storage`` type, if its wire form differs from the driver's value."""
    from openmira.db.base import UTCDateTime

    if isinstance(storage, UTCDateTime):
        return WireTimestamp
    if getattr(storage, "python_type", None) is uuid.UUID:
        return WireUuid
    return None
