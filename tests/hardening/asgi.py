"""Drive the app in-process, one request at a time, and measure what the worker allocates for it."""

from __future__ import annotations

import asyncio
import tracemalloc
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass
class Served:
    status: int
    body_bytes: int
    # The most memory Python held at once while the request was served, above what it held before.
    peak_bytes: int


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]], query: str = "") -> dict[str, Any]:
    """The scope of one HTTP request as a server hands it to the app; ``headers`` as raw bytes (after Host)."""
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }


def serve_measured(
    app: ASGIApp, method: str, path: str, headers: dict[str, str], query: str = "", body: bytes = b""
) -> Served:
    """Serve one request with no client-side copy of the answer (its body is counted, then dropped), under
    tracemalloc. Memory outside Python's allocator (the database driver's buffers) is not counted."""
    state: dict[str, Any] = {"status": 0, "bytes": 0}
    scope = http_scope(method, path, [(k.lower().encode(), v.encode()) for k, v in headers.items()], query)

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
        elif message["type"] == "http.response.body":
            state["bytes"] += len(message.get("body", b""))

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(app(scope, receive, send))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return Served(state["status"], state["bytes"], peak)
