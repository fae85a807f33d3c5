"""A short-lived per-process view of key pairs, so revocation needs no query on every request.

An entry lives for at most ``TTL`` seconds: a rotation or deletion made by any process is seen by
every other within that time (the contract allows 2 s); the process that made it drops its entry
at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from openmira.credentials.models import KeyPair
from openmira.db.base import utcnow
from openmira.orgs.models import Organization

TTL = 1.0
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class CredentialState:
    client_id: str
    org_id: uuid.UUID
    org_kind: str
    access: str
    tokens_valid_after: int
    generation: int
    created_by: uuid.UUID | None
    rate_limit: int | None


class CredentialCache:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._entries: dict[str, tuple[float, CredentialState | None]] = {}
        self._lock = threading.Lock()
        # Loads in progress, by event loop and client ID: the requests that find an entry expired wait for
        # one load, not one each (32 concurrent requests of one key once started 32 thread hand-offs every
        # second, which queued behind each other and stalled those requests for up to a second).
        self._loading: dict[tuple[int, str], asyncio.Future[CredentialState | None]] = {}

    async def get(self, client_id: str) -> CredentialState | None:
        entry = self._entries.get(client_id)
        if entry is not None and time.monotonic() - entry[0] < TTL:
            return entry[1]
        key = (id(asyncio.get_running_loop()), client_id)
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._refresh(client_id))
            self._loading[key] = loading
            loading.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(loading)

    async def _refresh(self, client_id: str) -> CredentialState | None:
        state = await run_in_threadpool(self._load, client_id)
        with self._lock:
            self._entries[client_id] = (time.monotonic(), state)
            if len(self._entries) > 100_000:
                self._entries.clear()
        return state

    def invalidate(self, client_id: str) -> None:
        with self._lock:
            self._entries.pop(client_id, None)

    def _load(self, client_id: str) -> CredentialState | None:
        with self._sessions() as session:
            row = session.execute(
                select(KeyPair, Organization.kind)
                .join(Organization, Organization.id == KeyPair.org_id)
                .where(KeyPair.client_id == client_id)
            ).first()
            if row is None:
                return None
            pair, kind = row
            now = utcnow()
            if pair.last_used is None or now - pair.last_used > LAST_USED_RESOLUTION:
                session.execute(update(KeyPair).where(KeyPair.client_id == client_id).values(last_used=now))
                session.commit()
            return CredentialState(
                client_id=pair.client_id,
                org_id=pair.org_id,
                org_kind=kind,
                access=pair.access,
                tokens_valid_after=pair.tokens_valid_after,
                generation=pair.generation,
                created_by=pair.created_by,
                rate_limit=pair.rate_limit,
            )
