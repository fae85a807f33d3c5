"""The per-process key-pair cache: concurrent requests that find an entry expired share one load."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from openmira.auth import credential_cache
from openmira.auth.credential_cache import CredentialCache, CredentialState


def test_concurrent_misses_share_one_load(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = CredentialCache(sessions=None)  # type: ignore[arg-type]
    loads: list[str] = []
    lock = threading.Lock()

    def load(client_id: str) -> CredentialState | None:
        with lock:
            loads.append(client_id)
        time.sleep(0.05)  # a database round trip, in a worker thread
        return None

    monkeypatch.setattr(cache, "_load", load)

    async def burst() -> list[CredentialState | None]:
        return await asyncio.gather(*(cache.get("client-a") for _ in range(32)), cache.get("client-b"))

    assert asyncio.run(burst()) == [None] * 33
    assert sorted(loads) == ["client-a", "client-b"]  # one load per key, not one per request
    assert asyncio.run(burst()) == [None] * 33  # within the TTL: no load at all
    assert len(loads) == 2
    monkeypatch.setattr(credential_cache, "TTL", 0.0)  # expired: one load each again
    asyncio.run(burst())
    assert len(loads) == 4


def test_a_failed_load_is_retried_by_the_next_request(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = CredentialCache(sessions=None)  # type: ignore[arg-type]
    outcomes = iter([RuntimeError("database down"), None])

    def load(_client_id: str) -> CredentialState | None:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(cache, "_load", load)
    with pytest.raises(RuntimeError):
        asyncio.run(cache.get("client-a"))
    assert asyncio.run(cache.get("client-a")) is None
