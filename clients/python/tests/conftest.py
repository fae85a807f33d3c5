from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockapi import BASE, TOKEN_URL, FakeApi
from openmira_client import Client


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries wait through time.sleep / asyncio.sleep; record the waits instead of waiting."""
    waited: list[float] = []

    async def fake_async_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr("openmira_client._client.time.sleep", waited.append)
    monkeypatch.setattr("openmira_client._client.asyncio.sleep", fake_async_sleep)
    return waited


@pytest.fixture
def client(api: FakeApi, sleeps: list[float]) -> Iterator[Client]:
    http = httpx.Client(transport=httpx.MockTransport(api))
    with Client("client-id", "s3cret-value", base_url=BASE, token_url=TOKEN_URL, http_client=http) as c:
        yield c
