"""The ``openmira`` command: serve, demo, and the admin commands."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from openmira.cli.admin import credentials_app, db_app, keys_app, orgs_app, users_app
from openmira.cli.conformance import conformance
from openmira.cli.faults import faults_app
from openmira.cli.fixtures import fixtures_app
from openmira.cli.seed import seed

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

HostOption = Annotated[str | None, typer.Option("--host", help="Address to listen on [default: 127.0.0.1].")]
PortOption = Annotated[int | None, typer.Option("--port", help="Port to listen on [default: 8000].")]


def _apply_flags(host: str | None, port: int | None) -> None:
    # Flags become environment variables, so that every worker process sees the same settings.
    from openmira.config import get_settings

    if host is not None:
        os.environ["OPENMIRA_HOST"] = host
    if port is not None:
        os.environ["OPENMIRA_PORT"] = str(port)
    if (host is not None or port is not None) and "OPENMIRA_PUBLIC_URL" not in os.environ:
        shown = host if host not in (None, "0.0.0.0", "::") else "127.0.0.1"
        os.environ["OPENMIRA_PUBLIC_URL"] = f"http://{shown}:{port or 8000}"
    get_settings.cache_clear()


def _serve(workers: int) -> None:
    import signal
    import sys

    import uvicorn

    from openmira.config import get_settings
    from openmira.core.observability import log_config

    settings = get_settings()
    # On SIGTERM uvicorn stops accepting, finishes the requests in flight, then raises the signal again
    # once its own handler is gone. Answer that with exit status 0: the stop was asked for and clean.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "openmira.app:create_app",
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
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes.")] = 1,
) -> None:
    """Apply migrations and serve the API, the token service and the docs."""
    from openmira.cli.context import prepare_database
    from openmira.config import get_settings

    _apply_flags(host, port)
    prepare_database(get_settings())
    _serve(workers)


@app.command()
def demo(
    host: HostOption = None,
    port: PortOption = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up the demo tenant and exit.")] = False,
) -> None:
    """Set up (idempotently) a demo tenant, print its credentials, and serve."""
    from openmira.cli.context import admin_session
    from openmira.config import get_settings
    from openmira.demo.banner import print_banner
    from openmira.demo.tenant import ensure_demo_tenant

    # The demo's webhooks may reach this machine (its demo endpoint is on localhost); a real deployment
    # allows nothing until the operator lists where deliveries may go.
    os.environ.setdefault("OPENMIRA_WEBHOOK_ALLOWED_HOSTS", "localhost,127.0.0.1,::1")
    _apply_flags(host, port)
    settings = get_settings()
    with admin_session() as session:
        creds = ensure_demo_tenant(session, settings.data_dir, settings.webhook_secret_key)
    print_banner(settings, creds)
    if not no_serve:
        _serve(1)


def main() -> None:
    app()
