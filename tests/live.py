"""Real server processes for end-to-end tests (uvicorn in a subprocess on a free loopback port)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from openmira.testing.server import free_port, serve

__all__ = ["LIVE_PUBLIC_URL", "LiveServer", "free_port", "live_server", "server_env"]

LIVE_PUBLIC_URL = "http://openmira.test"


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
    settings = {"OPENMIRA_DATABASE_URL": database_url, "OPENMIRA_LOG_LEVEL": log_level, **env}
    with serve(settings, log_dir, workers=workers, public_url=LIVE_PUBLIC_URL) as (url, process, log):
        yield LiveServer(url, process, log)
