"""Process-wide objects (engine, sessions, limiter, signing keys) built once from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from openmira.auth.budgets import KeyedGate
from openmira.auth.credential_cache import CredentialCache
from openmira.auth.ratelimit import RateLimiter, make_limiter
from openmira.auth.signing import KeyStore
from openmira.auth.tokens import TokenVerifier
from openmira.config import Settings
from openmira.core.request_local import request_local
from openmira.db.files import sqlite_path
from openmira.db.session import (
    LoopConnection,
    make_async_read_engine,
    make_engine,
    make_read_engine,
    make_read_session_factory,
    make_session_factory,
)
from openmira.faults.book import FaultBook
from openmira.webhooks.addresses import HostPolicy
from openmira.webhooks.crypto import SecretBox


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter
    keys: KeyStore
    credentials: CredentialCache
    # For read-only requests (GET routes that do not write): see make_read_engine.
    read_engine: Engine = field(init=False)
    read_sessions: sessionmaker[Session] = field(init=False)
    verifier: TokenVerifier = field(init=False)
    webhook_policy: HostPolicy = field(init=False)
    webhook_secrets: SecretBox = field(init=False)
    faults: FaultBook = field(init=False)
    # One per process: token requests of one (client ID, address) checked at once (oauth.routes).
    token_gate: KeyedGate = field(init=False, default_factory=KeyedGate)

    def __post_init__(self) -> None:
        self.read_engine = make_read_engine(self.engine)
        self.read_sessions = make_read_session_factory(self.read_engine)
        self.verifier = TokenVerifier(self.settings, self.keys)
        self.webhook_policy = HostPolicy.parse(self.settings.webhook_allowed_hosts)
        self.webhook_secrets = SecretBox.shared(self.sessions, self.settings.webhook_secret_key)
        self.faults = FaultBook(self.sessions, self.settings.fault_check_interval)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.effective_database_url)
        sessions = make_session_factory(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            limiter=make_limiter(settings.redis_url),
            keys=KeyStore(sessions, settings.token_lifetime),
            credentials=CredentialCache(sessions),
        )

    @asynccontextmanager
    async def loop_reads(self) -> AsyncIterator[dict[str, Any]]:
        """The app lifespan's state for the running event loop: on PostgreSQL, the read engine whose reads wait
        on the loop (``db.session.make_async_read_engine``), which read-only requests of this lifespan use
        (``core.routing.get_reader``) and which is disposed when it ends; on SQLite, the connection the loop's
        reads keep (``db.session.LoopConnection``), closed when it ends."""
        # A database file: an in-memory one (or a URI left to SQLite, which may name one) would be empty here.
        if sqlite_path(str(self.engine.url)) is not None:
            kept = LoopConnection(self.engine)
            try:
                yield {"loop_connection": kept}
            finally:
                kept.close()
            return
        async_engine = make_async_read_engine(self.engine)
        if async_engine is None:
            yield {}
            return
        try:
            yield {"read_engine": make_read_engine(async_engine.sync_engine)}
        finally:
            await async_engine.dispose()

    def close(self) -> None:
        self.limiter.close()
        self.engine.dispose()


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


@request_local
async def get_runtime(request: Request) -> Runtime:
    """The runtime, as a dependency (async, so FastAPI calls it inline rather than in a worker thread)."""
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
