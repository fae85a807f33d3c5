"""``openmira.testing.run_server``: a real server process on a loopback port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openmira.testing import server as test_server


def test_a_port_taken_before_the_server_binds_it_is_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (a parallel test) can bind the free port chosen for a server before the server does:
    the server is started again on another port instead of failing the test."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        ports: Iterator[int] = iter([taken_port])
        real_free_port = test_server.free_port
        monkeypatch.setattr(test_server, "free_port", lambda: next(ports, None) or real_free_port())
        with test_server.run_server(data_dir=tmp_path) as server:
            assert not server.url.endswith(f":{taken_port}")
            assert httpx.get(f"{server.base_url}/health").status_code == 200
            assert server.token_url == f"{server.url}/oauth/token"
    logs = sorted(tmp_path.glob("server-*.log"))
    assert len(logs) == 2 and "address already in use" in (tmp_path / f"server-{taken_port}.log").read_text()
