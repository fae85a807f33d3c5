"""Webhook fixtures: a real HTTP receiver on loopback, clients with other webhook settings, endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from openmira.app import create_app
from openmira.config import Settings
from openmira.runtime import Runtime
from openmira.webhooks.delivery import DeliverySettings
from openmira.webhooks.worker import delivery_settings
from tests.conftest import make_runtime, make_settings
from tests.helpers import API, KeyPairInfo


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int
    requests: list[Received] = field(default_factory=list)
    # Statuses to answer, in turn; 200 once they run out.
    statuses: list[int] = field(default_factory=list)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class App:
    client: TestClient
    runtime: Runtime

    def delivery(self, **overrides: Any) -> DeliverySettings:
        config = delivery_settings(self.runtime)
        return DeliverySettings(**{**config.__dict__, **overrides})


@pytest.fixture
def app_with(database_url: str, engine: Engine, db: Any) -> Iterator[Callable[..., App]]:
    """An app on the test database with other settings (e.g. an allowlist)."""
    opened: list[TestClient] = []

    def build(**overrides: Any) -> App:
        settings: Settings = make_settings(database_url, **overrides)
        runtime = make_runtime(settings, engine)
        client = TestClient(create_app(settings, runtime))
        client.__enter__()
        opened.append(client)
        return App(client, runtime)

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def create_webhook(
    client: TestClient, pair: KeyPairInfo, url: str, events: list[str] | None = None, prefix: str = "/org", **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "events": events or ["finding.resolved"], **extra}
    response = client.post(f"{API}{prefix}/webhooks", json=body, headers=pair.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]
