"""What ``openmira demo`` prints: the credentials, a ready curl command, and where the docs are.

Plain lines, never wrapped, so that the curl command can be copied as it stands.
"""

from __future__ import annotations

import json

from openmira.config import Settings
from openmira.demo.tenant import DEMO_PASSWORD, DEMO_USERS, DemoCredential


def banner(settings: Settings, creds: list[DemoCredential]) -> str:
    base = settings.public_url
    lines = ["", "=== OpenMira demo ===", ""]
    for c in creds:
        lines += [
            f"{c.name}: {'read-write' if c.access == 'rw' else 'read-only'} key pair of organization {c.org_id}",
            f"  Client ID:     {c.client_id}",
            f"  Client Secret: {c.client_secret}",
        ]
    first = creds[0]
    body = json.dumps(
        {
            "grant_type": "client_credentials",
            "client_id": first.client_id,
            "client_secret": first.client_secret,
            "audience": "public-api",
        }
    )
    lines += [
        "",
        "Get a token (as Blumira documents it) and call the API:",
        f"  TOKEN=$(curl -s -X POST {base}/oauth/token -H 'Content-Type: application/json' -d '{body}'"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f'  curl -s {base}/public-api/v1/org/users -H "Authorization: Bearer $TOKEN"',
        f"  curl -s '{base}/public-api/v1/org/findings?status=10&order_by=priority,created;desc'"
        ' -H "Authorization: Bearer $TOKEN"',
        "",
        f"API base URL: {settings.api_base_url}",
        f"Token URL:    {base}/oauth/token",
        f"API docs:     {settings.api_base_url}/ui/",
        f"Console users: {', '.join(u[0] for u in DEMO_USERS)} (password: {DEMO_PASSWORD})",
        "",
    ]
    return "\n".join(lines)


def print_banner(settings: Settings, creds: list[DemoCredential]) -> None:
    print(banner(settings, creds), flush=True)
