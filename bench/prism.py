"""Prism (``@stoplight/prism-cli``), the static mock a user may compare OpenMira with.

The bench installs it with npm into its own cache folder (never globally), writes a small OpenAPI 3
document whose only operations are the measured requests, each with OpenMira's own response as its
static example, and serves it with ``prism mock`` (static mode: the example, byte for byte the same
JSON values, no generated data). Without npm, Prism is skipped and the run says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import servers

PACKAGE = "@stoplight/prism-cli"
# Pinned, so every run measures the same mock. 5.14.2 is the newest that runs on Node 18-22 (Debian's
# Node is 18 or 20); 5.15 and later need Node >= 24.14.
VERSION = "5.14.2"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openmira-bench" / "prism"

Log = Callable[[str], None]


def _installed_version() -> str | None:
    manifest = CACHE / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure_prism(log: Log) -> str | None:
    """The prism binary from the bench's cache, installed there with npm if needed; None without npm."""
    binary = CACHE / "node_modules" / ".bin" / "prism"
    if binary.exists() and _installed_version() == VERSION:
        return str(binary)
    npm = shutil.which("npm")
    if npm is None:
        log(f"npm not found: SKIPPING Prism (install Node.js and npm to measure {PACKAGE})")
        return None
    log(f"installing {PACKAGE}@{VERSION} into {CACHE} with npm ...")
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--silent", f"{PACKAGE}@{VERSION}"]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not binary.exists():
        log(f"npm install failed ({proc.returncode}): SKIPPING Prism\n{proc.stderr.strip()[-2000:]}")
        return None
    return str(binary)


def _template(path: str) -> tuple[str, list[dict[str, Any]]]:
    """A measured path as an OpenAPI path; a finding ID becomes the ``{finding_id}`` parameter."""
    route, _, query = path.partition("?")
    params = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "integer"}}
        for name in (part.partition("=")[0] for part in query.split("&") if part)
    ]
    head, _, last = route.rpartition("/")
    if head.endswith("/findings") and len(last) == 36:
        route = f"{head}/{{finding_id}}"
        params.append({"name": "finding_id", "in": "path", "required": True,
                       "schema": {"type": "string", "format": "uuid"}})
    return route, params


def document(examples: dict[str, bytes]) -> dict[str, Any]:
    """An OpenAPI 3 document with one GET per measured path, answering 200 with the given body.

    The bearer scheme is declared and required, so Prism checks that the request carries an
    ``Authorization: Bearer`` header (it cannot verify the token): the same request wrk sends
    OpenMira gets a 200.
    """
    paths: dict[str, Any] = {}
    for path, body in examples.items():
        route, params = _template(path)
        paths[route] = {
            "get": {
                "operationId": route.strip("/").replace("/", "_").replace("{", "").replace("}", ""),
                "parameters": params,
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "object"}, "example": json.loads(body)}},
                    }
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "OpenMira measured responses", "version": "bench"},
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": paths,
    }


@contextmanager
def serving(binary: str, examples: dict[str, bytes], folder: Path) -> Iterator[servers.Server]:
    doc = folder / "prism-openapi.json"
    doc.write_text(json.dumps(document(examples)))
    port = servers.free_port()
    # Logging at warn, as the Python servers run with --log-level warning --no-access-log: what is
    # measured is the mock answering, not its per-request log lines.
    command = [binary, "mock", "-h", "127.0.0.1", "-p", str(port), "--verboseLevel", "warn", str(doc)]
    ready = next(iter(examples)).partition("?")[0]  # answers 401 (no token) once the mock listens
    with servers.spawned(command, port=port, env={}, ready_path=ready) as server:
        yield server
