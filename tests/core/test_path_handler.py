"""A route whose only FastAPI parameters are its path's runs without FastAPI's request handler
(``core.path_handler``): it must answer, fail and record telemetry exactly as FastAPI's handler does.

The app is built twice on the same runtime, once as served and once with every route on FastAPI's handler, both
with FastAPI's native telemetry on (an in-memory span exporter and log exporter), and the same requests are sent
to both."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import fastapi.routing
import pytest
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Cookie,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.dependencies.utils import request_params_to_args
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import SecurityScopes
from fastapi.telemetry import get_telemetry_data
from fastapi.testclient import TestClient
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.orm import Session
from starlette.routing import Mount

from openmira.app import create_app
from openmira.core import routing
from openmira.core.path_handler import path_only_app, path_parameters
from openmira.core.request_local import request_local
from openmira.core.routing import TransactionalRoute
from openmira.orgs.service import create_org
from openmira.runtime import Runtime
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, make_tenant

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
        values = {name: type(value) if isinstance(value, Request) else value for name, value in data.values.items()}
        self.seen.append((span.name, type(data.request), data.body, values, data.errors))


@dataclass
class Observed:
    """An app on the given runtime with FastAPI's telemetry recorded in memory."""

    client: TestClient
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter
    data: DataSeen
    built: set[str]  # the paths of the routes whose handler is core.path_handler's

    def send(self, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
        self.spans.clear()
        self.logs.clear()
        self.data.seen.clear()
        response = self.client.request(method, path, headers=headers, follow_redirects=False)
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


# The console's routes are included in its app: FastAPI builds their handlers at their first request.
_CONSOLE = ["/console/settings", "/console/msp"]


@contextmanager
def _handlers_built(monkeypatch: pytest.MonkeyPatch, *, fastapi_handler: bool = False) -> Iterator[set[str]]:
    """The paths of the routes whose handlers, built meanwhile, are ``core.path_handler``'s (with
    ``fastapi_handler``, none: every route built meanwhile keeps FastAPI's)."""
    built: set[str] = set()
    choose = routing.path_only_handler

    def recorded(dependant: Any, endpoint: Any) -> Any:
        handler = None if fastapi_handler else choose(dependant, endpoint)
        if handler is not None:
            built.add(dependant.path)
        return handler

    with monkeypatch.context() as patch:
        patch.setattr(routing, "path_only_handler", recorded)
        yield built


def _observed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *, fastapi_handler: bool) -> Iterator[Observed]:
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider, logger_provider = TracerProvider(), LoggerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    data = DataSeen()
    tracer_provider.add_span_processor(data)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    with ExitStack() as stack:
        with _handlers_built(monkeypatch, fastapi_handler=fastapi_handler) as built:
            app = create_app(runtime.settings, runtime)
            # What FastAPI(telemetry={...}) sets, on the app the server runs (a mounted app's defers to it).
            app._telemetry.update(tracer_provider=tracer_provider, logger_provider=logger_provider)  # type: ignore[attr-defined]
            client = stack.enter_context(TestClient(app))
            for path in _CONSOLE:  # every handler built while the choice is this app's
                client.get(path, follow_redirects=False)
        yield Observed(client, spans, logs, data, built)


