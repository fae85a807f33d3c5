"""Shared fixtures.

Storage tests run on SQLite and on PostgreSQL (``backend`` is parametrized); rate-limit tests run on
the in-process limiter and on Redis. A missing server skips those legs, except under ``CI=true``
where it is a failure.

- ``OPENMIRA_TEST_POSTGRES_URL`` (default ``postgresql://127.0.0.1:5432/test``): an admin connection
  used to create a throw-away database for the run.
- ``OPENMIRA_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); the rate-limit tests keep their keys
  under a prefix of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.credential_cache import CredentialCache
from openmira.auth.ratelimit import InProcessLimiter, RateLimiter, RedisLimiter
from openmira.auth.signing import KeyStore
from openmira.config import Settings
from openmira.db.migrate import upgrade
from openmira.db.models import Base
from openmira.db.session import make_engine, make_session_factory
from openmira.runtime import Runtime
from tests.helpers import Tenant, make_tenant

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("OPENMIRA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OPENMIRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PUBLIC_URL = "http://testserver"


def unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable ({why}); set the URL env var or start the server"
    if IN_CI:
        pytest.fail(f"under CI a missing server is a failure: {message}")
    pytest.skip(message)


def _pg_url(dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(PG_ADMIN_URL)
    info["dbname"] = dbname
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{dbname}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"openmira_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'openmira.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _clean(engine: Engine) -> None:
    with Session(engine) as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "organizations":  # sub-accounts before their MSPs
                session.execute(delete(table).where(table.c.parent_id.is_not(None)))
            if table.name != "signing_keys":
                session.execute(delete(table))
        session.commit()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on a clean, migrated database (every table emptied after the test)."""
    with make_session_factory(engine)() as session:
        yield session
    _clean(engine)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return REDIS_URL


class StoppedClock:
    """A limiter's clock that moves only when a test moves it: how many requests fit in a window then
    does not depend on how fast the machine sends them."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _limiter(request: pytest.FixtureRequest, clock: StoppedClock | None = None) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield InProcessLimiter() if clock is None else InProcessLimiter(clock)
        return
    url = request.getfixturevalue("redis_url")
    # A longer timeout than the server's 1 s: these tests are about shared budgets, and on a loaded CI machine
    # (two test processes, PostgreSQL and Chromium on two cores) a Redis answer once took longer, which the
    # limiter rightly treats as an outage (per-process budgets; tests/core/test_redis_outage.py covers that).
    limiter = RedisLimiter(url, prefix=f"openmira-test:{uuid.uuid4().hex}:", timeout=10.0, clock=clock)
    yield limiter
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{limiter.prefix}*"):
        client.delete(key)


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    """On the real clock (Redis's own, on Redis)."""
    yield from _limiter(request)


@pytest.fixture
def limiter_clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture(params=["memory", "redis"])
def stopped_limiter(request: pytest.FixtureRequest, limiter_clock: StoppedClock) -> Iterator[RateLimiter]:
    """On ``limiter_clock``, which stands still unless the test advances it."""
    yield from _limiter(request, limiter_clock)


def make_settings(database_url: str, **overrides: object) -> Settings:
    # Tests other than the rate-limit ones send many requests a second; they get a budget to match.
    # Webhooks: no background sending (tests drive deliver_due themselves), and any URL may be saved, since
    # the generated suites (schemathesis, the tenant matrix) save URLs the document calls valid; the
    # allowlist's own tests set it.
    values: dict[str, object] = {
        "database_url": database_url, "public_url": PUBLIC_URL, "data_dir": Path("data"), "rate_limit": 100_000,
        "msp_rate_limit": 100_000,
        "webhook_worker": False, "webhook_allowed_hosts": "*:*",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def make_runtime(settings: Settings, engine: Engine, limiter: RateLimiter | None = None) -> Runtime:
    sessions = make_session_factory(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        limiter=InProcessLimiter() if limiter is None else limiter,  # an empty InProcessLimiter is falsy
        keys=KeyStore(sessions, settings.token_lifetime),
        credentials=CredentialCache(sessions),
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def runtime(settings: Settings, engine: Engine, db: Session) -> Runtime:
    return make_runtime(settings, engine)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime)) as c:
        yield c


@pytest.fixture
def tenant(db: Session, client: TestClient) -> Tenant:
    """An organization with an administrator, an analyst, a read-write and a read-only key pair."""
    return make_tenant(db, client, "Tenant A")


@pytest.fixture
def other_tenant(db: Session, client: TestClient) -> Tenant:
    return make_tenant(db, client, "Tenant B")
