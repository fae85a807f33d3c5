"""Sending deliveries: claim due ones with a lease, POST them signed, record the outcome.

Each step is its own short transaction and no transaction is open while a request is in flight. A claim
is a conditional UPDATE (still pending, due, and not leased by anyone else), so several server processes
on one database never send the same attempt at once; a process that dies mid-send leaves a lease that
expires, and the attempt is made again (at-least-once). Only the lease holder may record the outcome.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import InvalidToken
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from openmira import __version__
from openmira.db.base import utcnow
from openmira.webhooks.addresses import HostPolicy, IPAddress, resolve, url_host, url_port
from openmira.webhooks.crypto import SecretBox, sign
from openmira.webhooks.events import delivery_body
from openmira.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventPayload

log = logging.getLogger("openmira.webhooks")

BATCH = 20
# Longer than an attempt can take (timeout plus DNS), so a live holder never loses its lease.
LEASE = timedelta(seconds=120)
Clock = Callable[[], datetime]
Resolver = Callable[[str, int], list[IPAddress]]

_UNREADABLE_SECRET = (
    "the signing secret cannot be decrypted (OPENMIRA_WEBHOOK_SECRET_KEY changed?): rotate the endpoint's secret"
)
_sending = threading.local()


def _unreachable(host: str, port: int) -> str:
    # One text (and one retry schedule) for every way of getting no HTTP answer: a name that does not
    # resolve, an address the allowlist refuses, a closed port, a filtered one, a failed TLS handshake. The
    # tenant who owns the endpoint then cannot tell them apart, so deliveries are no scanner of the hosts and
    # ports the operator allowed (issue 13); the server log has the cause.
    return f"no HTTP response from {host}:{port} (not resolved, not allowed, refused or timed out)"


class _QuietWhileSending(logging.Filter):
    """httpx logs every request's URL at INFO, and a webhook URL may carry a token of its own: its records
    are dropped while this thread sends a delivery (our own log line names the endpoint by ID)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_sending, "active", False)


logging.getLogger("httpx").addFilter(_QuietWhileSending())


@dataclass(frozen=True)
class DeliverySettings:
    policy: HostPolicy
    secrets: SecretBox
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    response_status: int | None = None
    error: str | None = None
    final: bool = False  # no point retrying
    cause: str | None = None  # for the server log only: what ``error`` does not tell the endpoint's owner


def _due(now: datetime) -> Any:
    return (
        (WebhookDelivery.status == DeliveryStatus.PENDING)
        & (WebhookDelivery.next_attempt <= now)
        & or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    )


def claim(sessions: sessionmaker[Session], now: datetime, limit: int = BATCH) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Lease up to ``limit`` due deliveries; (delivery ID, lease token) of each one this caller won."""
    won: list[tuple[uuid.UUID, uuid.UUID]] = []
    with sessions() as session:
        candidates = session.scalars(
            select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.next_attempt).limit(limit)
        ).all()
        for delivery_id in candidates:
            token = uuid.uuid4()
            result = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, _due(now))
                .values(lease_token=token, lease_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                won.append((delivery_id, token))
        session.commit()
    return won


def _request_parts(url: str, address: IPAddress) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the name (so the connection goes where the policy
    looked, not wherever a second DNS answer points), the Host header, and the TLS server name."""
    target = httpx.URL(url)
    host = url_host(url)
    pinned = target.copy_with(host=str(address))
    netloc = urlsplit(url).netloc
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    return pinned, {"Host": netloc}, extensions


