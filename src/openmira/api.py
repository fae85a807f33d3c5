"""The Public API sub-application mounted at /public-api/v1.

Every resource router is registered once per tenant prefix: ``/org`` (the token's organization)
and ``/msp/accounts/{account_id}`` (one sub-account of the caller's MSP). The prefix's router-level
dependency resolves the tenant scope; the handlers are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from openmira import __version__
from openmira.agents.routes import catalog_router as agent_actions_router
from openmira.agents.routes import router as agents_router
from openmira.auth.principal import SECURITY_SCHEME, SECURITY_SCHEME_NAME, ApiAuthMiddleware
from openmira.auth.scope import msp_account_scope, msp_licensed_scope, msp_self_scope, org_scope
from openmira.core.envelope import Problem
from openmira.core.errors import PROBLEM_MEDIA_TYPE, install_problem_handlers
from openmira.core.limits import JsonBodyMiddleware
from openmira.core.nul import NulGuardMiddleware
from openmira.core.route_index import index_routes
from openmira.detection_rules.routes import basis_router as basis_rules_router
from openmira.detection_rules.routes import router as detection_rules_router
from openmira.docs_ui.routes import install_docs_ui
from openmira.findings.routes import details_router as finding_details_router
from openmira.findings.routes import msp_finding_router
from openmira.findings.routes import router as findings_router
from openmira.meta.routes import router as meta_router
from openmira.msp.routes import account_router as msp_account_router
from openmira.msp.routes import accounts_router as msp_accounts_router
from openmira.operations import operation_id
from openmira.runtime import Runtime
from openmira.users.routes import router as users_router
from openmira.webhooks.routes import router as webhooks_router

# Resource routers that run under both the org and the per-account MSP prefix.
TENANT_ROUTERS: list[APIRouter] = [findings_router, users_router, agents_router, detection_rules_router]
# Routers that exist under /org only (Blumira has no MSP finding details and no MSP action catalog; an MSP's
# own webhooks are at /msp/webhooks, not per sub-account).
ORG_ONLY_ROUTERS: list[APIRouter] = [finding_details_router, agent_actions_router, webhooks_router]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem("Malformed input; `invalid_params` names each parameter that failed"),
    401: _problem("Missing, invalid, expired or revoked bearer token"),
    403: _problem("The key pair may not perform this operation"),
    404: _problem("No such object in the caller's scope"),
    429: _problem("Over the key pair's rate limit; see Retry-After"),
}


def _mount(
    api: FastAPI,
    resources: list[APIRouter],
    *,
    prefix: str = "",
    scope: Callable[..., Any] | None = None,
    only: str | None = None,
    skip: Collection[APIRoute] = (),
) -> None:
    """Register each route of ``resources`` on the API itself under ``prefix``, behind ``scope``.

    The routes are added to the API's own router rather than included as routers: FastAPI matches an
    included router by walking every level of it on each request (0.3 ms for this API's routes, more than
    a list page's query), where a flat list of routes is one regular expression each.
    """
    dependencies = [Depends(scope)] if scope is not None else []
    for resource in resources:
        for route in resource.routes:
            if not isinstance(route, APIRoute) or (only is not None and route.name != only) or route in skip:
                continue
            api.router.add_api_route(
                prefix + route.path,
                route.endpoint,
                methods=route.methods,
                name=route.name,
                dependencies=[*dependencies, *getattr(route, "declared_dependencies", route.dependencies)],
                responses={**AUTH_RESPONSES, **route.responses},
                response_model=route.response_model,
                status_code=route.status_code,
                response_class=route.response_class,
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                tags=route.tags,
                deprecated=route.deprecated,
                include_in_schema=route.include_in_schema,
                openapi_extra=route.openapi_extra,
                route_class_override=type(route),
                # Blumira's operationId (operations.py), found by the route's method and full path.
                generate_unique_id_function=operation_id,
            )


def create_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(
        title="OpenMira Public API",
        version=__version__,
        description=(
            "An open implementation of the Blumira Public API. Obtain a token from `POST /oauth/token` "
            "(client-credentials grant) and send it as `Authorization: Bearer <token>`."
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.runtime = runtime
    install_problem_handlers(api)
    # The NUL rule (core/nul.py) runs here, after authentication, for the API: an unauthenticated request
    # is a 401 whatever it holds, and its body is never parsed.
    api.add_middleware(NulGuardMiddleware, json_bodies=False)
    api.add_middleware(JsonBodyMiddleware)
    api.add_middleware(ApiAuthMiddleware, runtime=runtime)

    # Routes are matched in this order, the first that fits wins: the findings lists first (most of the
    # traffic, matched with the fewest tries); the all-accounts findings also before /msp/accounts/{account_id}
    # would take "findings" for an account ID.
    _mount(api, [findings_router], prefix="/msp/accounts", scope=msp_licensed_scope, only="get_findings")
    _mount(api, [*TENANT_ROUTERS, *ORG_ONLY_ROUTERS], prefix="/org", scope=org_scope)
    _mount(api, [meta_router])
    _mount(api, [msp_accounts_router, msp_account_router, basis_rules_router])
    # The MSP's finding by ID is the details shape (findings.routes.msp_finding_router).
    org_finding = [r for r in findings_router.routes if isinstance(r, APIRoute) and r.name == "get_finding"]
    _mount(api, [msp_finding_router, *TENANT_ROUTERS], prefix="/msp/accounts/{account_id}", scope=msp_account_scope,
           skip=org_finding)
    # The webhook handlers once more, for what the MSP itself owns.
    _mount(api, [webhooks_router], prefix="/msp", scope=msp_self_scope)
    install_docs_ui(api)
    _complete_document(api)
    index_routes(api.router)
    return api


# Answers of the middlewares in front of routing (core/limits.py, the health check), documented on the
# operations where they can happen.
def _problem_doc(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


_REQUEST_LIMITS = {
    "414": _problem_doc("The URL is longer than 8 KiB"),
    "431": _problem_doc("More than 100 header fields or 16 KiB of headers"),
}
_BODY_PROBLEMS = {
    "413": _problem_doc("The body is larger than the server's limit (1 MiB by default)"),
    "415": _problem_doc("The body is not application/json"),
}
_NOT_READY = {"503": _problem_doc("Not ready: the database is not reachable")}


# Operations that need no token (the middleware's PUBLIC_PATHS that are operations).
_PUBLIC_PATHS = {"/health"}
_OAUTH2 = {
    "type": "oauth2",
    "description": (
        "The client-credentials grant at this server's token endpoint: Swagger UI's Authorize fetches the "
        "token from a Client ID and Secret."
    ),
    # A relative reference, resolved against the server (OpenAPI 3.1): the token endpoint of whatever
    # address the document was read from, as for `servers`, so the UI works behind any host name.
    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
}


def _document_security(schema: dict[str, Any]) -> None:
    """Every operation but the health check needs a token (checked by ``ApiAuthMiddleware``, not by a route
    dependency), from either scheme: pasted (bearerAuth) or fetched from a Client ID and Secret (oauth2)."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.update({SECURITY_SCHEME_NAME: SECURITY_SCHEME, "oauth2": _OAUTH2})
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            if path not in _PUBLIC_PATHS:
                operation["security"] = [{SECURITY_SCHEME_NAME: []}, {"oauth2": []}]


def _document_problems(schema: dict[str, Any]) -> None:
    """FastAPI documents validation failures as 422; this API answers them with a 400 problem.

    It also documents what the middlewares answer before routing: 414 on every operation, 413 and 415 on
    operations with a body, 503 on the readiness check.
    """
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            responses.update(_REQUEST_LIMITS)
            if "requestBody" in operation:
                responses.update(_BODY_PROBLEMS)
            if path in _PUBLIC_PATHS:
                for code in ("401", "403", "404", "429"):
                    responses.pop(code, None)
                responses.update(_NOT_READY)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)


def _complete_document(api: FastAPI) -> None:
    """What FastAPI's document lacks: the problem answers and the security schemes, added once, when built."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = build()
            _document_problems(schema)
            _document_security(schema)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
