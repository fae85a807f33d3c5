"""Delivery: a real POST to a receiver on loopback, signed; retries with backoff on a fixed clock; the
allowlist again at send time, after DNS; leases; secrets never in the logs."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.webhooks.delivery import claim, deliver_due
from openmira.webhooks.models import WebhookDelivery, WebhookEventPayload
from tests.helpers import API, Tenant
from tests.live import free_port
from tests.webhooks.conftest import App, Receiver, create_webhook

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
UNREACHABLE_TAIL = " (not resolved, not allowed, refused or timed out)"


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (docs/webhooks.md)."""
    expected = hmac.new(secret.encode(), headers["x-openmira-timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(headers["x-openmira-signature"], "sha256=" + expected.hexdigest())


def _delivery(db: Session, delivery_id: str) -> WebhookDelivery:
    db.expire_all()
    found = db.get(WebhookDelivery, uuid.UUID(delivery_id))
    assert found is not None
    return found


def _ping(app: App, tenant: Tenant, hook: dict[str, object]) -> str:
    response = app.client.post(f"{API}/org/webhooks/{hook['id']}/test", headers=tenant.rw.headers)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["delivery_id"])


def test_a_delivery_reaches_a_real_receiver_signed(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    delivery_id = _ping(app, tenant, hook)

    assert deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0) == 1
    (got,) = receiver.requests
    assert got.path == "/hook"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-openmira-event"] == "ping"
    assert got.headers["x-openmira-delivery"] == delivery_id
    assert got.headers["x-openmira-timestamp"] == str(int(T0.timestamp()))
    assert verify(str(hook["secret"]), got.headers, got.body)
    assert not verify("whsec_wrong", got.headers, got.body)
    body = got.json()
    assert body["id"] == delivery_id and body["event"] == "ping" and body["org_id"] == str(tenant.org_id)
    assert body["data"]["webhook_id"] == hook["id"]

    delivery = _delivery(db, delivery_id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    shown = app.client.get(f"{API}/org/webhooks/{hook['id']}/deliveries/{delivery_id}", headers=tenant.ro.headers)
    data = shown.json()["data"]
    assert data["status"] == "succeeded" and data["last_attempt"] and data["next_attempt"] is None
    assert data["payload"] == body
    assert deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0 + timedelta(hours=1)) == 0


def test_rotation_changes_the_signature_at_once(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    _ping(app, tenant, hook)
    rotated = app.client.post(f"{API}/org/webhooks/{hook['id']}/rotate-secret", headers=tenant.rw.headers)
    new_secret = rotated.json()["data"]["secret"]
    deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0)
    (got,) = receiver.requests
    assert verify(new_secret, got.headers, got.body)
    assert not verify(str(hook["secret"]), got.headers, got.body)


def test_retries_back_off_until_the_receiver_accepts(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    delivery_id = _ping(app, tenant, hook)
    receiver.statuses = [500, 503]
    config = app.delivery(backoff_seconds=10, max_attempts=5)

    def run(at: datetime) -> int:
        return deliver_due(app.runtime.sessions, config, now=lambda: at)

    assert run(T0) == 1
    first = _delivery(db, delivery_id)
    assert (first.status, first.attempts, first.response_status) == ("pending", 1, 500)
    assert first.next_attempt == T0 + timedelta(seconds=10) and "500" in (first.error or "")
    assert run(T0 + timedelta(seconds=9)) == 0  # not due yet
    assert run(T0 + timedelta(seconds=10)) == 1
    second = _delivery(db, delivery_id)
    assert (second.status, second.attempts, second.response_status) == ("pending", 2, 503)
    assert second.next_attempt == T0 + timedelta(seconds=10 + 20)  # doubled
    assert run(T0 + timedelta(seconds=29)) == 0
    assert run(T0 + timedelta(seconds=30)) == 1
    done = _delivery(db, delivery_id)
    assert (done.status, done.attempts, done.response_status, done.error) == ("succeeded", 3, 200, None)
    assert len(receiver.requests) == 3
    assert len({r.headers["x-openmira-delivery"] for r in receiver.requests}) == 1  # the same delivery, again


def test_after_the_last_attempt_the_delivery_fails(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    delivery_id = _ping(app, tenant, hook)
    receiver.statuses = [500, 500, 500]
    config = app.delivery(backoff_seconds=1, max_attempts=2)
    deliver_due(app.runtime.sessions, config, now=lambda: T0)
    deliver_due(app.runtime.sessions, config, now=lambda: T0 + timedelta(seconds=1))
    failed = _delivery(db, delivery_id)
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert deliver_due(app.runtime.sessions, config, now=lambda: T0 + timedelta(days=1)) == 0
    listed = app.client.get(f"{API}/org/webhooks/{hook['id']}/deliveries?status=failed", headers=tenant.ro.headers)
    assert [d["delivery_id"] for d in listed.json()["data"]] == [delivery_id]


def test_an_unreachable_receiver_is_retried(app_with: Callable[..., App], tenant: Tenant, db: Session) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, "http://127.0.0.1:9/nothing-listens", ["ping"])
    delivery_id = _ping(app, tenant, hook)
    deliver_due(app.runtime.sessions, app.delivery(timeout_seconds=2), now=lambda: T0)
    delivery = _delivery(db, delivery_id)
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.response_status is None
    assert delivery.error and "no HTTP response from 127.0.0.1:9" in delivery.error


def test_a_name_that_resolves_to_an_unlisted_address_is_refused_at_send(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    # The name is allowed; DNS then points it at loopback (rebinding), which the operator did not list.
    app = app_with(webhook_allowed_hosts="hooks.example.com:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(host="hooks.example.com"), ["ping"])
    delivery_id = _ping(app, tenant, hook)
    loopback: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ipaddress.ip_address("127.0.0.1")]
    deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0, resolver=lambda host, port: loopback)
    assert receiver.requests == []
    refused = _delivery(db, delivery_id)
    # Told as any other unreachable address is (no scanner of what lies behind the name), and retried alike.
    assert refused.status == "pending" and refused.attempts == 1
    assert refused.error == f"no HTTP response from hooks.example.com:{receiver.port}" + UNREACHABLE_TAIL


def test_a_name_is_sent_to_the_address_that_was_checked(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    app = app_with(webhook_allowed_hosts="hooks.example.com:*, 127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(host="hooks.example.com"), ["ping"])
    delivery_id = _ping(app, tenant, hook)
    loopback: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ipaddress.ip_address("127.0.0.1")]
    deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0, resolver=lambda host, port: loopback)
    (got,) = receiver.requests
    assert got.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert _delivery(db, delivery_id).status == "succeeded"


def test_an_endpoint_saved_under_a_wider_allowlist_is_refused_at_send(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    saved_under = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(saved_under.client, tenant.rw, receiver.url(), ["ping"])
    delivery_id = _ping(saved_under, tenant, hook)
    narrowed = app_with(webhook_allowed_hosts="hooks.example.com")
    deliver_due(narrowed.runtime.sessions, narrowed.delivery(), now=lambda: T0)
    assert receiver.requests == []
    refused = _delivery(db, delivery_id)
    assert refused.attempts == 1 and refused.error and "no HTTP response" in refused.error
    narrowed_port = app_with(webhook_allowed_hosts="127.0.0.1:1")  # the host, but not the endpoint's port
    deliver_due(narrowed_port.runtime.sessions, narrowed_port.delivery(), now=lambda: T0 + timedelta(days=1))
    assert receiver.requests == [] and _delivery(db, delivery_id).attempts == 2


def test_a_claimed_delivery_is_not_claimed_twice(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver
) -> None:
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    _ping(app, tenant, hook)
    first = claim(app.runtime.sessions, T0)
    assert len(first) == 1
    assert claim(app.runtime.sessions, T0 + timedelta(seconds=5)) == []  # leased by the first
    # The first holder died: once the lease expires the delivery is claimed (and sent) again.
    assert deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0 + timedelta(minutes=5)) == 1
    assert len(receiver.requests) == 1


def test_secrets_are_never_logged(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = app_with(webhook_allowed_hosts="127.0.0.1:*")
    hook = create_webhook(app.client, tenant.rw, receiver.url(), ["ping"])
    rotated = app.client.post(f"{API}/org/webhooks/{hook['id']}/rotate-secret", headers=tenant.rw.headers)
    _ping(app, tenant, hook)
    receiver.statuses = [500]
    deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0)
    deliver_due(app.runtime.sessions, app.delivery(), now=lambda: T0 + timedelta(hours=1))
    assert "webhook delivery" in caplog.text  # the worker does log its attempts
    signatures = [r.headers["x-openmira-signature"] for r in receiver.requests]
    for secret in (str(hook["secret"]), rotated.json()["data"]["secret"], *signatures):
        assert secret not in caplog.text
    assert receiver.url() not in caplog.text  # a URL may hold a token of its own
    stored = db.scalars(select(WebhookEventPayload.data)).all()
    assert all(str(hook["secret"]) not in json.dumps(p) for p in stored)


def test_a_secret_encrypted_under_another_key_fails_the_delivery_clearly(
    app_with: Callable[..., App], tenant: Tenant, receiver: Receiver, db: Session
) -> None:
    before = app_with(webhook_allowed_hosts="127.0.0.1:*", webhook_secret_key="the first key")
    hook = create_webhook(before.client, tenant.rw, receiver.url(), ["ping"])
    delivery_id = _ping(before, tenant, hook)
    after = app_with(webhook_allowed_hosts="127.0.0.1:*", webhook_secret_key="another key")
    assert deliver_due(after.runtime.sessions, after.delivery(), now=lambda: T0) == 1
    assert receiver.requests == []
    failed = _delivery(db, delivery_id)
    assert failed.status == "failed" and "rotate" in (failed.error or "")
    rotated = after.client.post(f"{API}/org/webhooks/{hook['id']}/rotate-secret", headers=tenant.rw.headers)
    _ping(after, tenant, hook)
    deliver_due(after.runtime.sessions, after.delivery(), now=lambda: T0)
    (got,) = receiver.requests
    assert verify(rotated.json()["data"]["secret"], got.headers, got.body)


def test_no_http_answer_reads_the_same_whatever_the_cause(
    app_with: Callable[..., App], tenant: Tenant, db: Session
) -> None:
    """A closed port, a silent one, an address the allowlist refuses and a name that does not resolve leave
    the endpoint's owner the same record: deliveries are no port (or network) scanner (issue 13, item 12)."""
    port = free_port()  # nothing listens on it at 127.0.0.1
    silent = socket.socket()
    silent.bind(("127.0.0.3", port))
    silent.listen(8)  # the connection is made, and never answered
    app = app_with(webhook_allowed_hosts=f"hooks.example.com:{port}, 127.0.0.1:{port}, 127.0.0.3:{port}")
    hook = create_webhook(app.client, tenant.rw, f"http://hooks.example.com:{port}/hook", ["ping"])

    def unresolved(_host: str, _port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        raise socket.gaierror("Name or service not known")

    def at(address: str) -> Callable[[str, int], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
        return lambda _host, _port: [ipaddress.ip_address(address)]

    seen = []
    try:
        for resolver in (at("127.0.0.1"), at("127.0.0.3"), at("127.0.0.2"), unresolved):
            delivery_id = _ping(app, tenant, hook)
            deliver_due(app.runtime.sessions, app.delivery(timeout_seconds=0.5), now=lambda: T0, resolver=resolver)
            d = _delivery(db, delivery_id)
            seen.append((d.status, d.attempts, d.response_status, d.next_attempt, d.error))
    finally:
        silent.close()
    expected = ("pending", 1, None, T0 + timedelta(seconds=30),
                f"no HTTP response from hooks.example.com:{port}" + UNREACHABLE_TAIL)
    assert seen == [expected] * 4
