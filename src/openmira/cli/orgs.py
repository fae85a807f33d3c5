"""``openmira orgs``: organizations, MSPs and sub-accounts."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, YesFlag, admin_session, confirm, report, report_rows
from openmira.orgs import service as orgs
from openmira.orgs.models import License, Organization

orgs_app = typer.Typer(help="Organizations, MSPs and sub-accounts.", no_args_is_help=True)

OrgArgument = Annotated[uuid.UUID, typer.Argument(metavar="ORG_ID", help="Organization ID.")]


def org_json(org: Organization) -> dict[str, object]:
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
    """Create an organization, an MSP (--msp) or an MSP's sub-account (--parent)."""
    with admin_session() as session:
        data = org_json(orgs.create_org(session, name, msp=msp, parent_id=parent, license=license))
    report(as_json, data, f"Created {data['kind']} [bold]{data['name']}[/bold] with ID {data['id']}")


@orgs_app.command("list")
def orgs_list(as_json: JsonFlag = False) -> None:
    """List every organization with its kind, license and parent MSP."""
    with admin_session() as session:
        rows = [org_json(o) for o in orgs.list_orgs(session)]
    report_rows(
        as_json, rows, ["ID", "Name", "Kind", "License", "Parent"],
        lambda r: [r["id"], r["name"], r["kind"], r["license"], r["parent_id"]],
    )


@orgs_app.command("rename")
def orgs_rename(
    org: OrgArgument,
    name: Annotated[str, typer.Option("--name", help="The new name.")],
    as_json: JsonFlag = False,
) -> None:
    """Give an organization a new name."""
    with admin_session() as session:
        data = org_json(orgs.rename_org(session, org, name))
    report(as_json, data, f"Renamed {data['id']} to [bold]{data['name']}[/bold]")


@orgs_app.command("delete")
def orgs_delete(
    org: OrgArgument,
    yes: YesFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete an organization with its users, key pairs, findings and devices (an MSP: its sub-accounts first)."""
    with admin_session() as session:
        name = orgs.get_org(session, org).name
        confirm(yes, f"Delete {name} ({org}) and all of its data?")
        orgs.delete_org(session, org)
    report(as_json, {"id": str(org), "deleted": True}, f"Deleted organization [bold]{name}[/bold] ({org})")
