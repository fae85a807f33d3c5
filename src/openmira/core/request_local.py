"""Dependencies that read only the request, which ``core.routing``'s routes call themselves."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def request_local(dependency: F | None = None, *, query: type[BaseModel] | None = None) -> Any:
    """Mark an async dependency that takes only the request and reads only it (its state, the app's runtime,
    its query). A handler parameter declared with it is provided by the route (``core.routing``) rather than
    FastAPI's dependency solver, which costs about 5 µs per dependency and request, and 10 µs per query
    parameter (measured, issue 11).

    Without ``query`` it must not fail, and it adds nothing to the OpenAPI document. With ``query``, a model
    of query parameters it reads with :func:`read_query`, the route documents them as FastAPI documents a
    query model, and a 400 lists their errors where FastAPI listed them when it solved them as a dependency
    (after the route's own dependencies', before the handler's other parameters).

    It may be a route's own dependency too (a tenant prefix's scope). Such a dependency may take path parameters
    besides the request (an MSP account's ID), which the route validates and documents as the handler's own, and
    it may fail (a 403, a 404). The route calls it after FastAPI has read the body and solved what it solves (the
    handler's other parameters, its FastAPI dependencies) and before the handler's request-local parameters; when
    FastAPI refused the request first, the route still calls it if its own parameters are valid, and what it
    raises is the answer: as FastAPI answered when it solved it before all but the body. Its parameters' errors
    lead a 400. So a dependency FastAPI solves for such a route runs before the scope: it must not take the scope
    (``Scoped``) or write (the read-write check, ``writer``, only reads the principal)."""

    if query is not None:
        _check_plain(query)

    def mark(function: F) -> F:
        function.request_local = True  # type: ignore[attr-defined]
        function.query_model = query  # type: ignore[attr-defined]
        return function

    return mark if dependency is None else mark(dependency)


def is_request_local(dependency: Callable[..., Any] | None) -> bool:
    return getattr(dependency, "request_local", False)


def _check_plain(model: type[BaseModel]) -> None:
    """:func:`read_query` reads one value per field by its name, as FastAPI does for such fields; a list field
    (FastAPI reads every repeated value) or an alias (FastAPI accepts each) would be read differently."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        kinds = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        if field.validation_alias is not None or (field.alias or name) != name or any(
            get_origin(kind) in (list, set, tuple, frozenset) or kind in (list, set, tuple, frozenset)
            for kind in kinds
        ):
            raise TypeError(f"{model.__name__}.{name}: a query model read by the route takes plain named values")


class QueryValidationError(RequestValidationError):
    """The 400 of a request-local dependency's query model, raised after FastAPI validated the rest."""


def read_query(model: type[M], request: Request) -> M:
    """``model``'s fields from the request's query, validated as FastAPI validates a query model (the last
    of repeated values; unknown parameters ignored), its errors located in the query as FastAPI's are."""
    params = request.query_params
    present = {name: params[name] for name in model.model_fields if name in params}  # by name: _check_plain
    try:
        return model.model_validate(present)
    except ValidationError as exc:
        errors = [{**error, "loc": ("query", *error["loc"])} for error in exc.errors(include_url=False)]
        raise QueryValidationError(errors) from None


@lru_cache
def query_parameters(model: type[BaseModel]) -> tuple[dict[str, Any], ...]:
    """``model``'s fields as OpenAPI query parameters, exactly as FastAPI documents a query model (generated
    by FastAPI itself, once, from a route that takes it)."""

    def endpoint(query: Any) -> None: ...

    endpoint.__annotations__ = {"query": Annotated[model, Query()], "return": None}
    app = FastAPI()
    app.get("/")(endpoint)
    return tuple(app.openapi()["paths"]["/"]["get"].get("parameters", []))