def send_one(
    payload: dict[str, Any],
    event: str,
    delivery_id: uuid.UUID,
    url: str,
    secret: str,
    config: DeliverySettings,
    now: datetime,
    transport: httpx.BaseTransport | None = None,
    resolver: Resolver = resolve,
) -> Outcome:
    host, port = url_host(url), url_port(url)
    unreachable = _unreachable(host, port)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name the IDNA codec refuses (too long)
        return Outcome(False, error=unreachable, cause=f"could not resolve {host}: {exc.__class__.__name__}")
    refusal = config.policy.refusal(host, port, addresses)
    if refusal:
        return Outcome(False, error=unreachable, cause=f"refused: {refusal}")
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    pinned, host_header, extensions = _request_parts(url, addresses[0])
    headers = {
        **host_header,
        "Content-Type": "application/json",
        "User-Agent": f"OpenMira-Webhooks/{__version__}",
        "X-OpenMira-Event": event,
        "X-OpenMira-Delivery": str(delivery_id),
        "X-OpenMira-Timestamp": str(timestamp),
        "X-OpenMira-Signature": sign(secret, timestamp, body),
    }
    # trust_env=False: a proxy from the environment would reach an address the policy never checked.
    with httpx.Client(
        transport=transport, timeout=config.timeout_seconds, follow_redirects=False, trust_env=False
    ) as http:
        _sending.active = True
        try:
            # Streamed and never read: only the status matters, and a receiver's body could be huge.
            with http.stream("POST", pinned, content=body, headers=headers, extensions=extensions) as response:
                status = response.status_code
        except httpx.TimeoutException:
            return Outcome(False, error=unreachable, cause=f"no answer within {config.timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return Outcome(False, error=unreachable, cause=f"the request failed: {exc.__class__.__name__}")
        finally:
            _sending.active = False
    if 200 <= status < 300:
        return Outcome(True, status)
    return Outcome(False, status, f"the receiver answered {status}")


def _record(
    sessions: sessionmaker[Session], delivery_id: uuid.UUID, token: uuid.UUID, outcome: Outcome, now: datetime,
    config: DeliverySettings,
) -> str | None:
    with sessions() as session:
        delivery = session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_token == token)
        )
        if delivery is None:  # deleted meanwhile, or the lease was lost: the new holder records its attempt
            return None
        delivery.attempts += 1
        delivery.last_attempt = now
        delivery.response_status = outcome.response_status
        delivery.error = outcome.error[:500] if outcome.error else None
        delivery.lease_token = None
        delivery.lease_until = None
        if outcome.succeeded:
            delivery.status = DeliveryStatus.SUCCEEDED
        elif outcome.final or delivery.attempts >= config.max_attempts:
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.next_attempt = now + timedelta(seconds=config.backoff_seconds * 2 ** (delivery.attempts - 1))
        status = delivery.status
        session.commit()
        return status


def _load(sessions: sessionmaker[Session], delivery_id: uuid.UUID, token: uuid.UUID) -> tuple[Any, ...] | None:
    with sessions() as session:
        row = session.execute(
            select(WebhookEventPayload, WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret_encrypted)
            .select_from(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(WebhookEventPayload, WebhookEventPayload.id == WebhookDelivery.payload_id)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_token == token)
        ).first()
        return tuple(row) if row is not None else None


def deliver_due(
    sessions: sessionmaker[Session],
    config: DeliverySettings,
    *,
    now: Clock = utcnow,
    transport: httpx.BaseTransport | None = None,
    resolver: Resolver = resolve,
    should_stop: Callable[[], bool] = lambda: False,
    limit: int = BATCH,
) -> int:
    """Make one attempt at each due delivery this process can claim; how many attempts were made.

    ``now``, ``transport`` and ``resolver`` are seams for tests (a fixed clock instead of sleeping).
    """
    attempted = 0
    for delivery_id, token in claim(sessions, now(), limit):
        if should_stop():
            break  # the lease expires and another attempt is made later
        loaded = _load(sessions, delivery_id, token)
        if loaded is None:
            continue
        event_payload, endpoint_id, url, secret_encrypted = loaded
        event, payload = event_payload.event, delivery_body(delivery_id, event_payload)
        at = now()
        try:
            secret = config.secrets.decrypt(secret_encrypted)
        except InvalidToken:
            outcome = Outcome(False, error=_UNREADABLE_SECRET, final=True)
        else:
            try:
                outcome = send_one(payload, event, delivery_id, url, secret, config, at, transport, resolver)
            except Exception as exc:  # one bad delivery must not stop the others; it is retried
                log.exception("webhook delivery %s failed unexpectedly", delivery_id)
                outcome = Outcome(False, error=f"internal error: {exc.__class__.__name__}")
        status = _record(sessions, delivery_id, token, outcome, at, config)
        attempted += 1
        log.info(
            "webhook delivery %s (%s) to endpoint %s: %s%s", delivery_id, event, endpoint_id, status,
            f" ({outcome.cause or outcome.error})" if outcome.error else "",
        )
    return attempted
