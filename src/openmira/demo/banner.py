"""What ``openmira demo`` prints: the credentials, ready curl commands, and where the docs are.

Plain lines, never wrapped, so that the curl commands can be copied as they stand.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from openmira.config import Settings
from openmira.demo.tenant import DEMO_MSP_USERS, DEMO_PASSWORD, DEMO_USERS, DemoCredential

_TOKEN_FROM_STDIN = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"


def _token_command(base: str, variable: str, cred: DemoCredential) -> str:
    body = json.dumps(
        {
            "grant_type": "client_credentials",
            "client_id": cred.client_id,
            "client_secret": cred.client_secret,
            "audience": "public-api",
        }
    )
    return (
        f"  {variable}=$(curl -s -X POST {base}/oauth/token -H 'Content-Type: application/json' -d '{body}'"
        f" | {_TOKEN_FROM_STDIN})"
    )


def banner(settings: Settings, creds: list[DemoCredential]) -> str:
    base = settings.public_url
    api = settings.api_base_url
    lines = ["", "=== OpenMira demo ===", ""]
    for c in creds:
        kind = "MSP" if c.name.startswith("msp") else "organization"
        lines += [
            f"{c.name}: {'read-write' if c.access == 'rw' else 'read-only'} key pair of {kind} {c.org_id}",
            f"  Client ID:     {c.client_id}",
            f"  Client Secret: {c.client_secret}",
        ]
    by_name = {c.name: c for c in creds}
    lines += [
        "",
        "Get a token (as Blumira documents it) and call the API:",
        _token_command(base, "TOKEN", by_name["org-rw"]),
        f'  curl -s {api}/org/users -H "Authorization: Bearer $TOKEN"',
        f"  curl -s '{api}/org/findings?status=10&order_by=priority,created;desc' -H \"Authorization: Bearer $TOKEN\"",
    ]
    if "msp-rw" in by_name:
        lines += [
            "As the MSP:",
            _token_command(base, "MSP_TOKEN", by_name["msp-rw"]),
            f'  curl -s {api}/msp/accounts -H "Authorization: Bearer $MSP_TOKEN"',
            f"  curl -s '{api}/msp/accounts/findings?status=10' -H \"Authorization: Bearer $MSP_TOKEN\"",
        ]
    console_users = [u[0] for u in [*DEMO_USERS, *DEMO_MSP_USERS]]
    lines += [
        "",
        f"API base URL: {api}",
        f"Token URL:    {base}/oauth/token",
        f"API docs:     {api}/ui/",
        f"Console:      {base}/console/ as {', '.join(console_users)} (password: {DEMO_PASSWORD})",
        f"Database:     {settings.database_label}",
        # `openmira` is on PATH only where it is installed; in a checkout, ./dev runs it from .venv.
        "Admin CLI:    openmira --help (in a checkout: ./dev --help, e.g. ./dev orgs list)",
        "",
    ]
    return "\n".join(lines)


def banner_json(settings: Settings, creds: list[DemoCredential]) -> dict[str, object]:
    """The banner's facts for scripts (``openmira demo --json``)."""
    return {
        "api_base_url": settings.api_base_url,
        "token_url": f"{settings.public_url}/oauth/token",
        "docs_url": f"{settings.api_base_url}/ui/",
        "console_url": f"{settings.public_url}/console/",
        "database": settings.database_label,
        "credentials": [asdict(c) for c in creds],
    }


def print_banner(settings: Settings, creds: list[DemoCredential]) -> None:
    print(banner(settings, creds), flush=True)
