"""``openmira conformance``: read-only contract checks against any server, a report, an exit code."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def conformance(
    base_url: Annotated[str, typer.Option("--base-url", help="The API base, e.g. http://host:8000/public-api/v1.")],
    token_url: Annotated[str, typer.Option("--token-url", help="The token endpoint, e.g. http://host:8000/oauth/token.")],
    client_id: Annotated[str, typer.Option("--client-id", envvar="BLUMIRA_CLIENT_ID")],
    client_secret: Annotated[str, typer.Option("--client-secret", envvar="BLUMIRA_CLIENT_SECRET")],
    msp: Annotated[bool, typer.Option("--msp", help="The key pair is an MSP's: check the /msp scope.")] = False,
    audience: Annotated[str, typer.Option("--audience")] = "public-api",
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    differences: Annotated[bool, typer.Option("--differences", help="List only what failed or was skipped.")] = False,
) -> None:
    """Check a server against the Blumira contract with GETs and token requests only (it never writes).
    Exit status 0 when nothing differs, 1 otherwise."""
    from rich.console import Console

    from openmira.conformance.probe import Probe
    from openmira.conformance.runner import render, run_checks

    probe = Probe(base_url, token_url, client_id, client_secret, msp=msp, audience=audience)
    try:
        report = run_checks(probe)
    finally:
        probe.close()
    if as_json:
        print(json.dumps({**report.as_json(), "requests": probe.requests}, indent=2))
    else:
        render(report, Console(), only_differences=differences)
    raise typer.Exit(1 if report.failed else 0)
