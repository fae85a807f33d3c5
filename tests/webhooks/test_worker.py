"""The background worker: started by the app's lifespan, it delivers on its own and stops with the app;
several workers at once never send one attempt twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.webhooks.delivery import deliver_due
from openmira.webhooks.models import WebhookDelivery
from tests.helpers import API, Tenant
from tests.webhooks.conftest import App, Receiver, create_webhook


def test_the_lifespan_worker_delivers_and_stops(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*", webhook_worker=True, webhook_poll_seconds=0.1)
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    response = app.client.post(f"{API}/org/webhooks/{hook['id']}/test", headers=tenant.rw.headers)
    delivery_id = response.json()["data"]["delivery_id"]
    deadline = time.monotonic() + 15
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.headers["x-openmira-delivery"] for r in receiver.requests] == [delivery_id]
    url = f"{API}/org/webhooks/{hook['id']}/deliveries/{delivery_id}"
    while app.client.get(url, headers=tenant.rw.headers).json()["data"]["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    app.client.__exit__(None, None, None)  # the lifespan's shutdown stops the worker
    assert time.monotonic() - started < 5


def test_concurrent_workers_send_each_delivery_once(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    count = 30
    for _ in range(count):
        app.client.post(f"{API}/org/webhooks/{hook['id']}/test", headers=tenant.rw.headers)
    config = app.delivery()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            while deliver_due(app.runtime.sessions, config, limit=5):
                pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent = [r.headers["x-openmira-delivery"] for r in receiver.requests]
    assert len(sent) == count and len(set(sent)) == count
    db.expire_all()
    rows = db.scalars(select(WebhookDelivery)).all()
    assert {(d.status, d.attempts) for d in rows} == {("succeeded", 1)}
