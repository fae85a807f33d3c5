"""The floor: the same ASGI server answering a fixed JSON body of a requested size, and nothing else.

``GET|POST /<n>`` answers a JSON document of exactly ``n`` bytes (any request body is read and
dropped). It is a bare ASGI app, so what it measures is uvicorn plus the loopback and wrk: the
fastest any app on this stack can answer a page of that size on this machine.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.types import Receive, Scope, Send

_bodies: dict[int, bytes] = {}
_HEADERS = [(b"content-type", b"application/json")]


def fixed_body(size: int) -> bytes:
    """A valid JSON object of exactly ``size`` bytes (at least 28)."""
    body = _bodies.get(size)
    if body is None:
        shell = json.dumps({"status": "OK", "data": ""}).encode()
        body = shell[:-2] + b"x" * max(0, size - len(shell)) + shell[-2:]
        _bodies[size] = body
    return body


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more: Any = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    try:
        size = int(scope["path"].strip("/") or "64")
    except ValueError:
        size = 64
    body = fixed_body(max(28, min(size, 10_000_000)))
    headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _framework_app() -> Any:
    """For reference, not the floor: FastAPI (OpenMira's framework) answering the same fixed body.

    FastAPI, Request and Response are imported at module level: with postponed annotations FastAPI
    resolves ``request: Request`` in the module's globals, and a local import made it a required query
    parameter (every request answered 422).
    """
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @api.api_route("/{size}", methods=["GET", "POST"])
    async def fixed(size: int, request: Request) -> Response:
        await request.body()
        return Response(fixed_body(max(28, min(size, 10_000_000))), media_type="application/json")

    return api


framework_app = _framework_app()
