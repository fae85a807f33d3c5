"""``openmira credentials``: API key pairs (Client ID + Client Secret)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, OrgOption, admin_session, emit_json, out, report, report_rows
from openmira.config import MAX_RATE_LIMIT
from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel, KeyPair

credentials_app = typer.Typer(help="API key pairs (Client ID + Client Secret).", no_args_is_help=True)

ClientIdArgument = Annotated[str, typer.Argument(metavar="CLIENT_ID", help="The key pair's Client ID.")]
RATE_LIMIT_HELP = (
    "Requests per second for this key pair, instead of the deployment's "
    "(OPENMIRA_RATE_LIMIT for an organization's pairs, OPENMIRA_MSP_RATE_LIMIT for an MSP's)."
)


def _pair_json(pair: KeyPair, secret: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "client_id": pair.client_id,
        "org_id": str(pair.org_id),
        "label": pair.label,
        "access": pair.access,
        "created": pair.created.isoformat(),
        "last_used": pair.last_used.isoformat() if pair.last_used else None,
        "rate_limit": pair.rate_limit,  # null: the deployment's limit for the organization's kind
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
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", min=1, max=MAX_RATE_LIMIT, help=RATE_LIMIT_HELP)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Generate a key pair; its secret is shown once."""
    access = AccessLevel.READ_ONLY if read_only else AccessLevel.READ_WRITE
    with admin_session() as session:
        issued = credentials.create_key_pair(
            session, org, label=label, access=access, created_by=created_by, rate_limit=rate_limit
        )
        data = _pair_json(issued.pair, issued.client_secret)
    _show_secret(as_json, data, "Generated")


@credentials_app.command("list")
def credentials_list(org: OrgOption, as_json: JsonFlag = False) -> None:
    """List an organization's key pairs (never their secrets)."""
    with admin_session() as session:
        rows = [_pair_json(p) for p in credentials.list_key_pairs(session, org)]
    report_rows(
        as_json, rows, ["Label", "Client ID", "Access", "Rate limit", "Created", "Last used"],
        lambda r: [
            r["label"], r["client_id"], r["access"], _limit_text(r["rate_limit"]), r["created"],
            r["last_used"] or "never",
        ],
    )


def _limit_text(rate_limit: object) -> str:
    return f"{rate_limit}/s" if rate_limit is not None else "default"


@credentials_app.command("set-limit")
def credentials_set_limit(
    client_id: ClientIdArgument,
    rate_limit: Annotated[
        int | None, typer.Argument(min=1, max=MAX_RATE_LIMIT, metavar="N", help=RATE_LIMIT_HELP)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Back to the deployment's limit.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Give a key pair its own requests-per-second limit (N), or take it away (--clear)."""
    if (rate_limit is None) == (not clear):
        raise typer.BadParameter("give either N or --clear")
    with admin_session() as session:
        data = _pair_json(credentials.set_rate_limit(session, client_id, rate_limit))
    message = f"Key pair {client_id}: {_limit_text(rate_limit)} (running servers apply it within a second)"
    report(as_json, data, message)


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
