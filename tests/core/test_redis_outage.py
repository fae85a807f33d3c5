"""Issue 13, item 3: with Redis down or hung the server keeps serving on a per-process limiter, /health says
`degraded` with the reason, a warning is logged at most once a minute, and Redis is used again as soon as it
answers. Each test runs a redis-server of its own and kills (or freezes) it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.ratelimit import RedisLimiter
from tests.conftest import make_runtime, make_settings, unavailable
from tests.helpers import API, get_token, make_tenant


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server", "not installed")
        assert binary is not None
        self.binary, self.workdir = binary, workdir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        for _ in range(200):  # until it accepts connections (a readiness loop, not a timed assertion)
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.signal(signal.SIGCONT)
        server.kill()


def test_a_dead_redis_falls_back_warns_once_and_recovers(
    server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(server.url, retry_seconds=0)  # probe Redis on every hit, so the test needs no waiting

    async def scenario() -> None:
        assert (await limiter.hit("k", 10, 60.0)).allowed
        assert redis.Redis.from_url(server.url).zcard(limiter.prefix + "k") == 1  # counted in Redis
        assert limiter.degraded() is None
        server.kill()
        with caplog.at_level(logging.WARNING, logger="openmira.ratelimit"):
            decisions = [await limiter.hit("k", 10, 60.0) for _ in range(11)]
        # The fallback enforces the budget on its own: this process admits 10, refuses the 11th.
        assert [d.allowed for d in decisions] == [True] * 10 + [False]
        assert "ConnectionError" in (limiter.degraded() or "")
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, warnings  # 11 failures, one warning (at most one a minute)
        assert server.url not in caplog.text
        server.start()
        assert (await limiter.hit("k2", 10, 60.0)).allowed
        assert limiter.degraded() is None
        assert redis.Redis.from_url(server.url).zcard(limiter.prefix + "k2") == 1  # back on Redis

    asyncio.run(scenario())


def test_a_hung_redis_falls_back_and_recovers(server: RedisServer) -> None:
    limiter = RedisLimiter(server.url, retry_seconds=0, timeout=0.2)

    async def scenario() -> None:
        assert (await limiter.hit("k", 10, 1.0)).allowed
        server.signal(signal.SIGSTOP)  # alive, accepting connections, never answering
        assert (await limiter.hit("k", 10, 1.0)).allowed
        assert "Timeout" in (limiter.degraded() or "")
        server.signal(signal.SIGCONT)
        assert (await limiter.hit("k", 10, 1.0)).allowed
        assert limiter.degraded() is None

    asyncio.run(scenario())


def test_the_api_keeps_serving_and_health_says_degraded(
    server: RedisServer, database_url: str, engine: Engine, db: Session
) -> None:
    settings = make_settings(database_url)
    runtime = make_runtime(settings, engine, RedisLimiter(server.url, retry_seconds=0))
    with TestClient(create_app(settings, runtime)) as client:
        tenant = make_tenant(db, client, "Outage")
        health = client.get(f"{API}/health").json()["data"]
        assert (health["state"], health["reasons"]) == ("ok", [])
        server.kill()
        token = get_token(client, tenant.rw.client_id, tenant.rw.client_secret)
        users = client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"})
        assert users.status_code == 200, users.text
        health = client.get(f"{API}/health")
        assert health.status_code == 200
        data = health.json()["data"]
        assert data["state"] == "degraded" and "Redis is unreachable" in data["reasons"][0]
        server.start()
        assert client.get(f"{API}/org/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client.get(f"{API}/health").json()["data"]["state"] == "ok"
