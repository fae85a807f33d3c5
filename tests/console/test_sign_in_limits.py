"""Issue 13, item 5: console sign-in attempts are budgeted per (account, address) and per address, and at
most HASHING_CONCURRENCY passwords are checked at once, so the API stays responsive. On the in-process
limiter and on Redis."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from openmira.app import create_app
from openmira.auth.ratelimit import RateLimiter
from openmira.console import routes_auth
from openmira.console.routes_auth import SIGN_IN_ADDRESS_LIMIT, SIGN_IN_LIMIT
from openmira.users.passwords import HASHING_CONCURRENCY
from tests.conftest import make_runtime, make_settings
from tests.console.helpers import PASSWORD, C, with_password
from tests.helpers import API, make_tenant


@pytest.fixture
def console(database_url: str, engine: Engine, db: Session, limiter: RateLimiter) -> Iterator[tuple[FastAPI, str]]:
    settings = make_settings(database_url)
    app = create_app(settings, make_runtime(settings, engine, limiter))
    with TestClient(app) as client:
        tenant = make_tenant(db, client, "Console")
        yield app, with_password(db, tenant.admin_id)


async def _sign_ins(app: FastAPI, address: str, attempts: list[tuple[str, str]]) -> list[int]:
    """Sign in with each (email, password) at once, from ``address``; the statuses in order."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get(f"{C}/sign-in")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match
        posts = [client.post(f"{C}/sign-in", data={"email": e, "password": p, "csrf_token": match.group(1)})
                 for e, p in attempts]
        return [r.status_code for r in await asyncio.gather(*posts)]


def _run(app: FastAPI, address: str, attempts: list[tuple[str, str]]) -> list[int]:
    return asyncio.run(_sign_ins(app, address, attempts))


def test_wrong_passwords_lock_out_one_address_not_the_owner(console: tuple[FastAPI, str]) -> None:
    app, email = console
    assert _run(app, "203.0.113.9", [(email, "wrong password")] * SIGN_IN_LIMIT) == [401] * SIGN_IN_LIMIT
    assert _run(app, "203.0.113.9", [(email, PASSWORD)]) == [429]
    assert _run(app, "198.51.100.4", [(email, PASSWORD)]) == [303]


def test_one_address_gets_a_budget_across_accounts(console: tuple[FastAPI, str]) -> None:
    app, email = console
    spray = [(f"{uuid.uuid4().hex}@example.com", "Winter2026!") for _ in range(SIGN_IN_ADDRESS_LIMIT)]
    assert _run(app, "192.0.2.50", spray) == [401] * SIGN_IN_ADDRESS_LIMIT
    assert _run(app, "192.0.2.50", [(email, PASSWORD)]) == [429]
    assert _run(app, "192.0.2.51", [(email, PASSWORD)]) == [303]


def test_password_checks_are_bounded_and_the_api_stays_responsive(
    console: tuple[FastAPI, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = console
    lock, running, entered, release = threading.Lock(), [0, 0], threading.Semaphore(0), threading.Event()

    def slow_check(password: str, stored_hash: str | None) -> bool:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        entered.release()
        release.wait(60)  # a guard against a hang, never reached when the test passes
        with lock:
            running[0] -= 1
        return False

    monkeypatch.setattr(routes_auth, "verify_password", slow_check)

    async def scenario() -> list[int]:
        attempts = [(f"{uuid.uuid4().hex}@example.com", "x") for _ in range(12)]
        batches = [asyncio.create_task(_sign_ins(app, f"10.0.0.{n}", attempts)) for n in range(1, 4)]
        for _ in range(HASHING_CONCURRENCY):  # until the bound is reached
            await asyncio.to_thread(entered.acquire)
        transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            health = await client.get(f"{API}/health")  # answered while every slot is busy
        assert health.status_code == 200
        release.set()
        return [s for batch in await asyncio.gather(*batches) for s in batch]

    statuses = asyncio.run(scenario())
    assert statuses == [401] * 36
    assert running[1] == HASHING_CONCURRENCY  # 36 at once, never more than the bound hashing
