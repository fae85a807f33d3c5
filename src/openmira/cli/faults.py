"""``openmira faults``: inject failures into a running deployment (through its database), and clear them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from openmira.cli.context import admin_session, emit_json, out

faults_app = typer.Typer(
    help="Injected failures for rehearsals: 429/500/503 answers, latency, revoked tokens. Off unless set.",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ClientOption = Annotated[str | None, typer.Option("--client-id", help="One key pair [default: every key pair].")]


@faults_app.command("set")
def faults_set(
    client_id: ClientOption = None,
    status: Annotated[int | None, typer.Option("--status", help="Answer with 429, 500 or 503.")] = None,
    latency_ms: Annotated[int | None, typer.Option("--latency-ms", help="Delay each answer this long.")] = None,
    count: Annotated[int | None, typer.Option("--count", help="Only the next N requests.")] = None,
    share: Annotated[float | None, typer.Option("--share", help="Only this share of requests (0..1].")] = None,
    retry_after: Annotated[int | None, typer.Option("--retry-after", help="Retry-After of a 429 [1].")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a fault; every server process applies it within a second."""
    from openmira.faults.service import FaultSpec, fault_json, set_fault

    spec = FaultSpec(client_id, status, latency_ms, count, share, retry_after)
    with admin_session() as session:
        data = fault_json(set_fault(session, spec))
    if as_json:
        emit_json(data)
    else:
        out.print(f"Fault {data['id']} set")


@faults_app.command("list")
def faults_list(as_json: JsonFlag = False) -> None:
    """List the faults in force: which key pair (or all), what answer, latency, how many or what share left."""
    from openmira.faults.service import fault_json, list_faults

    with admin_session() as session:
        rows = [fault_json(f) for f in list_faults(session)]
    if as_json:
        emit_json(rows)
        return
    table = Table("ID", "Key pair", "Status", "Latency ms", "Remaining", "Share")
    for r in rows:
        table.add_row(*(str(r[k]) if r[k] is not None else "" for k in
                        ("id", "client_id", "status", "latency_ms", "remaining", "share")))
    out.print(table)


@faults_app.command("clear")
def faults_clear(client_id: ClientOption = None, as_json: JsonFlag = False) -> None:
    """Remove every fault (or one key pair's)."""
    from openmira.faults.service import clear_faults

    with admin_session() as session:
        removed = clear_faults(session, client_id)
    if as_json:
        emit_json({"removed": removed})
    else:
        out.print(f"Removed {removed} fault(s)")


@faults_app.command("revoke-tokens")
def faults_revoke_tokens(client_id: ClientOption = None, as_json: JsonFlag = False) -> None:
    """Make the tokens issued so far answer 401 (the secret stays valid: clients must fetch a new token)."""
    from openmira.faults.service import revoke_tokens

    with admin_session() as session:
        revoked = revoke_tokens(session, client_id)
    if as_json:
        emit_json({"key_pairs": revoked})
    else:
        out.print(f"Revoked the tokens of {revoked} key pair(s)")
