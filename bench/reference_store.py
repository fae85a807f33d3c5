"""The reference server's SQL, on the database drivers directly: sqlite3, or asyncpg for PostgreSQL (the driver
of OpenMira's reads on the event loop).

The two differ only in how values come back: SQLite holds UUIDs as 32 hex digits and timestamps as
naive UTC text (SQLAlchemy's storage formats), PostgreSQL hands back UUIDs and aware UTC datetimes. Rows
become the finding dicts of OpenMira's wire format, in its field order.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from openmira.meta.enums import FINDING_TYPES, RESOLUTIONS, STATUSES

# One query per page: the finding, its organization's name and both people, in wire order.
_COLUMNS = """
    f.id, f.short_id, f.name, f.analysis, f.status, f.priority, f.type, f.category, f.blocked, f.resolution,
    f.org_id, o.name, f.created, f.modified, f.status_modified, f.matched,
    m.id, m.email, m.first_name, m.last_name, s.id, s.email, s.first_name, s.last_name
  FROM findings f
  JOIN organizations o ON o.id = f.org_id
  LEFT JOIN users m ON m.id = f.modified_by
  LEFT JOIN users s ON s.id = f.status_modified_by
"""
PAGE_SQL = f"SELECT {_COLUMNS} WHERE f.org_id = ? ORDER BY f.created DESC, f.id LIMIT ? OFFSET ?"
FINDING_SQL = f"SELECT {_COLUMNS} WHERE f.org_id = ? AND f.id = ?"
TOTAL_SQL = "SELECT total FROM finding_counts WHERE org_id = ?"
PEM_SQL = "SELECT private_pem FROM signing_keys WHERE kid = ?"
KEY_PAIR_SQL = "SELECT org_id, tokens_valid_after, rate_limit FROM key_pairs WHERE client_id = ?"

Convert = Callable[[Any], Any]
# PostgreSQL connections per worker: enough to overlap the round trips of wrk's connections.
POOL_SIZE = 8


class Store(Protocol):
    async def page(self, org_id: str, size: int, offset: int) -> list[dict[str, Any]]: ...

    async def finding(self, org_id: str, finding_id: str) -> dict[str, Any] | None: ...

    async def total(self, org_id: str) -> int: ...

    async def private_pem(self, kid: str) -> str | None: ...

    async def key_pair(self, client_id: str) -> tuple[str, int, int | None] | None:
        """(organization ID as canonical text, tokens_valid_after, rate_limit override)."""
        ...


def _person(r: Sequence[Any], i: int, as_id: Convert) -> dict[str, Any] | None:
    if r[i] is None:
        return None
    return {"id": as_id(r[i]), "email": r[i + 1], "first_name": r[i + 2], "last_name": r[i + 3]}


def finding_dict(r: Sequence[Any], as_id: Convert, as_time: Convert) -> dict[str, Any]:
    resolution = r[9]
    return {
        "finding_id": as_id(r[0]),
        "short_id": r[1],
        "name": r[2],
        "analysis": r[3],
        "status": r[4],
        "status_name": STATUSES.get(r[4], "Unknown"),
        "priority": r[5],
        "type": r[6],
        "type_name": FINDING_TYPES.get(r[6], "Unknown"),
        "category": r[7],
        "blocked": bool(r[8]),
        "resolution": resolution,
        "resolution_name": RESOLUTIONS.get(resolution) if resolution is not None else None,
        "org_id": as_id(r[10]),
        "org_name": r[11],
        "created": as_time(r[12]),
        "modified": as_time(r[13]),
        "status_modified": as_time(r[14]),
        "matched": as_time(r[15]),
        "modified_by": _person(r, 16, as_id),
        "status_modified_by": _person(r, 20, as_id),
    }


def _sqlite_id(value: str | None) -> str | None:
    if value is None:
        return None
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _sqlite_time(value: str | None) -> str | None:
    """'2025-10-03 00:04:04.406659' -> '2025-10-03T00:04:04.406659Z' (always six fractional digits)."""
    if value is None:
        return None
    return value.replace(" ", "T", 1) + "Z"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc_time(value: datetime | None) -> str | None:
    """A UTC datetime (asyncpg gives ``timestamptz`` values in UTC) in the same form, six fractional digits and Z."""
    return None if value is None else value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class SqliteStore:
    """One connection, called on the event loop: a SQLite read is a function call (no wait to overlap),
    so a thread-pool hand-off would only add cost."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA query_only=ON")

    async def page(self, org_id: str, size: int, offset: int) -> list[dict[str, Any]]:
        rows = self._db.execute(PAGE_SQL, (uuid.UUID(org_id).hex, size, offset)).fetchall()
        return [finding_dict(r, _sqlite_id, _sqlite_time) for r in rows]

    async def finding(self, org_id: str, finding_id: str) -> dict[str, Any] | None:
        row = self._db.execute(FINDING_SQL, (uuid.UUID(org_id).hex, uuid.UUID(finding_id).hex)).fetchone()
        return finding_dict(row, _sqlite_id, _sqlite_time) if row else None

    async def total(self, org_id: str) -> int:
        row = self._db.execute(TOTAL_SQL, (uuid.UUID(org_id).hex,)).fetchone()
        return int(row[0]) if row else 0

    async def private_pem(self, kid: str) -> str | None:
        row = self._db.execute(PEM_SQL, (kid,)).fetchone()
        return str(row[0]) if row else None

    async def key_pair(self, client_id: str) -> tuple[str, int, int | None] | None:
        row = self._db.execute(KEY_PAIR_SQL, (client_id,)).fetchone()
        return (str(_sqlite_id(row[0])), int(row[1]), row[2]) if row else None


