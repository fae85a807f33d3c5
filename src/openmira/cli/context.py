"""What every admin command needs: settings, a migrated database, and one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from openmira.config import Settings, get_settings
from openmira.core.errors import ApiError
from openmira.db.migrate import upgrade
from openmira.db.session import make_engine, make_session_factory

err = Console(stderr=True)
out = Console()


def prepare_database(settings: Settings) -> None:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def admin_session() -> Iterator[Session]:
    """A migrated database and one transaction; a domain error is printed and exits non-zero."""
    settings = get_settings()
    prepare_database(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            try:
                yield session
                session.commit()
            except ApiError as exc:
                session.rollback()
                err.print(f"[red]error:[/red] {exc.detail}")
                raise typer.Exit(1) from None
    finally:
        engine.dispose()


def emit_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))
