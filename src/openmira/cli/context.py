"""What every admin command needs: settings, a migrated database, one transaction, and output."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from openmira.cli.errors import SetupError, open_engine
from openmira.config import Settings, data_dir_notice, get_settings
from openmira.core.errors import ApiError
from openmira.db.files import make_private_directory
from openmira.db.migrate import upgrade
from openmira.db.session import make_session_factory

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
OrgOption = Annotated[uuid.UUID, typer.Option("--org", help="Organization ID.")]

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)
if not out.is_terminal and "COLUMNS" not in os.environ:
    # Piped or captured output is not cut to an imaginary 80 columns: an ID must survive `| grep`.
    out.width = 10_000


def prepare_database(settings: Settings) -> None:
    """Create the data directory if the default database lives there, then migrate."""
    notice = data_dir_notice(settings)
    if notice:
        _say_once(notice)
    if settings.database_url is None:
        try:
            make_private_directory(settings.data_dir)
        except OSError as exc:
            raise SetupError(
                f"cannot create the data directory {settings.data_dir} ({exc.strerror}); "
                "set OPENMIRA_DATA_DIR to a writable directory"
            ) from None
    engine = open_engine(settings)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@cache
def _say_once(notice: str) -> None:
    # `demo` prepares the database more than once; the notice is worth reading once.
    err.print(notice, markup=False, soft_wrap=True)


@contextmanager
def admin_session() -> Iterator[Session]:
    """A migrated database and one transaction; a domain error is printed and exits non-zero."""
    settings = get_settings()
    prepare_database(settings)
    engine = open_engine(settings)
    try:
        with make_session_factory(engine)() as session:
            try:
                yield session
                session.commit()
            except ApiError as exc:
                session.rollback()
                fail(exc.detail)
    finally:
        engine.dispose()


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)


def emit_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def report(as_json: bool, data: Any, message: str) -> None:
    """One command's result: ``data`` as JSON, or ``message`` (Rich markup) for a person."""
    if as_json:
        emit_json(data)
    else:
        out.print(message)


def confirm(yes: bool, question: str) -> None:
    """Go on if ``--yes`` was given or the person says yes; otherwise stop (exit 1), changing nothing."""
    if not yes:
        typer.confirm(question, abort=True, err=True)


def report_rows(
    as_json: bool, rows: list[dict[str, Any]], headers: Sequence[str], cells: Callable[[dict[str, Any]], list[object]]
) -> None:
    """A listing: ``rows`` as JSON, or a table of ``cells(row)`` under ``headers`` for a person."""
    if as_json:
        emit_json(rows)
    else:
        print_rows(headers, [cells(r) for r in rows])


def print_rows(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A table where it fits the terminal, else one block per row: no cell (an ID above all) is ever cut."""
    table = Table(*headers)
    for column in table.columns:
        column.no_wrap = True
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    # Measured without the console's width, which would cap the answer at exactly that width.
    if not rows or out.measure(table, options=out.options.update_width(100_000)).maximum <= out.width:
        out.print(table)
        return
    for row in rows:
        for header, value in zip(headers, row, strict=True):
            out.print(f"{header + ':':12} {'' if value is None else value}", markup=False, soft_wrap=True)
        out.print()
