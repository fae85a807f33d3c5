"""Schemathesis against the served OpenAPI document: every operation, with three kinds of key.

The document is loaded from the in-process app (``/public-api/v1/openapi.json``) and every operation is
fuzzed with positive and negative data through a read-write key, a read-only key and an MSP key, over a
world with real data (two MSPs with sub-accounts, a plain organization with findings, comments,
evidence, devices and an installation key). Each generated case is sent twice when the operation has
path IDs: once as generated (random IDs: a 404 or a 400) and once with the IDs replaced by real ones of
the caller's scope, so the handlers run over real rows and their answers are checked too.

Checks: no 5xx; every status code, content type, header and body conforms to the document; data that
breaks the document is rejected with a 4xx. Bounded: a few cases per operation, derandomized.
"""

from __future__ import annotations

import json
import os
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openmira.app import create_app
from openmira.db.session import make_engine
from tests.conftest import make_runtime, make_settings
from tests.helpers import API, KeyPairInfo
from tests.msp.conftest import Account, MspWorld, world  # noqa: F401  (the fixture)

MAX_EXAMPLES = int(os.environ.get("OPENMIRA_FUZZ_EXAMPLES", "12"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

OBJECT_PARAMS = {
    "finding_id": "finding_ids",
    "device_id": "device_ids",
    "key_id": "key_ids",
    "rule_id": "rule_ids",
    "command_id": "command_ids",
    "id": "webhook_ids",  # Blumira's name for a webhook endpoint's ID
    "delivery_id": "delivery_ids",
}


@pytest.fixture(params=["rw", "ro", "msp"])
def key(request: pytest.FixtureRequest, world: MspWorld) -> tuple[str, KeyPairInfo, Account]:  # noqa: F811
    """The key and the account whose IDs are the caller's own (an MSP's own webhooks are in its ``extra``)."""
    if request.param == "msp":
        account = replace(world.a1)
        account.extra = world.msp_a.extra  # type: ignore[attr-defined]
        return "msp", world.msp_a.rw, account
    pair = world.plain.rw if request.param == "rw" else world.plain.ro
    return request.param, pair, world.plain_data


def _served_schema() -> Any:
    """The document as the app serves it. It does not depend on the data, so it is loaded once, at
    collection, from an app on an empty in-memory database; each test then sends its cases to the app of
    its own fixtures. (``schemathesis.pytest.from_fixture`` would load it per test, but its lazy loader
    does not run on pytest 9.2, whose nodes no longer have ``_nodeid``.)

    It is fetched by a TestClient outside ``with``, which runs no lifespan, and nothing of that app runs
    after. Not with ``schemathesis.openapi.from_asgi``: that starts the app's lifespan in schemathesis's
    shared event-loop thread and keeps it until the first test ends, and its command sweeper, on this
    database without tables, logged a traceback every second. On CPython 3.11 before 3.11.8, formatting a
    traceback calls ``ast.parse``, and one in another thread during the main thread's own (collection
    here: assertion rewriting, hypothesis describing schemathesis's lambdas) can fail that one with
    ``SystemError: AST constructor recursion depth mismatch`` (CPython gh-106905)."""
    settings_ = make_settings("sqlite://")
    runtime = make_runtime(settings_, make_engine(settings_.database_url))
    document = TestClient(create_app(settings_, runtime)).get(f"{API}/openapi.json").raise_for_status().json()
    runtime.engine.dispose()
    loaded = schemathesis.openapi.from_dict(document)
    # Unknown query parameters are ignored by contract (real clients send extras such as account_id), so
    # extra parameters are not "invalid data"; and every case carries the key's token (sent below).
    loaded.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    return loaded


schema = _served_schema()


def _own_ids(case: Any, account: Account) -> dict[str, Any]:
    """The case's path parameters with every ID replaced by one of the caller's own."""
    pick = zlib.crc32(repr(sorted((case.query or {}).items())).encode())
    params = dict(case.path_parameters or {})
    msp_own = case.operation.path.startswith("/msp/webhooks") and hasattr(account, "extra")
    # Blumira names a basis rule's ID `rule_id` too; on that path it is one of the global catalog's.
    basis = case.operation.path.startswith("/msp/basis-detection-rules")
    for name in params:
        if name == "account_id":
            params[name] = str(account.id)
        elif name in OBJECT_PARAMS:
            attribute = "basis_rule_ids" if basis and name == "rule_id" else OBJECT_PARAMS[name]
            ids = account.extra[attribute] if msp_own else getattr(account, attribute)  # type: ignore[attr-defined]
            params[name] = str(ids[pick % len(ids)])
    return params


def _own_query(case: Any) -> dict[str, Any] | None:
    """The case's query, less an evidence ``order_by``: its fields are the keys of the finding's own rows,
    which a generated value cannot know (tests/findings/test_evidence_order.py tests it)."""
    if case.query is None or not case.operation.path.endswith("/evidence"):
        return case.query
    return {name: value for name, value in case.query.items() if name != "order_by"}


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _own_users(body: Any, account: Account) -> Any:
    """A generated body whose user IDs (well-formed ones) are replaced by users of the caller's scope."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if _is_uuid(body.get("sender")):
        body["sender"] = str(account.user_ids[0])
    owners = body.get("owners")
    if isinstance(owners, list) and owners and all(_is_uuid(o) for o in owners):
        body["owners"] = [str(account.user_ids[i % len(account.user_ids)]) for i in range(len(owners))]
    return body


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms(case: Any, client: TestClient, key: tuple[str, KeyPairInfo, Account]) -> None:
    name, pair, account = key
    headers = {"Authorization": f"Bearer {pair.token}"}
    calls = [case.call_and_validate(headers=headers, checks=CHECKS, app=client.app)]
    if case.path_parameters and case.method.upper() == case.operation.method.upper():
        # A new case. A positive one keeps its metadata (so valid data must be accepted with real IDs
        # too); a negative one's metadata may describe the random IDs, so it goes without.
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        own = case.operation.Case(
            _meta=case.meta if positive else None,
            method=case.method,
            path_parameters=_own_ids(case, account),
            query=_own_query(case),
            headers=case.headers,
            body=_own_users(case.body, account),
            media_type=case.media_type,
        )
        calls.append(own.call_and_validate(headers=headers, checks=CHECKS, app=client.app))
    _record(name, case, [r.status_code for r in calls])


# What was sent, for docs/reliability.md: OPENMIRA_FUZZ_STATS=<file> writes it at the end of the module (each
# pytest-xdist worker its own share, to <file>.<worker>; `./dev test -n 0` writes one file).
STATS: dict[str, dict[str, Any]] = {}


def _record(key_name: str, case: Any, codes: list[int]) -> None:
    entry = STATS.setdefault(f"{key_name} {case.operation.label}", {"cases": 0, "requests": 0, "statuses": {}})
    entry["cases"] += 1
    entry["requests"] += len(codes)
    for code in codes:
        entry["statuses"][str(code)] = entry["statuses"].get(str(code), 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _write_stats() -> Iterator[None]:
    yield
    target = os.environ.get("OPENMIRA_FUZZ_STATS")
    if target and STATS:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        Path(f"{target}.{worker}" if worker else target).write_text(json.dumps(STATS, indent=1, sort_keys=True))
