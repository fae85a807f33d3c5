"""The reference: a minimal hand-written server for the measured list and finding, the "Python ceiling".

It serves ``GET /public-api/v1/org/findings`` (unfiltered, ``page`` / ``page_size``, newest first) and
``GET /public-api/v1/org/findings/{id}`` on the database OpenMira serves, with the same JSON bytes, and
does the real work a request needs, as cheaply as plain Python allows:

- the bearer token is verified with PyJWT against the public key of its ``kid`` in ``signing_keys``
  once per token, then remembered until it expires;
- the key pair is looked up at most once a second per client (revocation as quick as OpenMira's);
- an in-memory sliding-window limit per key pair (``OPENMIRA_RATE_LIMIT``), with the same headers;
- one SQL query per page, joining the organization's name and the two people (``modified_by``,
  ``status_modified_by``); ``total_items`` from ``finding_counts``;
- orjson for the body.

No framework beyond Starlette's routing, no ORM, no validation models. It is a yardstick, not a second
implementation: it knows no filters, orderings, MSP scopes or writes.

Served by the benchmark with the same uvicorn command as the floor (``bench.reference:app``);
settings come from the environment (``OPENMIRA_DATABASE_URL``, ``OPENMIRA_RATE_LIMIT``,
``OPENMIRA_PUBLIC_URL`` / ``OPENMIRA_ISSUER``), as they do for OpenMira.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import unquote_plus

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.reference_store import Store, open_store

API = "/public-api/v1"
AUDIENCE = "public-api"
LEEWAY = 5
KEY_PAIR_TTL = 1.0
MAX_PAGE_SIZE = 200


def _issuer() -> str:
    issuer = os.environ.get("OPENMIRA_ISSUER") or os.environ.get("OPENMIRA_PUBLIC_URL") or "http://127.0.0.1:8000"
    return issuer.rstrip("/") + "/"


class Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


class Auth:
    """Bearer token -> organization, with the token, key-pair and rate-limit state kept in memory."""

    def __init__(self, store: Store, rate_limit: int) -> None:
        self._store = store
        self._rate_limit = rate_limit
        self._issuer = _issuer()
        self._tokens: dict[str, tuple[str, str, int, int]] = {}  # token -> client_id, org_id, iat, exp
        self._keys: dict[str, Any] = {}  # kid -> public key
        self._pairs: dict[str, tuple[float, tuple[str, int, int | None] | None]] = {}
        self._logs: dict[str, deque[float]] = {}

    async def _verify(self, token: str) -> tuple[str, str, int, int]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Refused(401, "the token is not a well-formed JWT") from None
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None and isinstance(kid, str):
            pem = await self._store.private_pem(kid)
            if pem is not None:
                key = self._keys[kid] = _public(pem)
        if key is None:
            raise Refused(401, "the token was signed by an unknown key")
        try:
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=self._issuer, leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "azp", "org", "scope"]},
            )
        except jwt.PyJWTError:
            raise Refused(401, "the token's signature or claims are invalid") from None
        return str(claims["azp"]), str(claims["org"]), int(claims["iat"]), int(claims["exp"])

    async def _pair(self, client_id: str) -> tuple[str, int, int | None] | None:
        now = time.monotonic()
        cached = self._pairs.get(client_id)
        if cached is None or now - cached[0] >= KEY_PAIR_TTL:
            cached = self._pairs[client_id] = (now, await self._store.key_pair(client_id))
        return cached[1]

    def _limit(self, client_id: str, limit: int) -> dict[str, str]:
        """A sliding log, as OpenMira's in-process limiter: at most ``limit`` requests in any second."""
        now = time.monotonic()
        log = self._logs.setdefault(client_id, deque())
        while log and log[0] <= now - 1.0:
            log.popleft()
        allowed = len(log) < limit
        if allowed:
            log.append(now)
        reset = math.ceil(log[0] + 1.0 - now) if log else 0
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(limit - len(log)),
                   "X-RateLimit-Reset": str(max(0, reset))}
        if not allowed:
            headers["Retry-After"] = str(max(1, reset))
            raise Refused(429, f"more than {limit} requests per second for this key pair", headers)
        return headers

    async def org(self, request: Request) -> tuple[str, dict[str, str]]:
        """The caller's organization ID (canonical text) and the rate-limit headers of the answer."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "a bearer token is required")
        claims = self._tokens.get(token)
        if claims is None:
            claims = self._tokens[token] = await self._verify(token)
            if len(self._tokens) > 10_000:
                self._tokens.clear()
        client_id, org_id, iat, exp = claims
        if exp + LEEWAY < time.time():
            raise Refused(401, "the token has expired")
        pair = await self._pair(client_id)
        if pair is None or pair[0] != org_id:
            raise Refused(401, "the key pair of this token no longer exists")
        if iat < pair[1]:
            raise Refused(401, "the token was revoked when its key pair was rotated")
        return org_id, self._limit(client_id, pair[2] or self._rate_limit)


def _public(private_pem: str) -> Any:
    return serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()


def _json(body: Any, headers: dict[str, str], status: int = 200) -> Response:
    return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), status, headers, media_type="application/json")


def _problem(refused: Refused) -> Response:
    body = {"type": "about:blank", "title": "Error", "status": refused.status, "detail": refused.detail}
    return Response(orjson.dumps(body), refused.status, refused.headers, media_type="application/problem+json")


def _with_page(path: str, query: str, page: int) -> str:
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) != "page"]
    return f"{path}?{'&'.join([*kept, f'page={page}'])}"


def _int(value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    number = int(value)
    if not low <= number <= high:
        raise ValueError(value)
    return number


# No thread-pool hand-off per request (a cost OpenMira pays; the ceiling does not): SQLite is read on the
# event loop, PostgreSQL through async connections (reference_store).
async def list_findings(request: Request) -> Response:
    try:
        org_id, headers = await auth.org(request)
        params = request.query_params
        page = _int(params.get("page"), 1, 1, 1_000_000)
        sizes = [int(v) for v in (params.get("page_size"), params.get("limit")) if v is not None]
        size = min(sizes) if sizes else 50
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(size)
    except Refused as refused:
        return _problem(refused)
    except ValueError:
        return _problem(Refused(400, "page and page_size must be integers in range"))
    offset = (page - 1) * size
    rows = await store.page(org_id, size, offset)
    # Mirrors OpenMira's paging: a partial page is the last one, so its total needs no look-up.
    total = offset + len(rows) if 0 < len(rows) < size or (not rows and offset == 0) else await store.total(org_id)
    pages = -(-total // size)
    path, query = request.url.path, request.url.query
    body = {
        "status": "OK",
        "data": rows,
        "meta": {"page": page, "page_size": size, "total_items": total, "total_pages": pages},
        "links": {
            "self": f"{path}?{query}" if query else path,
            "next": _with_page(path, query, page + 1) if page < pages else None,
            "prev": _with_page(path, query, min(page - 1, pages)) if page > 1 and pages else None,
        },
    }
    return _json(body, headers)


async def get_finding(request: Request) -> Response:
    try:
        org_id, headers = await auth.org(request)
        finding_id = str(uuid.UUID(request.path_params["finding_id"]))
    except Refused as refused:
        return _problem(refused)
    except ValueError:
        return _problem(Refused(400, "finding_id must be a UUID"))
    row = await store.finding(org_id, finding_id)
    if row is None:
        return _problem(Refused(404, f"finding {finding_id} not found"))
    return _json({"status": "OK", "data": row}, headers)


async def health(_request: Request) -> Response:
    return Response(b'{"status":"OK"}', media_type="application/json")


store = open_store(os.environ["OPENMIRA_DATABASE_URL"])
auth = Auth(store, int(os.environ.get("OPENMIRA_RATE_LIMIT", "10")))
app = Starlette(
    routes=[
        Route(f"{API}/health", health),
        Route(f"{API}/org/findings", list_findings),
        Route(f"{API}/org/findings/{{finding_id}}", get_finding),
    ]
)
