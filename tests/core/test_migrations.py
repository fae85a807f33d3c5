"""Migrations: a fresh database reaches head, and every step can be undone and redone."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from openmira.db.migrate import alembic_config, current, upgrade
from openmira.db.models import Base
from openmira.db.session import make_engine


def test_upgrade_downgrade_upgrade(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for url in (f"sqlite:///{tmp_path / 'm.db'}", postgres_url.rsplit("/", 1)[0] + "/" + _scratch(postgres_url)):
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
