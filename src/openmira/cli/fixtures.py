"""``openmira fixtures``: test tenants in one command, as JSON, for test suites in any language."""

from __future__ import annotations

from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, admin_session, emit_json

fixtures_app = typer.Typer(
    help="Test tenants in one call (JSON with key pairs): an organization, an MSP with sub-accounts; reset.",
    no_args_is_help=True,
)


@fixtures_app.command("org")
def fixtures_org(
    name: Annotated[str | None, typer.Option("--name")] = None,
    users: Annotated[int, typer.Option("--users", min=0)] = 4,
    findings: Annotated[int, typer.Option("--findings", min=0)] = 0,
    as_json: JsonFlag = False,  # the output is always JSON; accepted like every command's
) -> None:
    """An organization with users, a rw and a ro key pair, and realistic findings; prints JSON."""
    from openmira.testing.factories import create_org

    with admin_session() as session:
        org = create_org(session, name, users=users, findings=findings)
    emit_json(org.as_dict())


@fixtures_app.command("msp")
def fixtures_msp(
    name: Annotated[str | None, typer.Option("--name")] = None,
    accounts: Annotated[int, typer.Option("--accounts", min=0)] = 2,
    free_accounts: Annotated[int, typer.Option("--free-accounts", min=0)] = 0,
    findings: Annotated[int, typer.Option("--findings", min=0, help="Per sub-account.")] = 0,
    as_json: JsonFlag = False,  # the output is always JSON; accepted like every command's
) -> None:
    """An MSP with a rw and a ro key pair and sub-accounts (users and findings in each); prints JSON."""
    from openmira.testing.factories import create_msp

    with admin_session() as session:
        msp = create_msp(session, name, accounts=accounts, free_accounts=free_accounts, findings=findings)
    emit_json(msp.as_dict())


@fixtures_app.command("reset")
def fixtures_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete every organization and its data.")] = False,
    as_json: JsonFlag = False,  # the output is always JSON; accepted like every command's
) -> None:
    """Delete every organization, user, key pair and finding, and clear faults (for a test database only)."""
    from openmira.testing.factories import reset

    if not yes:
        raise typer.BadParameter("this deletes every tenant; pass --yes on a test database")
    with admin_session() as session:
        reset(session)
    emit_json({"reset": True})
