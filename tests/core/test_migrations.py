"""Migrations: a fresh database reaches head, and every step can be undone and redone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect

from openmira.db.migrate import alembic_config, current, upgrade
from openmira.db.models import Base
from openmira.db.session import make_engine


@pytest.fixture
def scratch_url(postgres_url: str) -> Iterator[str]:
    """A second throw-away PostgreSQL database, so these tests never touch the shared one; dropped after."""
    name = _scratch(postgres_url)
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    _drop(name)


def test_upgrade_downgrade_upgrade(scratch_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for url in (f"sqlite:///{tmp_path / 'm.db'}", scratch_url):
        engine = make_engine(url)
        try:
            upgrade(engine)
            upgrade(engine)  # a second run is a no-op
            head = current(engine)
            assert head is not None
            assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
            config = alembic_config()
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "base")
            assert current(engine) is None
            upgrade(engine)
            assert current(engine) == head
        finally:
            engine.dispose()


def _scratch(postgres_url: str) -> str:
    """A second throw-away PostgreSQL database, so this test never touches the shared one."""
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    name = postgres_url.rsplit("/", 1)[1] + "_mig"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_event_payloads_keep_every_queued_delivery_body_exactly(scratch_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Deliveries queued before 0011 (each with its own payload) keep their exact body across upgrade and
    downgrade."""
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Uuid, column, select, table

    from openmira.db.base import UTCDateTime
    from openmira.webhooks.events import envelope

    for url in (f"sqlite:///{tmp_path / 'm8.db'}", scratch_url):
        engine = make_engine(url)
        try:
            upgrade(engine, "0007")
            org, endpoint, delivery = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
            body = envelope(delivery, "finding.resolved", org, {"finding": {"name": "x\u00e9\U0001f600"}}, created)
            orgs = table("organizations", column("id", Uuid()), column("name"), column("kind"), column("license"),
                         column("agent_seat_count"), column("created", UTCDateTime()),
                         column("modified", UTCDateTime()))
            endpoints = table("webhook_endpoints", column("id", Uuid()), column("org_id", Uuid()), column("url"),
                              column("description"), column("events", JSON()), column("enabled"),
                              column("secret_encrypted"), column("created", UTCDateTime()),
                              column("modified", UTCDateTime()))
            deliveries = table("webhook_deliveries", column("id", Uuid()), column("endpoint_id", Uuid()),
                               column("event"), column("payload", JSON()), column("status"), column("attempts"),
                               column("created", UTCDateTime()), column("next_attempt", UTCDateTime()))
            with engine.begin() as connection:
                connection.execute(orgs.insert().values(id=org, name="o", kind="org", license="ADVANCED",
                                                        agent_seat_count=0, created=created, modified=created))
                connection.execute(endpoints.insert().values(
                    id=endpoint, org_id=org, url="https://h.example.com/", description="", events=["ping"],
                    enabled=True, secret_encrypted="x", created=created, modified=created))
                connection.execute(deliveries.insert().values(
                    id=delivery, endpoint_id=endpoint, event="finding.resolved", payload=body, status="pending",
                    attempts=0, created=created, next_attempt=created))
            upgrade(engine)
            from openmira.db.session import make_session_factory
            from openmira.webhooks.events import stored_body
            from openmira.webhooks.models import WebhookDelivery

            with make_session_factory(engine)() as session:
                assert stored_body(session, session.get_one(WebhookDelivery, delivery)) == body
            config = alembic_config()
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0007")
            with engine.connect() as connection:
                assert connection.execute(select(deliveries.c.payload)).scalar_one() == body
        finally:
            engine.dispose()