@pytest.fixture
def served(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    yield from _observed(runtime, monkeypatch, fastapi_handler=False)


@pytest.fixture
def on_fastapi(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    yield from _observed(runtime, monkeypatch, fastapi_handler=True)


def test_which_routes_run_without_fastapis_handler(served: Observed, on_fastapi: Observed) -> None:
    # The finding and its details take their ID and answer a response, and so does an MSP account's finding (the
    # account's ID is its scope's, a parameter the route validates as the handler's); the list (a query FastAPI
    # reads) and a comment (a body) keep FastAPI's handler. The console's pages that take nothing but the request
    # (two redirects), included in the console's app, qualify. (The API's routes are registered on the API itself:
    # their paths are without its prefix.)
    api = {
        "/org/findings/{finding_id}",
        "/org/findings/{finding_id}/details",
        "/msp/accounts/{account_id}/findings/{finding_id}",
    }
    assert served.built == {*api, "/settings", "/msp"}
    assert not on_fastapi.built
    # Registered where they are served, the API's are served by core.path_handler's app too (the console's pages
    # by the app FastAPI builds for their inclusion).
    assert _on_path_only_app(served.client.app) == api
    assert not _on_path_only_app(on_fastapi.client.app)


def _on_path_only_app(app: Any) -> set[str]:
    """The paths of the routes of ``app`` and the apps mounted in it that core.path_handler's app serves."""
    found: set[str] = set()
    for route in getattr(app, "routes", ()):  # a mounted app may have none (static files)
        if isinstance(route, Mount):
            found |= _on_path_only_app(route.app)
        elif getattr(getattr(route, "app", None), "__qualname__", "").startswith(path_only_app.__qualname__):
            found.add(route.path)
    return found


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
    for page in _CONSOLE:
        for query in ("", "?x=1"):
            ours, theirs = served.send("GET", page + query, {}), on_fastapi.send("GET", page + query, {})
            assert ours == theirs, page + query
            compared[ours["status"]] = compared.get(ours["status"], 0) + 1
    # Not only refusals: answers, validation errors (with their telemetry), the contract's 404 and the console's
    # redirects were compared.
    assert compared[200] >= 20 and compared[400] >= 40 and compared[404] >= 4 and compared[303] == 4
    # An MSP account's finding: the account's ID is its scope's parameter, which the route validates and calls
    # first; an organization's key is a 403 and another MSP's account a 404, whatever the finding's ID.
    msp = make_tenant(db, served.client, "MSP side by side", msp=True)
    account = create_org(db, "Side-by-side account", parent_id=msp.org_id)
    other_msp = make_tenant(db, served.client, "Other MSP side by side", msp=True)
    stranger = create_org(db, "Other account", parent_id=other_msp.org_id)
    in_account = make_finding(db, account.id).id
    db.commit()
    statuses: set[int] = set()
    for account_id in (account.id, stranger.id, "not-a-uuid", str(account.id).upper()):
        for value in (str(in_account), str(finding), "not-a-uuid"):
            for headers in (msp.rw.headers, msp.ro.headers, tenant.rw.headers):
                url = f"{API}/msp/accounts/{account_id}/findings/{value}"
                ours, theirs = served.send("GET", url, headers), on_fastapi.send("GET", url, headers)
                assert ours == theirs, url
                statuses.add(ours["status"])
    assert statuses == {200, 400, 403, 404}
    failed = served.send("GET", f"{API}/org/findings/not-a-uuid", tenant.rw.headers)
    assert [log[0] for log in failed["logs"]] == ["fastapi.validation.failed"]
    assert {span[0] for span in failed["spans"]} >= {"fastapi.dependencies"}
    answered = served.send("GET", f"{API}/org/findings/{finding}", tenant.rw.headers)
    assert {span[0] for span in answered["spans"]} >= {"fastapi.dependencies", "fastapi.endpoint"}
    # Processors saw the request, its parsed ID and no errors while the endpoint's span ended.
    endpoint = next(seen for seen in answered["data"] if seen[0] == "fastapi.endpoint")
    assert endpoint[1] is not type(None) and endpoint[3]["finding_id"] == finding and endpoint[4] == []


def _app(*handlers: tuple[str, Callable[..., Any]], **kwargs: Any) -> FastAPI:
    """An app whose routes are ``TransactionalRoute`` s at the given paths."""
    app = FastAPI(**kwargs)
    app.router.route_class = TransactionalRoute
    for path, handler in handlers:
        app.get(path)(handler)
    return app


def _echoing(*parameters: tuple[str, Any], returns: Any = Response) -> Callable[..., Any]:
    """A handler taking the request and ``parameters`` (name, annotation), answering its path and their values."""

    async def handler(request, **values):  # type: ignore[no-untyped-def]
        return PlainTextResponse(f"{request.url.path} {sorted(values.items())}")

    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            *(inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=a) for n, a in parameters),
        ],
        return_annotation=returns,
    )
    return handler


def _only_route(app: FastAPI) -> TransactionalRoute:
    route = app.routes[-1]
    assert isinstance(route, TransactionalRoute)
    return route


def _path_only(monkeypatch: pytest.MonkeyPatch, *handlers: tuple[str, Callable[..., Any]], **kwargs: Any) -> bool:
    """Whether the last of ``handlers``' routes, in an app made with ``kwargs``, runs on core.path_handler's."""
    with _handlers_built(monkeypatch) as built:
        app = _app(*handlers, **kwargs)
    return _only_route(app).path in built


