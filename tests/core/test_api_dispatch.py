"""An API request enters the API app at its own middleware (core/dispatch.py), ahead of the outer app's framework
layers, inside the middleware both share: an unexpected error in an API handler is still the API's 500 problem
document with the request ID, and a tenant prefix's scope (now provided by the route) still scopes as before."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmira.app import create_app
from openmira.core.limits import RequestLimitsMiddleware
from openmira.findings import service
from openmira.runtime import Runtime
from tests.findings.factory import make_finding
from tests.hardening.asgi import http_scope
from tests.helpers import API, WIRE_HEADERS, Tenant, assert_problem


def test_an_unexpected_error_in_an_api_handler_is_a_500_problem_with_the_request_id(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug, with a secret: s3cr3t")

    monkeypatch.setattr(service, "finding_out", broken)
    with TestClient(create_app(runtime.settings, runtime), raise_server_exceptions=False) as client:
        response = client.get(
            f"{API}/org/findings/{uuid.uuid4()}", headers={**tenant.rw.headers, "X-Request-ID": "trace-me-1"}
        )
        body = assert_problem(response, 500)
        assert "s3cr3t" not in response.text and body["detail"] == "The server could not complete the request."
        assert response.headers["x-request-id"] == "trace-me-1"
        # Logged once, with its traceback, though it passes the API's error layer and then the one outside it.
        logged = [r for r in caplog.records if r.name.startswith("openmira") and r.exc_info]
        assert len(logged) == 1 and "s3cr3t" in str(logged[0].exc_info[1])
        # The next request is served as usual.
        assert client.get(f"{API}/org/users", headers=tenant.rw.headers).status_code == 200


def test_the_org_scope_from_the_route_scopes_reads_to_the_tokens_organization(
    client: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = client.get(f"{API}/org/users", headers=tenant.rw.headers).json()["data"]
    theirs = client.get(f"{API}/org/users", headers=other_tenant.rw.headers).json()["data"]
    assert mine and theirs and not {u["id"] for u in mine} & {u["id"] for u in theirs}
    assert_problem(client.get(f"{API}/org/users/{theirs[0]['id']}", headers=tenant.rw.headers), 404)


def test_an_unexpected_error_in_the_shared_middleware_is_still_a_500_problem_logged_once(
    runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An API request skips the outer app's framework layers, not its error answer: a bug in the middleware both
    apps share is a problem document, not the server's plain-text 500."""

    passing = RequestLimitsMiddleware.__call__

    async def broken(self: RequestLimitsMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("a bug in a shared layer")
        await passing(self, scope, receive, send)  # the lifespan

    monkeypatch.setattr(RequestLimitsMiddleware, "__call__", broken)
    with TestClient(create_app(runtime.settings, runtime), raise_server_exceptions=False) as client:
        for path in (f"{API}/org/users", "/oauth/token"):
            body = assert_problem(client.get(path, headers=tenant.rw.headers), 500)
            assert body["detail"] == "The server could not complete the request."
    logged = [r for r in caplog.records if r.name.startswith("openmira") and r.exc_info]
    assert len(logged) == 2 and all("a bug in a shared layer" in str(r.exc_info[1]) for r in logged)


def test_a_middleware_added_to_the_app_wraps_api_requests_too(runtime: Runtime, tenant: Tenant) -> None:
    """As Starlette adds one: outermost, around every request (the API's included), once."""

    def stamped(app: ASGIApp) -> ASGIApp:
        async def stamp(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_stamped(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), (b"x-stamp", b"1")]
                await send(message)

            await app(scope, receive, send_stamped)

        return stamp

    app = create_app(runtime.settings, runtime)
    app.add_middleware(stamped)
    with TestClient(app) as client:
        for path in (f"{API}/org/users", f"{API}/health", "/console/sign-in"):
            response = client.get(path, headers=tenant.rw.headers)
            assert response.status_code == 200 and response.headers.get_list("x-stamp") == ["1"], path


def test_a_write_answers_each_rate_limit_header_once(client: TestClient, tenant: Tenant, db: Session) -> None:
    finding = make_finding(db, tenant.org_id)
    db.commit()
    response = client.post(
        f"{API}/org/findings/{finding.id}/comments", headers=tenant.rw.headers,
        json={"body": "<p>checked</p>", "sender": str(tenant.admin_id)},
    )
    assert response.status_code in (200, 201), response.text
    assert [name for name, _ in response.headers.raw] == WIRE_HEADERS


_COMMENT = json.dumps({"body": "<p>checked</p>", "sender": str(uuid.uuid4())}).encode()


@pytest.mark.parametrize(
    ("length", "status", "detail"),
    [
        (b"\xb2", 400, "invalid Content-Length"),
        (b"1x", 400, "invalid Content-Length"),
        (b"9" * 5000, 413, "the request body exceeds 1048576 bytes"),
        (b"0" * 5000 + str(len(_COMMENT)).encode(), 404, None),  # passed on: the finding is not there
    ],
)
def test_a_content_length_is_read_as_ascii_digits_of_any_length(
    runtime: Runtime, tenant: Tenant, length: bytes, status: int, detail: str | None
) -> None:
    """'\u00b2' (byte 0xb2, which the middleware decodes as latin-1) passes ``str.isdigit`` but not ``int``, and
    ``int`` refuses more than 4,300 digits: each must be the edge's answer, not an error (uvicorn's parser
    refuses such headers before the app, but not every server does)."""
    app = create_app(runtime.settings, runtime)
    headers = [
        (b"authorization", tenant.rw.headers["Authorization"].encode()), (b"content-type", b"application/json"),
        (b"content-length", length),
    ]
    scope = http_scope("POST", f"{API}/org/findings/{uuid.uuid4()}/comments", headers)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": _COMMENT, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == status
    if detail is not None:
        assert json.loads(sent[1]["body"])["detail"] == detail
