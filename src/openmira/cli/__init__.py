"""The ``openmira`` command: serve, demo, and the admin commands."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from openmira import __version__
from openmira.cli.conformance import conformance
from openmira.cli.context import JsonFlag, emit_json, err
from openmira.cli.credentials import credentials_app
from openmira.cli.errors import SetupError, settings_problems
from openmira.cli.faults import faults_app
from openmira.cli.fixtures import fixtures_app
from openmira.cli.orgs import orgs_app
from openmira.cli.seed import seed
from openmira.cli.system import db_app, keys_app
from openmira.cli.users import users_app

if TYPE_CHECKING:
    from openmira.config import Settings

app = typer.Typer(
    help="OpenMira: a self-hostable implementation of the Blumira Public API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(credentials_app, name="credentials")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(faults_app, name="faults")
app.add_typer(fixtures_app, name="fixtures")
app.command("seed")(seed)
app.command("conformance")(conformance)

# Click reads OPENMIRA_HOST/PORT itself, so --help shows the real default and where it comes from (as
# typer's own "[default: ...]", never in the help text, where Rich would take the brackets for markup).
HostOption = Annotated[str, typer.Option("--host", envvar="OPENMIRA_HOST", help="Address to listen on.")]
PortOption = Annotated[
    int, typer.Option("--port", envvar="OPENMIRA_PORT", min=1, max=65535, help="Port to listen on.")
]


def _version(value: bool) -> None:
    if value:
        print(f"openmira {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """OpenMira: a self-hostable implementation of the Blumira Public API."""


def _apply_flags(host: str, port: int) -> None:
    # Flags become environment variables, so that every worker process sees the same settings.
    from openmira.config import get_settings

    os.environ["OPENMIRA_HOST"] = host
    os.environ["OPENMIRA_PORT"] = str(port)
    if "OPENMIRA_PUBLIC_URL" not in os.environ:
        shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
        os.environ["OPENMIRA_PUBLIC_URL"] = f"http://{shown}:{port}"
    get_settings.cache_clear()


def _start(host: str, port: int, *, webhooks_to_loopback: bool = False) -> Settings:
    """Settings from flags and environment, a reachable and migrated database, and Redis if configured."""
    from openmira.cli.context import prepare_database
    from openmira.cli.errors import check_redis
    from openmira.config import get_settings
    from openmira.db.files import exposure_warnings

    if webhooks_to_loopback:
        # The demo's webhooks may reach this machine (its demo endpoint is on localhost); a real deployment
        # allows nothing until the operator lists where deliveries may go.
        os.environ.setdefault("OPENMIRA_WEBHOOK_ALLOWED_HOSTS", "localhost:*,127.0.0.1:*,[::1]:*")
    _apply_flags(host, port)
    settings = get_settings()
    prepare_database(settings)
    for warning in exposure_warnings(settings.effective_database_url, data_dir=settings.database_url is None):
        err.print(warning, markup=False, soft_wrap=True, style="bold red")
    if settings.redis_url:
        check_redis(settings.redis_url)
    return settings


def _serve(workers: int) -> None:
    import signal

    import uvicorn

    from openmira.config import get_settings
    from openmira.core.observability import log_config

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        # Each process would keep its own budget: a key pair could make workers x the limit (issue 13).
        err.print(
            f"[bold red]warning:[/bold red] {workers} workers without OPENMIRA_REDIS_URL: each keeps its own "
            f"rate-limit budget, so one key pair gets up to {workers} x its limit. Set OPENMIRA_REDIS_URL to share "
            "one budget.",
            soft_wrap=True,
        )
    # On SIGTERM uvicorn stops accepting, finishes the requests in flight, then raises the signal again
    # once its own handler is gone. Answer that with exit status 0: the stop was asked for and clean.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "openmira.app:serve_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Apply migrations and serve the API, the token service, the docs and the console."""
    settings = _start(host, port)
    where = {"url": settings.public_url, "host": settings.host, "port": settings.port,
             "database": settings.database_label, "data_dir": str(settings.data_dir)}
    if as_json:
        emit_json(where)
    else:
        err.print(f"OpenMira {__version__} on {settings.public_url}, database {settings.database_label}",
                  markup=False, soft_wrap=True)
    sys.stdout.flush()
    _serve(workers)


@app.command()
def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up the demo tenant and exit.")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo tenant (only it) and create it afresh, with new secrets.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Set up (idempotently) a demo tenant, print its credentials, and serve."""
    from openmira.cli.context import admin_session
    from openmira.demo.banner import banner_json, print_banner
    from openmira.demo.tenant import ensure_demo_tenant, reset_demo_tenant

    settings = _start(host, port, webhooks_to_loopback=True)
    if reset:
        with admin_session() as session:
            reset_demo_tenant(session, settings.data_dir)
    with admin_session() as session:
        creds = ensure_demo_tenant(session, settings.data_dir, settings.webhook_secret_key)
    if as_json:
        emit_json(banner_json(settings, creds))
    else:
        print_banner(settings, creds)
    sys.stdout.flush()
    if not no_serve:
        _serve(1)


def main() -> None:
    from pydantic import ValidationError

    try:
        app()
    except SetupError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for line in settings_problems(exc):
            err.print(f"error: {line}", markup=False, soft_wrap=True)
        sys.exit(1)
