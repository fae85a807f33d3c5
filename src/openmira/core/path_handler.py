"""The request handler of a route whose only parameters FastAPI solves are its path's.

FastAPI's request handler (``fastapi.routing.get_request_handler``) reads the body, solves the route's
dependencies and parameters, runs the endpoint and turns its answer into a response. For a route of
``core.routing`` that takes nothing from FastAPI but its path parameters and the request (the rest is
request-local: the route provides it) and answers a ``Response`` itself, all of that comes down to validating
the path parameters and calling the endpoint, and FastAPI's generality cost a sixth of a finding's
instructions (a response object made for nothing, the query string, the headers and the cookies
read for no parameter, each path parameter's annotation analysed anew; measured, issue 11).

This handler does only that, through FastAPI's own pieces, so what a client and a deployment see is FastAPI's:
each path parameter is validated by its FastAPI field, as ``request_params_to_args`` validates a scalar path
parameter (the same values, the same errors in the same order: for the path's plain strings that function
comes down to this one call, at a tenth of its cost), a failure is the same ``RequestValidationError``, and
the native telemetry records the same operation spans (``fastapi.dependencies``, ``fastapi.endpoint``), the
same data for processors and the same validation-failure log. Those telemetry functions are FastAPI's private
ones (nothing public records an operation span); ``tests/core/test_path_handler.py`` compares the answers,
errors, spans and logs of both handlers, so a FastAPI release that changes them fails there.

A route qualifies or keeps FastAPI's handler when FastAPI builds its handler: where it is registered, and for
a route included in a router once per inclusion, from what that inclusion adds (``core.routing``). One way to
run each route as served.

Such a route registered where it is served (not included: FastAPI builds an included route's app itself) is
also served by :func:`path_only_app` rather than FastAPI's ``request_response`` around its handler: see there.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import _extract_endpoint_context
from fastapi.telemetry import get_telemetry_data
from fastapi.telemetry._api import _operation, _validation_failed
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from fastapi._compat import ModelField

Handler = Callable[[Request], Awaitable[Response]]
# Path parameter types whose value FastAPI takes from the path as it is: no sequence, model or JSON to unpack.
_SCALARS = (uuid.UUID, int, str)


def _takes_only_its_path(dependant: Dependant) -> bool:
    """Whether FastAPI would solve nothing for ``dependant`` but its path parameters and the request, each
    parameter a plain value its path holds (no parameter model, sequence or JSON to unpack, no other name to
    read it by, never missing: FastAPI's own reading of such a parameter comes down to :func:`path_parameters`).
    """
    if dependant.path is None:
        return False
    in_path = compile_path(dependant.path)[2]
    return (
        dependant.request_param_name is not None
        and inspect.iscoroutinefunction(dependant.call)
        and not (
            dependant.dependencies
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
            or dependant.http_connection_param_name
            or dependant.websocket_param_name
            or dependant.background_tasks_param_name
            or dependant.response_param_name
            or dependant.security_scopes_param_name
        )
        and all(
            field.field_info.annotation in _SCALARS
            and field.field_info.validation_alias is None
            and field.alias in in_path
            for field in dependant.path_params
        )
    )


def _answers_a_response(endpoint: Callable[..., Any]) -> bool:
    """Whether ``endpoint`` is declared to answer a ``Response``, which FastAPI sends as it is (it turns anything
    else into one through the route's response model). A handler that answers otherwise than it declares is a
    500 here, where FastAPI would have serialized what it answered: the declaration is the contract."""
    returns = inspect.signature(endpoint, eval_str=True).return_annotation
    return inspect.isclass(returns) and issubclass(returns, Response)


def path_parameters(fields: list[ModelField], path: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The values of a route's scalar path parameters and their errors, as ``request_params_to_args`` finds
    them: a matched route's path holds a non-empty string for each, which its field validates as it is."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for field in fields:
        value, failed = field.validate(path[field.alias], values, loc=("path", field.alias))
        if failed:
            errors.extend(failed)
        else:
            values[field.name] = value
    return values, errors


def path_only_handler(dependant: Dependant, endpoint: Callable[..., Any]) -> Handler | None:
    """The request handler of a route whose FastAPI parameters are its path's and whose ``endpoint`` (the
    handler as written) answers a ``Response``; ``None`` for any other route (it keeps FastAPI's)."""
    if not (_takes_only_its_path(dependant) and _answers_a_response(endpoint)):
        return None
    call = dependant.call
    assert call is not None and dependant.request_param_name is not None
    fields = dependant.path_params
    request_name = dependant.request_param_name

    async def handle(request: Request) -> Response:
        # As get_request_handler, for a route with no body, no dependencies and nothing but its path to solve.
        telemetry = get_telemetry_data()
        if telemetry is not None:
            telemetry.request = request
        with _operation(name="dependencies", function=call):
            values, errors = path_parameters(fields, request.path_params)
            values[request_name] = request
            if telemetry is not None:
                telemetry.values = values
                telemetry.errors = errors
        if errors:
            context = _extract_endpoint_context(call)
            if dependant.path:
                mount_path = request.scope.get("root_path", "").rstrip("/")
                context = {**context, "path": f"{request.method} {mount_path}{dependant.path}"}
            failure = RequestValidationError(errors, body=None, endpoint_ctx=context)
            _validation_failed(failure)
            raise failure
        with _operation(name="endpoint", function=call):
            response = await call(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{endpoint.__name__} is declared to answer a Response and answered {response!r}")
        return response

    return handle


def path_only_app(handler: Handler) -> ASGIApp:
    """The ASGI app of a route registered with a :func:`path_only_handler` (``handler``, with what the route
    adds around it) on an app's own router: FastAPI's ``request_response`` without the two parts that do
    nothing for such a route, which cost about 5% of a finding's instructions (issue 11).

    - Its two exit stacks (``fastapi_inner_astack``, ``fastapi_function_astack``) serve dependencies with
      ``yield``; the route has no dependency FastAPI solves.
    - Its exception layer answers an exception of the handler with the app's exception handlers, which the
      app's ``ExceptionMiddleware`` applies the same way as the exception leaves the router (the handlers in
      the scope, an error once the response has started raised). Between the two lie only FastAPI's exit stack
      middleware and the router, which let it pass (a route on a mount with middleware of its own would have
      that middleware in between; ``core.routing`` registers none). The handlers get a request on the same
      scope, not the handler's own ``Request`` object: nothing set on that object reaches them, a body it read
      included (ours read the scope, its state and the URL).
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return app
