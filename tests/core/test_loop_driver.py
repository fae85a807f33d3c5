"""The event loop's PostgreSQL reads connect with asyncpg to the database of the threads' URL, which is libpq's
(psycopg's) form: what asyncpg reads itself passes through, libpq's TCP settings are left out (and said so), and
what asyncpg cannot honour stops the app's start with the option's name, not each read."""

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
    # The password reads back whole from the rendered DSN (as SQLAlchemy parses it, not asyncpg).
    assert parsed.drivername == "postgresql" and parsed.password == "p@ss:w/d"
    assert (parsed.host, parsed.port, parsed.username, parsed.database) == ("db.example", 5433, "ann", "openmira")
    assert dict(parsed.query) == {"sslmode": "require", "application_name": "api", "target_session_attrs": "any"}
    assert connect_args == {} and dropped == []


def test_tcp_settings_are_left_out_and_named() -> None:
    query = {"keepalives": "1", "keepalives_idle": "30", "tcp_user_timeout": "9000", "options": "-c search_path=app"}
    dsn, _, dropped = asyncpg_arguments(URL.update_query_dict(query), {})
    assert dropped == ["keepalives", "keepalives_idle", "tcp_user_timeout"]
    assert dict(make_url(dsn).query) == {"options": "-c search_path=app"}


@pytest.mark.parametrize(
    "query",
    [
        {"hostaddr": "10.0.0.5"}, {"service": "prod"}, {"require_auth": "scram-sha-256"},
        {"channel_binding": "require"}, {"gssencmode": "require"}, {"sslcertmode": "require"},
        {"client_encoding": "latin1"}, {"max_protocol_version": "3.2"}, {"sslrootcert": "system"},
    ],
)
def test_what_asyncpg_cannot_honour_is_refused_by_name(query: dict[str, str]) -> None:
    """Sent to the server as a setting, it would be refused there; left out, a requirement of the URL (an
    authentication method, channel binding, an encrypted channel) or its address would not hold."""
    with pytest.raises(ValueError, match=next(iter(query))):
        asyncpg_arguments(URL.update_query_dict(query), {})


@pytest.mark.parametrize("variable", ["PGSERVICE", "PGHOSTADDR", "PGREQUIREAUTH", "PGCLIENTENCODING"])
def test_libpq_environment_asyncpg_would_not_honour_is_refused(variable: str) -> None:
    with pytest.raises(ValueError, match=variable):
        asyncpg_arguments(URL, {variable: "x"})


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
    # A fallback only: the URL's own name wins.
    dsn, _, _ = asyncpg_arguments(url.update_query_dict({"application_name": "mine"}), {})
    assert make_url(dsn).query["application_name"] == "mine"


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


def test_a_url_the_loops_driver_cannot_honour_stops_the_apps_start(postgres_url: str) -> None:
    """At the start, by name, without a connection: not a 500 on every read later."""
    app = create_app(make_settings(f"{postgres_url}?max_protocol_version=3.2"))
    with pytest.raises(ValueError, match="max_protocol_version"), TestClient(app):
        pass
