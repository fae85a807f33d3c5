"""Dependencies that read only the request, which ``core.routing``'s routes call themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def request_local(dependency: F) -> F:
    """Mark an async dependency that takes only the request and reads only it (its state, the app's runtime).
    A handler parameter declared with it is provided by the route (``core.routing``) rather than FastAPI's
    dependency solver, which costs about 5 µs per dependency and request. Such a dependency adds nothing
    to the OpenAPI document, so the document is the same either way.

    It must not fail: the route calls it after FastAPI has validated the request's other parameters, so an
    error it raised would come after a validation error rather than before it, as a solved dependency's
    does. It may be a route's dependency too (a tenant prefix's scope), called before the handler's."""
    dependency.request_local = True  # type: ignore[attr-defined]
    return dependency


def is_request_local(dependency: Callable[..., Any] | None) -> bool:
    return getattr(dependency, "request_local", False)
