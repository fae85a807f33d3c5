"""``openmira seed``: organizations full of realistic findings, users, keys and devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from openmira.cli.context import JsonFlag, admin_session, emit_json, err, out


def seed(
    orgs: Annotated[int, typer.Option("--orgs", min=0, max=10_000, help="Organizations to fill.")] = 3,
    findings: Annotated[
        int, typer.Option("--findings", min=0, max=5_000_000, help="Findings per organization.")
    ] = 1_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 1,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
            help="The moment the data ends at (UTC); findings span the 90 days before it.", show_default="now",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fill organizations with realistic demo data; reseeding with the same seed does not duplicate.

    Every finding gets owners; comment threads and evidence rows go to every finding of an
    organization with up to 20,000, and beyond that to 20,000 chosen at random plus the newest 1,000.
    An organization that already has the requested number of findings is kept; one with another
    number has its findings, devices and keys replaced.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from openmira.demo.seed import seed_orgs

    moment = as_of.replace(tzinfo=UTC) if as_of is not None else None
    columns = (TextColumn("Seeding findings"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with admin_session() as session, Progress(*columns, console=err, disable=as_json) as bar:
        task = bar.add_task("seed", total=orgs * findings)
        results = seed_orgs(
            session, orgs=orgs, findings=findings, seed=seed, as_of=moment,
            progress=lambda n: bar.advance(task, n), checkpoint=session.commit,
        )
    rows = [
        {"org_id": str(r.org_id), "name": r.name, "action": r.action, "findings": r.findings, "users": r.users,
         "devices": r.devices, "keys": r.keys}
        for r in results
    ]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        out.print(
            f"{r['action'].capitalize():8} [bold]{r['name']}[/bold] ({r['org_id']}): {r['findings']} findings, "
            f"{r['users']} users, {r['devices']} devices, {r['keys']} installation keys"
        )
