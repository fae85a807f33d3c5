"""Every timestamp of every operation's response has the one wire form (RFC 3339, UTC, six fractional
digits, Z), generated from the OpenAPI document so a new operation is covered without being listed."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import API
from tests.msp.conftest import MspWorld
from tests.msp.test_tenant_matrix import _body, _operations, _url

WIRE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# Anything that starts like a date and a time is taken for a timestamp, whatever its key.
LOOKS_LIKE_A_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) else []


def _caller(world: MspWorld, path: str) -> tuple[dict[str, str], Any, Any]:
    """Headers, account ID and the objects whose IDs fill the path, for the caller that owns them."""
    if path.startswith("/msp/webhooks"):
        return world.msp_a.rw.headers, None, world.msp_a
    if path.startswith("/msp"):
        return world.msp_a.rw.headers, world.a1.id, world.a1
    return world.plain.rw.headers, None, world.plain_data


def test_every_timestamp_of_every_operation_has_the_one_form(client: TestClient, world: MspWorld) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    without_ids = [(m.upper(), p, op["operationId"]) for p, item in spec["paths"].items() for m, op in item.items()
                   if "{" not in p and m == "get"]
    checked, seen = 0, set()
    for method, path, operation_id in [*without_ids, *_operations(client)]:
        headers, account_id, objects = _caller(world, path)
        body = _body(method, path, objects if hasattr(objects, "user_ids") else world.a1)
        response = client.request(method, _url(path, account_id, objects), headers=headers, json=body)
        assert response.status_code < 300, (operation_id, response.text)
        if response.status_code == 204 or not response.content:
            continue
        for where, text in _strings(response.json()):
            if LOOKS_LIKE_A_TIMESTAMP.match(text):
                assert WIRE_TIMESTAMP.match(text), (operation_id, where, text)
                checked += 1
                seen.add(operation_id)
    # The walk found timestamps in findings, devices, keys, commands, rules, webhooks and deliveries.
    assert checked > 100 and len(seen) >= 20, (checked, sorted(seen))
