"""Real server processes for end-to-end tests (uvicorn in a subprocess on a free loopback port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LIVE_PUBLIC_URL = "http://openmira.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    env.update({"OPENMIRA_DATABASE_URL": database_url, "OPENMIRA_PUBLIC_URL": LIVE_PUBLIC_URL})
    env.update(extra)
    return env


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@contextmanager
def live_server(
    database_url: str, log_dir: Path, log_level: str = "warning", workers: int = 1, **env: str
) -> Iterator[LiveServer]:
    port = free_port()
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "openmira.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=server_env(database_url, OPENMIRA_LOG_LEVEL=log_level, **env), stdout=out, stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.url}/public-api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
