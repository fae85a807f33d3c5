"""The token endpoint (RFC 6749 client-credentials, contract section 2), JWKS and RFC 8414 metadata.

This is the one place that speaks RFC 6749 error bodies instead of problem documents.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openmira.auth.budgets import give_back, take_all
from openmira.core.routing import read_connection, run_read
from openmira.credentials.service import authenticate_client
from openmira.db.reads import CoreRow
from openmira.db.session import Reader
from openmira.runtime import Runtime, RuntimeDep, runtime_of

router = APIRouter(tags=["oauth"])

FAILURE_WINDOW = 60.0
# An address may fail this many times the per-client budget (summed over client IDs) before it is throttled.
ADDRESS_FACTOR = 10
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None):
        self.status, self.error, self.description = status, error, description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers={**_NO_STORE, **self.headers},
        )


def _invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


async def _read_fields(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            body: Any = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise _invalid_request("the body is not valid JSON") from None
        except RecursionError:  # nested deeper than the parser goes: no field of ours is nested at all
            raise _invalid_request("the JSON body is nested too deeply") from None
        if not isinstance(body, dict):
            raise _invalid_request("the JSON body must be an object")
    elif media_type == "application/x-www-form-urlencoded":
        try:
            body = dict(await request.form())
        except Exception:
            raise _invalid_request("the form body could not be parsed") from None
    else:
        raise _invalid_request(
            "send the parameters as application/x-www-form-urlencoded or application/json"
        )
    fields: dict[str, str] = {}
    for name, value in body.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise _invalid_request(f"{name} must be a string")
        fields[name] = value
    return fields


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 section 2.3.1: client_secret_basic, as an alternative to the body."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_request("the Basic authorization header is malformed") from None
    if not sep:
        raise _invalid_request("the Basic authorization header is malformed")
    client_id, secret = unquote(client_id), unquote(secret)
    # The header is base64, so the edge's NUL rule cannot see inside it: the same rule, here.
    if "\x00" in client_id or "\x00" in secret:
        raise _invalid_request("the Basic authorization header must not contain NUL characters")
    return client_id, secret


async def _reserve(runtime: Runtime, budgets: list[tuple[str, int]]) -> list[str]:
    """Take a slot of each failure budget before the secret is checked (atomically: N concurrent wrong
    secrets are N attempts, where checking first and counting after let 100 concurrent guesses through),
    or a 429 if one is spent. The slots are given back when the secret is right: only failures count."""
    taken, refusal = await take_all(runtime.limiter, budgets, FAILURE_WINDOW)
    if refusal is not None:
        raise OAuthError(
            429, "slow_down", "too many failed attempts; try again later", {"Retry-After": str(refusal.retry_after)}
        )
    return taken


def _failure_budgets(runtime: Runtime, client_id: str, address: str) -> list[tuple[str, int]]:
    """Failures are counted per (client ID, address), so wrong secrets sent from one place never lock out
    the right secret sent from another; and per address over all client IDs, with ten times the room, so a
    few unknown IDs do not lock out everyone behind one NAT but spraying many IDs from one place is slowed.
    There is no budget per client ID alone: that one let anybody lock out any key's owner, and secrets of
    384 random bits need no protection from guessing spread over many addresses."""
    limit = runtime.settings.token_failure_limit
    return [
        # "|" is in no address, so no (address, client ID) pair can name another pair's key.
        (f"tokenfail:pair:{address}|{client_id[:64]}", limit),
        (f"tokenfail:ip:{address}", limit * ADDRESS_FACTOR),
    ]


async def _check(
    request: Request, runtime: Runtime, budgets: list[tuple[str, int]], client_id: str, client_secret: str
) -> tuple[CoreRow, str]:
    """The key pair and a new token, the attempt counted against ``budgets`` only if the secret is wrong."""
    reserved = await _reserve(runtime, budgets)
    try:
        # The grant only reads, one Core statement: a read-only connection, as the API's reads take, without an
        # ORM session's unit of work around it (0.92-0.94x a grant's instructions, the signature included; issue 11).
        reader = read_connection(request)
        issued = await run_read(reader, lambda: _authenticate_and_issue(runtime, reader, client_id, client_secret))
    except BaseException:
        await give_back(runtime.limiter, reserved)  # not a failed attempt: the server failed
        raise
    if issued is None:  # the reserved slots stay taken: they are this failure's record
        raise OAuthError(
            401, "invalid_client", "client authentication failed",
            {"WWW-Authenticate": 'Basic realm="openmira", charset="UTF-8"'},
        )
    await give_back(runtime.limiter, reserved)
    return issued


@router.post("/oauth/token", summary="Obtain an access token (client-credentials grant)")
async def issue_token(request: Request) -> JSONResponse:
    try:
        return await _issue_token(request, runtime_of(request))
    except OAuthError as exc:
        return exc.response()


async def _issue_token(request: Request, runtime: Runtime) -> JSONResponse:
    fields = await _read_fields(request)
    grant_type = fields.get("grant_type")
    if not grant_type:
        raise _invalid_request("grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
    basic = _basic_credentials(request)
    client_id, client_secret = basic or (fields.get("client_id"), fields.get("client_secret"))
    missing = [n for n, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
    if missing:
        raise _invalid_request(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")
    assert client_id and client_secret
    audience = fields.get("audience", "public-api")
    accepted = runtime.settings.accepted_audiences
    if not _audience_accepted(audience, accepted):
        raise _invalid_request(f"unknown audience; use one of: {', '.join(accepted)} (a URL may end with /)")

    client_ip = request.client.host if request.client else "unknown"
    budgets = _failure_budgets(runtime, client_id, client_ip)
    (pair_budget, width), _ = budgets
    async with runtime.token_gate.hold(pair_budget, width):
        issued = await _check(request, runtime, budgets, client_id, client_secret)
    pair, token = issued
    body = {
        "access_token": token,
        "scope": pair.access,
        "expires_in": runtime.settings.token_lifetime,
        "token_type": "Bearer",
    }
    return JSONResponse(body, headers=_NO_STORE)


def _audience_accepted(audience: str, accepted: tuple[str, ...]) -> bool:
    """Real clients write the API base URL with and without its trailing slash; both name the same API.

    Only a URL gets the allowance: ``public-api`` is a name, not a path.
    """
    if audience in accepted:
        return True
    return "://" in audience and audience.endswith("/") and audience[:-1] in accepted


def _authenticate_and_issue(
    runtime: Runtime, db: Reader, client_id: str, client_secret: str
) -> tuple[CoreRow, str] | None:
    """The key pair and a new token for it, or None: the look-up and the RS256 signature in one place, which
    is where ``core.routing`` runs reads (the event loop for SQLite; for PostgreSQL a greenlet on the loop in
    the app's lifespan, else one hand-off to a thread)."""
    pair = authenticate_client(db, client_id, client_secret)
    if pair is None:
        return None
    token = runtime.verifier.issue(
        client_id=pair.client_id, org_id=pair.org_id, access=pair.access, tokens_valid_after=pair.tokens_valid_after,
        generation=pair.generation,
    )
    return pair, token


@router.get("/.well-known/jwks.json", summary="The public keys that sign access tokens")
def jwks(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(runtime.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 authorization server metadata")
def metadata(runtime: RuntimeDep) -> dict[str, object]:
    base = runtime.settings.public_url
    return {
        "issuer": runtime.settings.effective_issuer,
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "response_types_supported": [],
        "scopes_supported": ["rw", "ro"],
        "service_documentation": f"{runtime.settings.api_base_url}/ui/",
    }
