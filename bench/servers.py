"""uvicorn in a subprocess, with the same flags for OpenMira and for the floor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
OPENMIRA_APP = "openmira.app:serve_app"  # as `openmira serve` runs it
FLOOR_APP = "bench.floor:app"
FRAMEWORK_FLOOR_APP = "bench.floor:framework_app"
REFERENCE_APP = "bench.reference:app"


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    workers: int


def group_cpu_seconds(group: int) -> float:
    """User and system CPU seconds of every live process in process group ``group`` (a server started by
    :func:`spawned`, its workers included), from /proc; 0 where there is no /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uvicorn_command(app: str, port: int, workers: int, *, factory: bool) -> list[str]:
    """Identical for both servers but for ``--factory`` (OpenMira's app is built by serve_app())."""
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]
    return [*command, "--factory"] if factory else command


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before it was ready ({url})")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session: signal its group (uvicorn's workers), not anything else.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def spawned(
    command: list[str], *, port: int, env: dict[str, str], ready_path: str, src: str | None = None
) -> Iterator[Server]:
    """Any server process (uvicorn, Prism): started in its own session, ready when ``ready_path`` answers.

    ``src``: a ``src`` folder to import ``openmira`` from instead of the installed one (another checkout).
    """
    # Settings come from ``env`` only, not from whatever OPENMIRA_* the caller's shell holds.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    full_env = {**inherited, **env, "PYTHONPATH": os.pathsep.join([*([src] if src else []), str(REPO)])}
    proc = subprocess.Popen(command, env=full_env, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url + ready_path, proc)
        yield Server(base_url, proc.pid, 1)
    finally:
        _stop(proc)


@contextmanager
def running(
    app: str, *, workers: int, env: dict[str, str], ready_path: str, factory: bool, src: str | None = None
) -> Iterator[Server]:
    port = free_port()
    command = uvicorn_command(app, port, workers, factory=factory)
    with spawned(command, port=port, env=env, ready_path=ready_path, src=src) as server:
        yield Server(server.base_url, server.pid, workers)


def openmira(
    database_url: str, *, workers: int, rate_limit: int, redis_url: str | None, src: str | None = None
) -> AbstractContextManager[Server]:
    env = {
        "OPENMIRA_DATABASE_URL": database_url,
        "OPENMIRA_RATE_LIMIT": str(rate_limit),
        "OPENMIRA_MSP_RATE_LIMIT": str(rate_limit),
        "OPENMIRA_LOG_LEVEL": "warning",
    }
    if redis_url:
        env["OPENMIRA_REDIS_URL"] = redis_url
    return running(OPENMIRA_APP, workers=workers, env=env, ready_path="/public-api/v1/health", factory=True, src=src)


def floor(*, workers: int, framework: bool = False) -> AbstractContextManager[Server]:
    """The floor (a bare ASGI app), or with ``framework`` the same body served by a FastAPI route."""
    app = FRAMEWORK_FLOOR_APP if framework else FLOOR_APP
    return running(app, workers=workers, env={}, ready_path="/64", factory=False)


def reference(database_url: str, *, workers: int, rate_limit: int) -> AbstractContextManager[Server]:
    """The hand-written reference (bench/reference.py) on the same database and uvicorn flags."""
    env = {"OPENMIRA_DATABASE_URL": database_url, "OPENMIRA_RATE_LIMIT": str(rate_limit)}
    return running(REFERENCE_APP, workers=workers, env=env, ready_path="/public-api/v1/health", factory=False)
