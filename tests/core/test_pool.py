"""Pooled PostgreSQL connections that the server closed while they sat idle are replaced before use."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from openmira.db import session as db_session
from openmira.db.session import make_async_read_engine, make_engine
from tests.conftest import PG_ADMIN_URL


def _terminate_others(database: str) -> int:
    """What a server restart does to a pool: every connection to ``database`` is closed under it."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_a_connection_closed_while_idle_is_replaced(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert _terminate_others(postgres_url.rsplit("/", 1)[1]) >= 1
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
        with engine.connect() as connection:  # pinged, found dead, replaced: the caller sees nothing
            assert connection.execute(text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()


def test_a_connection_in_recent_use_is_not_pinged(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other half of the trade: no round trip per checkout, so a connection killed moments after its
    last use fails the one statement that finds it dead (the pool then drops it)."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        _terminate_others(postgres_url.rsplit("/", 1)[1])
        monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 3600.0)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_the_loop_read_engine_replaces_an_idle_closed_connection_and_is_sized_like_the_threads_pool(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The asyncio read engine (PostgreSQL reads on the event loop) pings an idle connection through its
    driver adapter as the threads' pool does, and holds no more connections than that pool may."""
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=3)
    loop_engine = make_async_read_engine(engine)
    assert loop_engine is not None
    pool = loop_engine.sync_engine.pool
    assert (pool.size(), pool._max_overflow, pool.timeout()) == (1, 0, 3)  # type: ignore[attr-defined]

    async def backend() -> int:
        async with loop_engine.connect() as connection:
            return (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()

    async def pinged() -> tuple[int, int, int]:
        try:
            first = await backend()
            monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
            alive = await backend()  # pinged and alive: the same connection, not a new one
            assert _terminate_others(postgres_url.rsplit("/", 1)[1]) >= 1
            replaced = await backend()  # pinged, found dead, replaced: the caller sees nothing
            return first, alive, replaced
        finally:
            await loop_engine.dispose()

    try:
        first, alive, replaced = asyncio.run(pinged())
        assert alive == first
        assert replaced != first
    finally:
        engine.dispose()


def test_sqlite_has_no_loop_read_engine(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        assert make_async_read_engine(engine) is None  # nothing to wait for: SQLite reads run on the loop
    finally:
        engine.dispose()
