"""A real OpenMira server for tests: ``openmira serve`` in a subprocess, on a free loopback port, with its own
SQLite database, plus factories that write tenants straight into that database.

    with run_server() as server:
        org = server.create_org(findings=50)
        ...  # call server.base_url / server.token_url with org.rw.client_id and org.rw.client_secret
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from openmira.testing import factories
from openmira.testing.factories import KeyPairInfo, MspInfo, OrgInfo, UserInfo

T = TypeVar("T")
START_TIMEOUT = 60.0

# What a test server runs with unless the caller says otherwise: webhooks may reach this machine (a test
# receives them on localhost), a fault set by a test applies from the very next request (the server checks
# on every request instead of once a second), everything else as in production, the 10 req/s limit included.
DEFAULT_ENV = {
    "OPENMIRA_WEBHOOK_ALLOWED_HOSTS": "localhost:*,127.0.0.1:*,[::1]:*",
    "OPENMIRA_LOG_LEVEL": "info",
    "OPENMIRA_FAULT_CHECK_INTERVAL": "0",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OpenMiraServer:
    """A running server. ``base_url`` and ``token_url`` are what a Blumira client needs; the factories
    (``create_org``, ``create_msp``, ...) make tenants in its database; ``reset()`` empties it."""

    def __init__(self, url: str, database_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.url = url
        self.base_url = f"{url}/public-api/v1"
        self.token_url = f"{url}/oauth/token"
        self.database_url = database_url
        self.process = process
        self.log_path = log_path
        self._engine: Any = None
        self.faults = FaultControl(self)

    def __repr__(self) -> str:
        return f"OpenMiraServer(url={self.url!r})"

    # Database access for the factories, opened on first use so that a server nobody seeds costs nothing.
    def _write(self, work: Callable[[Any], T]) -> T:
        from openmira.db.session import make_engine, make_session_factory

        if self._engine is None:
            self._engine = make_engine(self.database_url)
        with make_session_factory(self._engine)() as session:
            result = work(session)
            session.commit()
            return result

    def create_org(self, name: str | None = None, **options: Any) -> OrgInfo:
        """An organization with users, a rw and a ro key pair; ``findings=N`` adds N realistic findings.
        Options: ``users``, ``findings``, ``key_pairs``, ``license``, ``seed``."""
        return self._write(lambda s: factories.create_org(s, name, **options))

    def create_msp(self, name: str | None = None, **options: Any) -> MspInfo:
        """An MSP with key pairs and sub-accounts. Options: ``accounts``, ``free_accounts``, ``findings`` (per
        account), ``users``, ``seed``."""
        return self._write(lambda s: factories.create_msp(s, name, **options))

    def create_users(self, org: OrgInfo | MspInfo | str, count: int = 1) -> list[UserInfo]:
        return self._write(lambda s: factories.create_users(s, _id(org), count, seed=time.time_ns()))

    def create_key_pair(self, org: OrgInfo | MspInfo | str, access: factories.Access = "rw") -> KeyPairInfo:
        return self._write(lambda s: factories.create_key_pair(s, _id(org), access))

    def add_findings(self, org: OrgInfo | str, count: int) -> int:
        """Add realistic findings; returns the organization's total."""
        return self._write(lambda s: factories.add_findings(s, _id(org), count, seed=time.time_ns()))

    def reset(self) -> None:
        """Remove every tenant (and everything in them) so the next test starts empty."""
        self._write(factories.reset)

    def client(self, key_pair: KeyPairInfo, **options: Any) -> Any:
        """An ``openmira_client.Client`` for this server and key pair (needs the openmira-client package)."""
        from openmira_client import Client

        return Client(key_pair.client_id, key_pair.client_secret, base_url=self.base_url,
                      token_url=self.token_url, **options)

    def token(self, key_pair: KeyPairInfo) -> str:
        """A bearer token for ``key_pair``, straight from the token endpoint."""
        response = httpx.post(self.token_url, data={
            "grant_type": "client_credentials", "client_id": key_pair.client_id,
            "client_secret": key_pair.client_secret, "audience": "public-api",
        })
        response.raise_for_status()
        return str(response.json()["access_token"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def dispose(self) -> None:
        """Close the factories' database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def stop(self) -> None:
        """Stop the server before ``run_server`` would."""
        self.dispose()
        _stop(self.process)


class FaultControl:
    """``server.faults``: inject failures (see docs/testing.md). ``key_pair`` None means every key pair."""

    def __init__(self, server: OpenMiraServer) -> None:
        self._server = server

    def set(
        self,
        key_pair: KeyPairInfo | None = None,
        *,
        status: int | None = None,
        latency_ms: int | None = None,
        count: int | None = None,
        share: float | None = None,
        retry_after: int | None = None,
    ) -> dict[str, Any]:
        """Answer ``status`` (429, 500, 503) or add ``latency_ms``, for the next ``count`` requests, a ``share``
        of them, or (neither) every request, until cleared."""
        from openmira.faults.service import FaultSpec, fault_json, set_fault

        spec = FaultSpec(key_pair.client_id if key_pair else None, status, latency_ms, count, share, retry_after)
        return self._server._write(lambda s: fault_json(set_fault(s, spec)))

    def list(self) -> list[dict[str, Any]]:
        from openmira.faults.service import fault_json, list_faults

        return self._server._write(lambda s: [fault_json(f) for f in list_faults(s)])

    def clear(self, key_pair: KeyPairInfo | None = None) -> int:
        from openmira.faults.service import clear_faults

        return self._server._write(lambda s: clear_faults(s, key_pair.client_id if key_pair else None))

    def revoke_tokens(self, key_pair: KeyPairInfo | None = None) -> int:
        """Tokens issued so far answer 401 (within a second); the secret stays valid."""
        from openmira.faults.service import revoke_tokens

        return self._server._write(lambda s: revoke_tokens(s, key_pair.client_id if key_pair else None))


def _id(org: OrgInfo | MspInfo | str) -> str:
    return org if isinstance(org, str) else org.id


@contextmanager
def serve(
    env: Mapping[str, str], log_dir: Path, *, workers: int = 1, public_url: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``openmira serve`` on a free loopback port, with ``env`` over this process's environment (less its own
    ``OPENMIRA_*`` settings), its output in ``log_dir``; yields its URL, process and log once it answers, and
    stops it. ``OPENMIRA_PUBLIC_URL`` is ``public_url``, or the server's own URL.

    The port is free when chosen, but another process can bind it before the server does (tests in parallel
    processes start servers at the same moment): the server then exits saying so, or another server answers
    on its port, and it is started again on another port."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    for _ in range(5):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = log_dir / f"server-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "openmira.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers)],
                env={**inherited, "OPENMIRA_PUBLIC_URL": public_url or url, **env}, stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            if _wait_ready(url, process, log_path):
                yield url, process, log_path
                return
        finally:
            _stop(process)
    raise RuntimeError(f"the OpenMira test server found no free port:\n{log_path.read_text(errors='replace')}")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> bool:
    """True once the server answers; False if its port was taken; raises otherwise."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(f"{url}/public-api/v1/health", timeout=2).status_code == 200:
                return _listens(process, port)  # else another server answered: ours cannot bind the port
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log = log_path.read_text(errors="replace")
            if process.poll() is not None and "address already in use" in log.lower():
                return False
            raise RuntimeError(f"the OpenMira test server did not start:\n{log}")
        time.sleep(0.1)


def _listens(process: subprocess.Popen[bytes], port: int) -> bool:
    """Whether ``process`` holds the socket listening on loopback ``port``: Linux's ``/proc`` says; elsewhere,
    whether it still runs."""
    fds = Path(f"/proc/{process.pid}/fd")
    if not fds.is_dir():
        return process.poll() is None
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in (line.split() for line in lines):
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
                listening.add(f"socket:[{fields[9]}]")
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) in listening:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def run_server(
    *, data_dir: Path | None = None, database_url: str | None = None, env: Mapping[str, str] | None = None
) -> Iterator[OpenMiraServer]:
    """Start a server, wait until it answers, yield it, stop it. Without ``database_url`` it gets a new SQLite
    file in ``data_dir`` (a temporary directory by default); ``env`` adds ``OPENMIRA_*`` settings."""
    with tempfile.TemporaryDirectory(prefix="openmira-") as scratch:
        home = Path(data_dir or scratch)
        home.mkdir(parents=True, exist_ok=True)
        database_url = database_url or f"sqlite:///{home / 'openmira.db'}"
        settings = {**DEFAULT_ENV, "OPENMIRA_DATABASE_URL": database_url, "OPENMIRA_DATA_DIR": str(home), **(env or {})}
        with serve(settings, home) as (url, process, log_path):
            server = OpenMiraServer(url, database_url, process, log_path)
            try:
                yield server
            finally:
                server.dispose()
