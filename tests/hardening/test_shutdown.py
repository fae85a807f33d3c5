"""Graceful shutdown: SIGTERM while requests are in flight.

The server stops accepting connections at once, finishes every request it has started (uvicorn's
``timeout_graceful_shutdown`` of 20 s, set by ``openmira serve``), and exits 0. The requests in flight
are large pages (5,000 findings each, several at once), held in the server by an injected latency
(``openmira.faults``) so that they are still being served when the signal arrives however fast the machine
serves them (without it, a fast run answered all of them within the 0.3 s before the signal); the test
checks that by their completion times. They read their pages after the signal, while the server drains.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from openmira.db.session import make_engine, make_session_factory
from openmira.faults.service import FaultSpec, set_fault
from tests.hardening.seed import seed_org
from tests.helpers import API
from tests.live import live_server

IN_FLIGHT = 6
PAGE = 5000
HELD_MS = 1500


def test_sigterm_finishes_requests_in_flight_and_exits_zero(tmp_path: Path) -> None:
    org = seed_org(tmp_path, PAGE + 10)
    engine = make_engine(org.database_url)
    with make_session_factory(engine)() as db:  # every API request of the key pair waits HELD_MS first
        set_fault(db, FaultSpec(client_id=org.client_id, latency_ms=HELD_MS))
        db.commit()
    engine.dispose()
    with live_server(org.database_url, tmp_path, OPENMIRA_RATE_LIMIT="100000") as server:
        token = httpx.post(f"{server.url}/oauth/token", json={
            "grant_type": "client_credentials", "client_id": org.client_id, "client_secret": org.client_secret,
        }).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        results: list[tuple[float, httpx.Response | Exception]] = []
        started = threading.Barrier(IN_FLIGHT + 1)

        def fetch(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                started.wait()
                try:
                    query = {"limit": PAGE, "order_by": "name" if i % 2 else "created;desc"}
                    response = http.get(f"{API}/org/findings", params=query, headers=headers)
                    results.append((time.monotonic(), response))
                except httpx.HTTPError as exc:
                    results.append((time.monotonic(), exc))

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.3)  # the requests reach the server (loopback) and are being served
        os.kill(server.process.pid, signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.3)  # uvicorn notices the signal on its next tick (every 0.1 s)
        if len(results) < IN_FLIGHT:
            # While the server drains, it serves no new connection (refused, or reset from the backlog).
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{server.url}{API}/health", timeout=2)
        for thread in threads:
            thread.join(timeout=30)
        exit_code = server.process.wait(timeout=30)

    assert len(results) == IN_FLIGHT
    assert any(done > signalled for done, _ in results), "no request was in flight when SIGTERM arrived"
    for _, outcome in results:
        assert isinstance(outcome, httpx.Response), f"a request in flight failed: {outcome!r}"
        assert outcome.status_code == 200, outcome.text[:500]
        body = outcome.json()
        assert len(body["data"]) == PAGE and body["meta"]["total_items"] == PAGE + 10
    assert exit_code == 0, server.log.read_text()[-2000:]
