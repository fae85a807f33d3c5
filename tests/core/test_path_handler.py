"""A route whose only FastAPI parameters are its path's runs without FastAPI's request handler
(``core.path_handler``): it must answer, fail and record telemetry exactly as FastAPI's handler does.

The app is built twice on the same runtime, once as served and once with every route on FastAPI's handler, both
with FastAPI's native telemetry on (an in-memory span exporter and log exporter), and the same requests are sent
to both."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Path, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.telemetry import get_telemetry_data
from fastapi.testclient import TestClient
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.core import routing
from openmira.core.path_handler import path_parameters
from openmira.core.routing import TransactionalRoute
from openmira.core.wire import WireJSONResponse
from openmira.runtime import Runtime
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant

# Headers that differ between any two answers: the request's ID, the time, the limiter's running count.
_VOLATILE_HEADERS = {"x-request-id", "date", "x-ratelimit-remaining", "x-ratelimit-reset"}


class DataSeen(SpanProcessor):
    """What FastAPI gives telemetry processors (``get_telemetry_data``) as each span ends."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_end(self, span: ReadableSpan) -> None:
        data = get_telemetry_data()
        if data is None or data.values is None:
            self.seen.append((span.name, None))
            return
        values = {name: type(value) if name == "_route_request" else value for name, value in data.values.items()}
        self.seen.append((span.name, type(data.request), data.body, values, data.errors))


@dataclass
class Observed:
    """An app on the given runtime with FastAPI's telemetry recorded in memory."""

    client: TestClient
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter
    data: DataSeen
    routes: list[TransactionalRoute]

    def send(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        self.spans.clear()
        self.logs.clear()
        self.data.seen.clear()
        response = self.client.request(method, path, headers=headers)
        finished = self.spans.get_finished_spans()
        names = {span.context.span_id: span.name for span in finished}
        return {
            "status": response.status_code,
            "body": response.content,
            "headers": [(k, v) for k, v in response.headers.items() if k not in _VOLATILE_HEADERS],
            "spans": [
                (
                    span.name,
                    span.kind,
                    span.status.status_code,
                    names.get(span.parent.span_id) if span.parent else None,
                    sorted((k, v) for k, v in (span.attributes or {}).items() if k != "client.port"),
                )
                for span in finished
            ],
            "logs": [
                (
                    record.log_record.event_name,
                    record.log_record.body,
                    record.log_record.severity_text,
                    sorted((record.log_record.attributes or {}).items()),
                )
                for record in self.logs.get_finished_logs()
            ],
            "data": list(self.data.seen),
        }


def _observed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *, fastapi_handler: bool) -> Iterator[Observed]:
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider, logger_provider = TracerProvider(), LoggerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    data = DataSeen()
    tracer_provider.add_span_processor(data)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    with monkeypatch.context() as patch:
        if fastapi_handler:
            patch.setattr(routing, "path_only_handler", lambda *_: None)
        app = create_app(runtime.settings, runtime)
    # What FastAPI(telemetry={...}) sets, on the app the server runs (a mounted app's telemetry defers to it).
    app._telemetry.update(tracer_provider=tracer_provider, logger_provider=logger_provider)  # type: ignore[attr-defined]
    api = next(route.app for route in app.routes if getattr(route, "path", "") == API)  # type: ignore[attr-defined]
    routes = [route for route in api.routes if isinstance(route, TransactionalRoute)]
    with TestClient(app) as client:
        yield Observed(client, spans, logs, data, routes)