@pytest.mark.parametrize("kind", [uuid.UUID, int, str])
def test_path_values_and_errors_are_fastapis(kind: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = _echoing(("value", Annotated[kind, Path()]))
    assert _path_only(monkeypatch, ("/things/{value}", handler))
    fields = _only_route(_app(("/things/{value}", handler))).dependant.path_params
    for value in ["1", "-7", "0x10", "1e3", " 42 ", "12345678123456781234567812345678", str(uuid.uuid4()), "é", "",
                  "9" * 5000, "true", "None"]:
        assert path_parameters(fields, {"value": value}) == request_params_to_args(fields, {"value": value}), value


_VALUE = ("value", Annotated[str, Path()])


@pytest.mark.parametrize(
    ("path", "parameters", "returns"),
    [
        ("/t/{value}", [_VALUE, ("h", Annotated[str, Header()])], Response),  # FastAPI reads a header
        ("/t/{value}", [_VALUE, ("c", Annotated[str, Cookie()])], Response),
        ("/t/{value}", [_VALUE, ("q", Annotated[str, Query()])], Response),
        ("/t/{value}", [_VALUE, ("tasks", BackgroundTasks)], Response),
        ("/t/{value}", [_VALUE, ("response", Response)], Response),  # FastAPI's sub-response, whose headers it adds
        ("/t/{value}", [_VALUE, ("scopes", SecurityScopes)], Response),
        ("/t/{value}", [("other", Annotated[str, Path(alias="value")])], Response),  # read by another name
        ("/t/{value}", [("value", Annotated[str | None, Path()])], Response),  # a type of no known reading
        ("/t/{value}", [_VALUE, ("missing", Annotated[str, Path()])], Response),  # FastAPI's missing error
        ("/t/{value}", [_VALUE], dict),  # FastAPI serializes what it answers
    ],
)
def test_a_route_that_needs_more_of_fastapi_keeps_its_handler(
    path: str, parameters: list[tuple[str, Any]], returns: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _path_only(monkeypatch, (path, _echoing(*parameters, returns=returns)))
    assert _path_only(monkeypatch, (path, _echoing(_VALUE)))


def _deny() -> None:
    raise HTTPException(403, "denied")


def test_dependencies_of_the_app_or_an_including_router_are_solved(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI adds them to the route's dependant (the app's) or builds the route's handler from the including
    router's context: either way the route keeps FastAPI's handler, and the dependency runs."""
    handler = _echoing(("value", Annotated[int, Path()]))
    assert not _path_only(monkeypatch, ("/t/{value}", handler), dependencies=[Depends(_deny)])
    assert _path_only(monkeypatch, ("/t/{value}", handler))
    guarded = _app(("/t/{value}", handler), dependencies=[Depends(_deny)])
    router = APIRouter(route_class=TransactionalRoute)
    router.get("/t/{value}")(handler)
    included = FastAPI()
    included.include_router(router, prefix="/p", dependencies=[Depends(_deny)])
    plain = FastAPI()
    plain.include_router(router, prefix="/p")
    with TestClient(guarded) as client:
        assert client.get("/t/1").status_code == 403
    # FastAPI builds an included route's handler at its first request, from that inclusion.
    with _handlers_built(monkeypatch) as built, TestClient(included) as client:
        assert client.get("/p/t/1").status_code == 403
    assert not built
    with _handlers_built(monkeypatch) as built, TestClient(plain) as client:
        assert client.get("/p/t/1").text == "/p/t/1 [('value', 1)]"
    assert built == {"/p/t/{value}"}  # included without dependencies: core.path_handler's, under the prefix


def _failure_details(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"errors": jsonable_encoder(exc.errors()), "context": exc.endpoint_ctx}, status_code=422)


def test_a_validation_error_is_fastapis_with_its_endpoint_context(monkeypatch: pytest.MonkeyPatch) -> None:
    # FastAPI remembers an endpoint's context by the function's id(), which a function made after another was
    # collected may reuse: this test's handlers, made anew, could be given an earlier test's (seen in CI).
    monkeypatch.setattr(fastapi.routing, "_endpoint_context_cache", {})
    handler = _echoing(("value", Annotated[int, Path(gt=3)]))
    answers = []
    for fastapi_handler in (False, True):
        with _handlers_built(monkeypatch, fastapi_handler=fastapi_handler) as built:
            app = _app(("/t/{value}", handler), exception_handlers={RequestValidationError: _failure_details})
        assert bool(built) is not fastapi_handler
        with TestClient(app, root_path="/behind") as client:
            answers.append([(r.status_code, r.content) for r in (client.get(f"/t/{v}") for v in ("x", "2", "4"))])
    ours, theirs = answers
    assert ours == theirs
    assert [status for status, _ in ours] == [422, 422, 200]
    assert b'"path":"GET /behind/t/{value}"' in ours[0][1] and b'"function":"handler"' in ours[0][1]


def test_an_included_routes_own_request_local_dependency_runs_once() -> None:
    calls: list[str] = []

    @request_local
    async def counted(request: Request) -> None:
        calls.append(request.url.path)

    router = APIRouter(route_class=TransactionalRoute)
    router.get("/t/{value}", dependencies=[Depends(counted)])(_echoing(("value", Annotated[int, Path()])))
    app = FastAPI()
    app.include_router(router, prefix="/p")
    with TestClient(app) as client:
        assert client.get("/p/t/1").status_code == 200
    assert calls == ["/p/t/1"]  # the route calls it; FastAPI, which the route leaves it out of, does not


def test_a_request_local_dependency_with_path_parameters_is_a_routes_own() -> None:
    """Its path parameters reach it only as the route's own dependency (validated, documented, passed); as a
    handler's parameter it would be called with the request alone: refused where the route is registered."""
    seen: list[int] = []

    @request_local
    async def scoped(request: Request, value: Annotated[int, Path(description="A value.")]) -> int:
        seen.append(value)
        return value

    router = APIRouter(route_class=TransactionalRoute)
    router.get("/t/{value}", dependencies=[Depends(scoped)])(_echoing())
    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/t/7").status_code == 200
        assert client.get("/t/x").status_code == 422
        parameters = client.get("/openapi.json").json()["paths"]["/t/{value}"]["get"]["parameters"]
    assert seen == [7]
    assert [(p["name"], p["in"], p["description"]) for p in parameters] == [("value", "path", "A value.")]

    async def handler(request, value):  # type: ignore[no-untyped-def]
        return PlainTextResponse(str(value))

    # Objects, not strings: ``scoped`` is local to this test.
    handler.__annotations__ = {"request": Request, "value": Annotated[int, Depends(scoped)], "return": Response}
    with pytest.raises(TypeError, match="take path parameters"):
        APIRouter(route_class=TransactionalRoute).get("/u/{value}")(handler)


class _Refused(Exception):
    pass


def _refused(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"refused {request.url.path} {exc}", status_code=409, headers={"x-refused": "1"})


async def _raising(request: Request, value: str) -> Response:
    """Fails in the way its path asks: before answering, or while its answer is sent."""
    if value == "teapot":
        raise HTTPException(418, "short and stout", headers={"x-pot": "tea"})
    if value == "refused":
        raise _Refused("by the handler")
    if value == "broken":
        raise RuntimeError("unexpected")

    async def body() -> Any:
        yield b"first "
        raise _Refused("mid-answer")  # handled, but the answer has started: an error either way

    return StreamingResponse(body()) if value == "streamed" else PlainTextResponse(value)


def test_the_handlers_exceptions_are_answered_as_by_fastapis_request_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """Served by core.path_handler's app, a route's exceptions reach the app's exception handlers through its
    ExceptionMiddleware, not FastAPI's layer around the route: the same answers either way."""
    answers = []
    for fastapi_handler in (False, True):
        with _handlers_built(monkeypatch, fastapi_handler=fastapi_handler):
            app = _app(("/t/{value}", _raising), exception_handlers={_Refused: _refused})
        assert (_on_path_only_app(app) == {"/t/{value}"}) is not fastapi_handler
        seen = []
        with TestClient(app, raise_server_exceptions=False) as client:
            for value in ("fine", "teapot", "refused", "broken", "x" * 40):
                response = client.get(f"/t/{value}")
                seen.append((response.status_code, sorted(response.headers.items()), response.content))
        with TestClient(app) as client, pytest.raises(RuntimeError, match="response already started") as raised:
            client.get("/t/streamed")
        seen.append(repr(raised.value.__cause__))
        answers.append(seen)
    ours, theirs = answers
    assert ours == theirs
    assert [answer[0] for answer in ours[:5]] == [200, 418, 409, 500, 200]


def test_a_route_with_a_body_limit_of_its_own_keeps_fastapis_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI applies a route's own body limit around the app it builds: such a route keeps that app (and
    still runs on core.path_handler's handler)."""
    with _handlers_built(monkeypatch) as built:
        app = FastAPI()
        app.router.route_class = TransactionalRoute
        app.get("/t/{value}", max_body_size=16)(_echoing(_VALUE))
        app.get("/u/{value}")(_echoing(_VALUE))
    assert built == {"/t/{value}", "/u/{value}"}
    assert _on_path_only_app(app) == {"/u/{value}"}
    with TestClient(app) as client:
        assert client.get("/t/x").text == "/t/x [('value', 'x')]"
        assert client.request("GET", "/t/x", content=b"x" * 64).status_code == 413
