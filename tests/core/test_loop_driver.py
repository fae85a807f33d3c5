"""The event loop's PostgreSQL reads connect with asyncpg to the database of the threads' URL, which is libpq's
(psycopg's) form: what asyncpg reads itself passes through, what it would send the server as a setting that the
server refuses is left out (and said so), and a URL it cannot use stops the app's start, not each read."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text

from openmira.app import create_app
from openmira.db.session import asyncpg_arguments, make_async_read_engine, make_engine
from tests.conftest import make_settings

URL = make_url("postgresql+psycopg://ann:p%40ss%3Aw%2Fd@db.example:5433/openmira")


def test_what_asyncpg_reads_itself_passes_through() -> None:
    dsn, connect_args, dropped = asyncpg_arguments(
        URL.update_query_dict({"sslmode": "require", "application_name": "api", "target_session_attrs": "any"}), {}
    )
    parsed = make_url(dsn)
    assert parsed.drivername == "postgresql" and parsed.password == "p@ss:w/d"  # the password survives its quoting
    assert (parsed.host, parsed.port, parsed.username, parsed.database) == ("db.example", 5433, "ann", "openmira")
    assert dict(parsed.query) == {"sslmode": "require", "application_name": "api", "target_session_attrs": "any"}
    assert connect_args == {} and dropped == []


def test_client_side_options_are_left_out_and_named() -> None:
    query = {"keepalives": "1", "keepalives_idle": "30", "channel_binding": "prefer", "gssencmode": "disable",
             "options": "-c search_path=app"}
    dsn, _, dropped = asyncpg_arguments(URL.update_query_dict(query), {})
    assert dropped == ["channel_binding", "gssencmode", "keepalives", "keepalives_idle"]
    assert dict(make_url(dsn).query) == {"options": "-c search_path=app"}


@pytest.mark.parametrize(("given", "timeout"), [("10", {"timeout": 10.0}), ("0", {}), ("-1", {}), (None, {})])
def test_connect_timeout_is_asyncpgs_timeout_and_zero_is_no_limit(given: str | None, timeout: dict[str, float]) -> None:
    url = URL.update_query_dict({"connect_timeout": given}) if given is not None else URL
    dsn, connect_args, _ = asyncpg_arguments(url, {})
    assert connect_args == timeout and "connect_timeout" not in dict(make_url(dsn).query)


def test_libpq_environment_asyncpg_does_not_read_is_applied_below_the_url() -> None:
    environ = {"PGOPTIONS": "-c search_path=app", "PGAPPNAME": "from-env", "PGCONNECT_TIMEOUT": "7"}
    dsn, connect_args, _ = asyncpg_arguments(URL.update_query_dict({"application_name": "from-url"}), environ)
    assert dict(make_url(dsn).query) == {"application_name": "from-url", "options": "-c search_path=app"}
    assert connect_args == {"timeout": 7.0}


def test_several_hosts_and_the_fallback_application_name() -> None:
    url = URL.set(host=None, port=None).update_query_pairs(
        [("host", "h1:5432"), ("host", "h2:5433"), ("fallback_application_name", "openmira")]
    )
    dsn, _, _ = asyncpg_arguments(url, {})
    assert dict(make_url(dsn).query) == {"host": "h1:5432,h2:5433", "application_name": "openmira"}


def test_hostaddr_is_refused() -> None:
    with pytest.raises(ValueError, match="hostaddr"):
        asyncpg_arguments(URL.update_query_dict({"hostaddr": "10.0.0.5"}), {})


def test_the_loops_connections_take_the_urls_settings_and_go_without_client_side_options(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{postgres_url}?keepalives=1&keepalives_idle=30&connect_timeout=0&application_name=openmira-loop"
    engine = make_engine(url, pool_size=1, max_overflow=0)
    with caplog.at_level(logging.WARNING, logger="openmira.db"):
        async_engine = make_async_read_engine(engine)
    assert async_engine is not None
    assert any("keepalives, keepalives_idle" in r.getMessage() for r in caplog.records)

    async def read() -> tuple[str, object]:
        try:
            async with async_engine.connect() as connection:
                name = (await connection.execute(text("SHOW application_name"))).scalar_one()
                some_id = (await connection.execute(text("SELECT gen_random_uuid()"))).scalar_one()
                return name, some_id
        finally:
            await async_engine.dispose()

    try:
        name, some_id = asyncio.run(read())
    finally:
        engine.dispose()
    assert name == "openmira-loop"
    assert type(some_id) is uuid.UUID  # Python's, which orjson writes, not asyncpg's subclass


def test_a_url_the_loops_driver_cannot_use_stops_the_apps_start(postgres_url: str) -> None:
    app = create_app(make_settings(f"{postgres_url}?hostaddr=127.0.0.1"))
    with pytest.raises(ValueError, match="hostaddr"), TestClient(app):
        pass


def test_a_database_the_loop_cannot_reach_stops_the_apps_start() -> None:
    """As ``openmira serve``'s migration at start would: the app does not start to answer every read with a 500."""
    app = create_app(make_settings("postgresql://127.0.0.1:1/openmira?connect_timeout=2"))
    with pytest.raises(OSError), TestClient(app):
        pass
