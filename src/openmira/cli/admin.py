"""Admin commands: organizations, users, key pairs, signing keys, database."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from openmira.auth.signing import rotate_signing_key
from openmira.cli.context import admin_session, emit_json, err, out, prepare_database
from openmira.config import MAX_RATE_LIMIT, get_settings
from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel, KeyPair
from openmira.orgs import service as orgs
from openmira.orgs.models import License, Organization
from openmira.users import service as users
from openmira.users.models import Role, User

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
RATE_LIMIT_HELP = (
    "Requests per second for this key pair, instead of the deployment's "
    "(OPENMIRA_RATE_LIMIT for an organization's pairs, OPENMIRA_MSP_RATE_LIMIT for an MSP's)."
)

orgs_app = typer.Typer(help="Organizations, MSPs and sub-accounts.", no_args_is_help=True)
users_app = typer.Typer(help="Users of an organization.", no_args_is_help=True)
credentials_app = typer.Typer(help="API key pairs (Client ID + Client Secret).", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _org_json(org: Organization) -> dict[str, object]:
    return {
        "id": str(org.id),
        "name": org.name,
        "kind": org.kind,
        "license": org.license,
        "parent_id": str(org.parent_id) if org.parent_id else None,
        "created": org.created.isoformat(),
    }


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Option("--name", help="Organization name.")],
    msp: Annotated[bool, typer.Option("--msp", help="Make it an MSP.")] = False,
    parent: Annotated[uuid.UUID | None, typer.Option("--parent", help="The MSP this is a sub-account of.")] = None,
    license: Annotated[License, typer.Option("--license", help="License of the organization.")] = License.ADVANCED,
    as_json: JsonFlag = False,
) -> None:
    with admin_session() as session:
        org = orgs.create_org(session, name, msp=msp, parent_id=parent, license=license)
        data = _org_json(org)
    if as_json:
        emit_json(data)
    else:
        out.print(f"Created {data['kind']} [bold]{data['name']}[/bold] with ID {data['id']}")


@orgs_app.command("list")
def orgs_list(as_json: JsonFlag = False) -> None:
    with admin_session() as session:
        rows = [_org_json(o) for o in orgs.list_orgs(session)]
    if as_json:
        emit_json(rows)
        return
    table = Table("ID", "Name", "Kind", "License", "Parent")
    for r in rows:
        table.add_row(str(r["id"]), str(r["name"]), str(r["kind"]), str(r["license"]), str(r["parent_id"] or ""))
    out.print(table)


def _user_json(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "org_id": str(user.org_id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": [Role(r).label for r in user.role_ids],
        "has_password": user.password_hash is not None,
    }


@users_app.command("create")
def users_create(
    org: Annotated[uuid.UUID, typer.Option("--org", help="Organization ID.")],
    email: Annotated[str, typer.Option("--email")],
    first_name: Annotated[str, typer.Option("--first-name")] = "",
    last_name: Annotated[str, typer.Option("--last-name")] = "",
    role: Annotated[
        list[str] | None, typer.Option("--role", help="administrator, manager, analyst or responder; repeatable.")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Console password (at least 8 characters).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    try:
        roles = [Role[r.upper()] for r in (role or ["analyst"])]
    except KeyError as exc:
        err.print(
            f"[red]error:[/red] unknown role {exc.args[0].lower()!r}; use administrator, manager, analyst or responder"
        )
        raise typer.Exit(1) from None
    with admin_session() as session:
        user = users.create_user(
            session, org, email, first_name=first_name, last_name=last_name, roles=roles, password=password
        )
        data = _user_json(user)
    if as_json:
        emit_json(data)
    else:
        out.print(f"Created user {data['email']} with ID {data['id']}")


@users_app.command("list")
def users_list(
    org: Annotated[uuid.UUID, typer.Option("--org", help="Organization ID.")], as_json: JsonFlag = False
) -> None:
    with admin_session() as session:
        rows = [_user_json(u) for u in users.list_users(session, org)]
    if as_json:
        emit_json(rows)
        return
    table = Table("ID", "Email", "Name", "Roles")
    for r in rows:
        table.add_row(
            str(r["id"]), str(r["email"]), f"{r['first_name']} {r['last_name']}".strip(), ", ".join(r["roles"])
        )  # type: ignore[arg-type]
    out.print(table)


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option("--email")],
    password: Annotated[str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    with admin_session() as session:
        user = users.set_password(session, email, password)
        out.print(f"Password set for {user.email}")


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


def _show_secret(data: dict[str, object], verb: str) -> None:
    out.print(f"{verb} key pair ({'read-write' if data['access'] == 'rw' else 'read-only'})")
    out.print(f"  Client ID:     [bold]{data['client_id']}[/bold]")
    out.print(f"  Client Secret: [bold]{data['client_secret']}[/bold]")
    out.print("[yellow]The secret is shown only now; store it safely.[/yellow]")


@credentials_app.command("create")
def credentials_create(
    org: Annotated[uuid.UUID, typer.Option("--org", help="Organization ID.")],
    label: Annotated[str, typer.Option("--label")] = "",
    read_only: Annotated[bool, typer.Option("--read-only", help="A read-only key pair (default: read-write).")] = False,
    created_by: Annotated[
        uuid.UUID | None, typer.Option("--created-by", help="User that API writes are attributed to.")
    ] = None,
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", min=1, max=MAX_RATE_LIMIT, help=RATE_LIMIT_HELP)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    access = AccessLevel.READ_ONLY if read_only else AccessLevel.READ_WRITE
    with admin_session() as session:
        issued = credentials.create_key_pair(
            session, org, label=label, access=access, created_by=created_by, rate_limit=rate_limit
        )
        data = _pair_json(issued.pair, issued.client_secret)
    emit_json(data) if as_json else _show_secret(data, "Generated")


@credentials_app.command("list")
def credentials_list(
    org: Annotated[uuid.UUID, typer.Option("--org", help="Organization ID.")], as_json: JsonFlag = False
) -> None:
    with admin_session() as session:
        rows = [_pair_json(p) for p in credentials.list_key_pairs(session, org)]
    if as_json:
        emit_json(rows)
        return
    table = Table("Label", "Client ID", "Access", "Rate limit", "Created", "Last used")
    for r in rows:
        table.add_row(
            str(r["label"]), str(r["client_id"]), str(r["access"]), _limit_text(r["rate_limit"]), str(r["created"]),
            str(r["last_used"] or "never"),
        )
    out.print(table)


@credentials_app.command("rotate")
def credentials_rotate(client_id: str, as_json: JsonFlag = False) -> None:
    with admin_session() as session:
        issued = credentials.rotate_key_pair(session, client_id)
        data = _pair_json(issued.pair, issued.client_secret)
    emit_json(data) if as_json else _show_secret(data, "Rotated")


@credentials_app.command("delete")
def credentials_delete(client_id: str, as_json: JsonFlag = False) -> None:
    with admin_session() as session:
        pair = credentials.delete_key_pair(session, client_id)
        data = {"client_id": pair.client_id, "deleted": True}
    emit_json(data) if as_json else out.print(f"Deleted key pair {client_id}")


def _limit_text(rate_limit: object) -> str:
    return f"{rate_limit}/s" if rate_limit is not None else "default"


@credentials_app.command("set-limit")
def credentials_set_limit(
    client_id: str,
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
    emit_json(data) if as_json else out.print(message)


@keys_app.command("rotate")
def keys_rotate(as_json: JsonFlag = False) -> None:
    """A new key signs tokens from now on; earlier keys stay published until their tokens expire."""
    with admin_session() as session:
        kid = rotate_signing_key(session)
    emit_json({"kid": kid}) if as_json else out.print(f"New signing key {kid}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run while servers are running)."""
    prepare_database(get_settings())
    out.print("Database is up to date.")