def _numbered(sql: str) -> str:
    """The statement with PostgreSQL's numbered placeholders ($1, $2, ...) for SQLite's ``?``."""
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


class PostgresStore:
    """asyncpg's pool, as OpenMira's reads on the event loop use asyncpg: while one request waits on the server,
    the loop serves another. UUIDs come back as asyncpg's own class, written by ``str``; timestamps as UTC."""

    def __init__(self, url: str, size: int = POOL_SIZE) -> None:
        self._url, self._size = url, size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        if self._pool is None:  # made on first use, inside uvicorn's event loop
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=self._size)
        return await self._pool.fetch(_NUMBERED[sql], *params)

    async def page(self, org_id: str, size: int, offset: int) -> list[dict[str, Any]]:
        rows = await self._rows(PAGE_SQL, (uuid.UUID(org_id), size, offset))
        return [finding_dict(r, _text, _utc_time) for r in rows]

    async def finding(self, org_id: str, finding_id: str) -> dict[str, Any] | None:
        rows = await self._rows(FINDING_SQL, (uuid.UUID(org_id), uuid.UUID(finding_id)))
        return finding_dict(rows[0], _text, _utc_time) if rows else None

    async def total(self, org_id: str) -> int:
        rows = await self._rows(TOTAL_SQL, (uuid.UUID(org_id),))
        return int(rows[0][0]) if rows else 0

    async def private_pem(self, kid: str) -> str | None:
        rows = await self._rows(PEM_SQL, (kid,))
        return str(rows[0][0]) if rows else None

    async def key_pair(self, client_id: str) -> tuple[str, int, int | None] | None:
        rows = await self._rows(KEY_PAIR_SQL, (client_id,))
        return (str(rows[0][0]), int(rows[0][1]), rows[0][2]) if rows else None


_NUMBERED = {sql: _numbered(sql) for sql in (PAGE_SQL, FINDING_SQL, TOTAL_SQL, PEM_SQL, KEY_PAIR_SQL)}


def open_store(database_url: str) -> Store:
    if database_url.startswith("sqlite:///"):
        return SqliteStore(database_url[len("sqlite:///"):])
    if database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresStore("postgresql://" + database_url.split("://", 1)[1])
    raise ValueError(f"the reference serves SQLite or PostgreSQL URLs, not {database_url!r}")