@pytest.fixture
def served(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    yield from _observed(runtime, monkeypatch, fastapi_handler=False)


@pytest.fixture
def on_fastapi(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    yield from _observed(runtime, monkeypatch, fastapi_handler=True)


def test_which_routes_run_without_fastapis_handler(served: Observed, on_fastapi: Observed) -> None:
    path_only = {(route.path_format, *sorted(route.methods)) for route in served.routes if route.path_only}
    # The finding and its details take their ID and answer a response; the list (a query FastAPI reads), a
    # comment (a body) and an MSP account's finding (a dependency FastAPI solves) keep FastAPI's handler.
    assert {("/org/findings/{finding_id}", "GET"), ("/org/findings/{finding_id}/details", "GET")} <= path_only
    assert not path_only & {
        ("/org/findings", "GET"),
        ("/org/findings/{finding_id}/comments", "POST"),
        ("/msp/accounts/{account_id}/findings/{finding_id}", "GET"),
    }
    assert not any(route.path_only for route in on_fastapi.routes)


_IDS = [
    "not-a-uuid",
    "123",
    "details",
    "%20",
    "%C3%A9",
    "x" * 600,
    "00000000-0000-0000-0000-00000000000g",
]


def test_the_same_answers_errors_spans_and_logs_as_fastapis_handler(
    served: Observed, on_fastapi: Observed, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    finding = make_finding(db, tenant.org_id).id
    elsewhere = make_finding(db, other_tenant.org_id).id
    db.commit()
    ids = [
        str(finding),
        str(finding).upper(),
        finding.hex,  # pydantic's UUID takes 32 hex digits, braces and the URN form too
        "{" + str(finding) + "}",
        finding.urn,
        str(elsewhere),  # another tenant's: the contract's 404
        str(uuid.uuid4()),
        *_IDS,
    ]
    compared: dict[int, int] = {200: 0, 400: 0, 404: 0}
    for path in ("/org/findings/{}", "/org/findings/{}/details"):
        for value in ids:
            for method, query, headers in (
                ("GET", "", tenant.rw.headers),
                ("GET", "?page=x&order_by=nope", tenant.ro.headers),  # a query such a route does not read
                ("GET", "?x=%00", tenant.rw.headers),  # the NUL rule's 400, after authentication
                ("GET", "", {}),  # no token: the 401 comes before the route
                ("POST", "", tenant.rw.headers),  # a method the route does not take
            ):
                url = API + path.format(value) + query
                ours, theirs = served.send(method, url, headers), on_fastapi.send(method, url, headers)
                assert ours == theirs, (method, url)
                compared[ours["status"]] = compared.get(ours["status"], 0) + 1
    # Not only refusals: answers, validation errors (with their telemetry) and the contract's 404 were compared.
    assert compared[200] >= 20 and compared[400] >= 40 and compared[404] >= 4
    failed = served.send("GET", f"{API}/org/findings/not-a-uuid", tenant.rw.headers)
    assert [log[0] for log in failed["logs"]] == ["fastapi.validation.failed"]
    assert {span[0] for span in failed["spans"]} >= {"fastapi.dependencies"}
    answered = served.send("GET", f"{API}/org/findings/{finding}", tenant.rw.headers)
    assert {span[0] for span in answered["spans"]} >= {"fastapi.dependencies", "fastapi.endpoint"}
    # Processors saw the request, its parsed ID and no errors while the endpoint's span ended.
    endpoint = next(seen for seen in answered["data"] if seen[0] == "fastapi.endpoint")
    assert endpoint[1] is not type(None) and endpoint[3]["finding_id"] == finding and endpoint[4] == []


def _route(path: str, kind: Any) -> TransactionalRoute:
    app = FastAPI()

    async def endpoint(request, value):  # type: ignore[no-untyped-def]
        return WireJSONResponse({"value": str(value)})

    # Set, not written: the module's annotations are strings, and ``kind`` is this function's.
    endpoint.__annotations__ = {"request": Request, "value": Annotated[kind, Path()], "return": WireJSONResponse}

    app.router.route_class = TransactionalRoute
    app.get(path)(endpoint)
    route = app.routes[-1]
    assert isinstance(route, TransactionalRoute) and route.path_only
    return route


@pytest.mark.parametrize("kind", [uuid.UUID, int, str])
def test_path_values_and_errors_are_fastapis(kind: Any) -> None:
    fields = _route("/things/{value}", kind).dependant.path_params
    for value in ["1", "-7", "0x10", "1e3", " 42 ", "12345678123456781234567812345678", str(uuid.uuid4()), "é", "",
                  "9" * 5000, "true", "None"]:
        assert path_parameters(fields, {"value": value}) == request_params_to_args(fields, {"value": value}), value
