"""``openmira credentials``: API key pairs (Client ID + Client Secret)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, OrgOption, admin_session, emit_json, out, report, report_rows
from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel, KeyPair

credentials_app = typer.Typer(help="API key pairs (Client ID + Client Secret).", no_args_is_help=True)

ClientIdArgument = Annotated[str, typer.Argument(metavar="CLIENT_ID", help="The key pair's Client ID.")]


def _pair_json(pair: KeyPair, secret: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "client_id": pair.client_id,
        "org_id": str(pair.org_id),
        "label": pair.label,
        "access": pair.access,
        "created": pair.created.isoformat(),
        "last_used": pair.last_used.isoformat() if pair.last_used else None,
    }
    if secret is not None:
        data["client_secret"] = secret
    return data


def _show_secret(as_json: bool, data: dict[str, object], verb: str) -> None:
    if as_json:
        emit_json(data)
        return
    out.print(f"{verb} key pair ({'read-write' if data['access'] == 'rw' else 'read-only'})")
    out.print(f"  Client ID:     [bold]{data['client_id']}[/bold]")
    out.print(f"  Client Secret: [bold]{data['client_secret']}[/bold]")
    out.print("[yellow]The secret is shown only now; store it safely.[/yellow]")


@credentials_app.command("create")
def credentials_create(
    org: OrgOption,
    label: Annotated[str, typer.Option("--label", help="What the key pair is for.")] = "",
    read_only: Annotated[bool, typer.Option("--read-only", help="A read-only key pair (default: read-write).")] = False,
    created_by: Annotated[
        uuid.UUID | None, typer.Option("--created-by", help="User that API writes are attributed to.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Generate a key pair; its secret is shown once."""
    access = AccessLevel.READ_ONLY if read_only else AccessLevel.READ_WRITE
    with admin_session() as session:
        issued = credentials.create_key_pair(session, org, label=label, access=access, created_by=created_by)
        data = _pair_json(issued.pair, issued.client_secret)
    _show_secret(as_json, data, "Generated")


@credentials_app.command("list")
def credentials_list(org: OrgOption, as_json: JsonFlag = False) -> None:
    """List an organization's key pairs (never their secrets)."""
    with admin_session() as session:
        rows = [_pair_json(p) for p in credentials.list_key_pairs(session, org)]
    report_rows(
        as_json, rows, ["Label", "Client ID", "Access", "Created", "Last used"],
        lambda r: [r["label"], r["client_id"], r["access"], r["created"], r["last_used"] or "never"],
    )


@credentials_app.command("rotate")
def credentials_rotate(client_id: ClientIdArgument, as_json: JsonFlag = False) -> None:
    """Give a key pair a new secret; tokens issued with the old one stop working."""
    with admin_session() as session:
        issued = credentials.rotate_key_pair(session, client_id)
        data = _pair_json(issued.pair, issued.client_secret)
    _show_secret(as_json, data, "Rotated")


@credentials_app.command("delete")
def credentials_delete(client_id: ClientIdArgument, as_json: JsonFlag = False) -> None:
    """Delete a key pair; its tokens stop working."""
    with admin_session() as session:
        credentials.delete_key_pair(session, client_id)
    report(as_json, {"client_id": client_id, "deleted": True}, f"Deleted key pair {client_id}")
