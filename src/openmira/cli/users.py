"""``openmira users``: users of an organization, their console passwords, and their lifecycle."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, OrgOption, YesFlag, admin_session, confirm, fail, report, report_rows
from openmira.users import service as users
from openmira.users.models import Role, User

users_app = typer.Typer(help="Users of an organization.", no_args_is_help=True)

UserArgument = Annotated[str, typer.Argument(metavar="USER", help="The user's email address or ID.")]
# A person at a terminal is asked for the password without echo. `--password VALUE` stays for scripts
# (but shows the password in `ps` and shell history); `--password-stdin` reads it from a pipe.
PasswordOption = Annotated[
    str | None,
    typer.Option("--password", help="Console password (at least 8 characters); at a terminal, asked for instead."),
]
PasswordStdinFlag = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def interactive() -> bool:
    return sys.stdin.isatty()


def _password(password: str | None, from_stdin: bool, *, optional: bool) -> str | None:
    """The password from the option, standard input, or a hidden prompt (empty: none, if ``optional``)."""
    if from_stdin:
        if password is not None:
            fail("give either --password or --password-stdin, not both")
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--password-stdin: standard input holds no password")
    if password is not None or not interactive():
        return password
    hint = " (empty: none, no console sign-in)" if optional else ""
    entered = typer.prompt(f"Console password{hint}", default="" if optional else None, show_default=False,
                           hide_input=True, err=True)
    if not entered:
        return None
    if typer.prompt("Repeat it", hide_input=True, err=True) != entered:
        fail("the two passwords differ")
    return entered


def user_json(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "org_id": str(user.org_id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "roles": [Role(r).label for r in user.role_ids],
        "has_password": user.password_hash is not None,
        "disabled": user.disabled,
    }


@users_app.command("create")
def users_create(
    org: OrgOption,
    email: Annotated[str, typer.Option("--email", help="Email address; also the console sign-in name.")],
    first_name: Annotated[str, typer.Option("--first-name")] = "",
    last_name: Annotated[str, typer.Option("--last-name")] = "",
    role: Annotated[
        list[str] | None, typer.Option("--role", help="administrator, manager, analyst or responder; repeatable.")
    ] = None,
    password: PasswordOption = None,
    password_stdin: PasswordStdinFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a user to an organization (without a password, the user cannot sign in to the console)."""
    try:
        roles = [Role[r.upper()] for r in (role or ["analyst"])]
    except KeyError as exc:
        fail(f"unknown role {exc.args[0].lower()!r}; use administrator, manager, analyst or responder")
    secret = _password(password, password_stdin, optional=True)
    with admin_session() as session:
        data = user_json(users.create_user(
            session, org, email, first_name=first_name, last_name=last_name, roles=roles, password=secret
        ))
    report(as_json, data, f"Created user {data['email']} with ID {data['id']}")


@users_app.command("list")
def users_list(org: OrgOption, as_json: JsonFlag = False) -> None:
    """List an organization's users with their roles."""
    with admin_session() as session:
        rows = [user_json(u) for u in users.list_users(session, org)]
    report_rows(
        as_json, rows, ["ID", "Email", "Name", "Roles", "Status"],
        lambda r: [r["id"], r["email"], f"{r['first_name']} {r['last_name']}".strip(), ", ".join(r["roles"]),
                   "disabled" if r["disabled"] else "active"],
    )


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option("--email", help="The user's email address.")],
    password: PasswordOption = None,
    password_stdin: PasswordStdinFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Set a user's console password (which signs out their console sessions)."""
    secret = _password(password, password_stdin, optional=False)
    if secret is None:
        fail("give the password at a terminal, with --password-stdin, or with --password")
    with admin_session() as session:
        data = user_json(users.set_password(session, email, secret))
    report(as_json, data, f"Password set for {data['email']}")


def _set_disabled(ref: str, disabled: bool, as_json: bool) -> None:
    with admin_session() as session:
        data = user_json(users.set_disabled(session, users.find_user(session, ref), disabled))
    report(as_json, data, f"{'Disabled' if disabled else 'Enabled'} user {data['email']}")


@users_app.command("disable")
def users_disable(user: UserArgument, as_json: JsonFlag = False) -> None:
    """Stop a user from signing in to the console (their sessions end); what they did stays theirs."""
    _set_disabled(user, True, as_json)


@users_app.command("enable")
def users_enable(user: UserArgument, as_json: JsonFlag = False) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(user, False, as_json)


@users_app.command("delete")
def users_delete(
    user: UserArgument,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a user: their comments stay without a sender; their finding ownerships go."""
    with admin_session() as session:
        found = users.find_user(session, user)
        data = {"id": str(found.id), "email": found.email, "deleted": True}
        confirm(yes, f"Delete user {found.email}?")
        users.delete_user(session, found)
    report(as_json, data, f"Deleted user {data['email']}")
