"""``openmira.testing.server``: a real server process on a loopback port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from openmira.testing import server as test_server


class _Impostor(BaseHTTPRequestHandler):
    """Another test's server: it answers the health check too."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("taker", ["a server", "a bound socket"])
def test_a_port_taken_before_the_server_binds_it_is_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, taker: str
) -> None:
    """Another process (a parallel test's server, or a client's socket) can bind the free port chosen for a
    server before the server does; a server there also answers the health check. The server is started
    again on another port instead of failing the test or being taken for the other one."""
    release: Callable[[], object]
    if taker == "a server":
        impostor = ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
        threading.Thread(target=impostor.serve_forever, daemon=True).start()
        taken_port, release = impostor.server_address[1], lambda: (impostor.shutdown(), impostor.server_close())
    else:
        bound = socket.socket()
        bound.bind(("127.0.0.1", 0))
        taken_port, release = bound.getsockname()[1], bound.close
    ports: Iterator[int] = iter([taken_port])
    real_free_port = test_server.free_port
    monkeypatch.setattr(test_server, "free_port", lambda: next(ports, None) or real_free_port())
    env = {"OPENMIRA_DATABASE_URL": f"sqlite:///{tmp_path / 'openmira.db'}", "OPENMIRA_DATA_DIR": str(tmp_path)}
    try:
        with test_server.serve(env, tmp_path, workers=workers) as (url, process, _):
            assert not url.endswith(f":{taken_port}")
            health = httpx.get(f"{url}/public-api/v1/health")
            assert health.status_code == 200 and health.json() != {}  # OpenMira's, not the impostor's
            assert process.poll() is None
    finally:
        release()
    taken_log = (tmp_path / f"server-{taken_port}.log").read_text().lower()  # the first try was on that port
    assert taker == "a server" or "address already in use" in taken_log
