"""The per-process view of the stored faults, and what the API's middleware asks of it.

Cost when no fault is set: ``armed()`` is one ``time.monotonic()`` and two comparisons; once per
``interval`` seconds one request also reads the version row (in the thread pool), and reloads the faults only
when that version moved. A fault set by any process (CLI, admin endpoint, pytest plugin) is therefore in force
on every process within ``interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmira.core.errors import problem
from openmira.faults.models import Fault, FaultState
from openmira.faults.service import consume

log = logging.getLogger("openmira.faults")
FAULT_HEADER = "X-OpenMira-Fault"


@dataclass(frozen=True)
class ActiveFault:
    id: uuid.UUID
    client_id: str | None
    status: int | None
    retry_after: int | None
    latency_ms: int | None
    counted: bool
    share: float | None

    def label(self) -> str:
        what = f"status={self.status}" if self.status else f"latency={self.latency_ms}ms"
        return f"{what}; id={self.id}"


class FaultBook:
    def __init__(self, sessions: sessionmaker[Session], interval: float) -> None:
        self._sessions = sessions
        self._interval = interval
        self._next_check = 0.0
        self._version: int | None = None
        self._faults: tuple[ActiveFault, ...] = ()

    def armed(self) -> bool:
        """True when a fault may apply or the stored version is due to be checked: the hot path's only cost."""
        return bool(self._faults) or time.monotonic() >= self._next_check

    async def intercept(self, client_id: str, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> bool:
        """Apply the faults due for this request. True when the response was sent here (an injected error,
        or the real response after injected latency); False when the request should go on untouched."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._interval
            await run_in_threadpool(self._refresh)
        latency: ActiveFault | None = None
        for fault in self._faults:
            if fault.client_id not in (None, client_id) or not await self._fires(fault):
                continue
            if fault.status is not None:
                self._log(fault, client_id, scope)
                headers = {FAULT_HEADER: fault.label()}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                detail = f"injected fault ({fault.label()}): not a real failure of the server"
                await problem(fault.status, detail, headers=headers)(scope, receive, send)
                return True
            latency = latency or fault
        if latency is None:
            return False
        self._log(latency, client_id, scope)
        await asyncio.sleep((latency.latency_ms or 0) / 1000)
        label = latency.label().encode("latin-1")

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (FAULT_HEADER.lower().encode(), label)]
            await send(message)

        await app(scope, receive, send_marked)
        return True

    async def _fires(self, fault: ActiveFault) -> bool:
        if fault.share is not None and random.random() >= fault.share:
            return False
        if fault.counted:
            return await run_in_threadpool(self._consume, fault.id)
        return True

    def _consume(self, fault_id: uuid.UUID) -> bool:
        with self._sessions() as session:
            taken = consume(session, fault_id)
            session.commit()
        if not taken:  # used up: stop considering it before the next reload
            self._faults = tuple(f for f in self._faults if f.id != fault_id)
        return taken

    def _refresh(self) -> None:
        with self._sessions() as session:
            version = session.scalar(select(FaultState.version).where(FaultState.id == 1))
            if version == self._version:
                return
            rows = session.scalars(select(Fault).order_by(Fault.created, Fault.id)).all()
            # A key pair's own faults come before the ones for everybody.
            rows = sorted(rows, key=lambda f: f.client_id is None)
            self._faults = tuple(
                ActiveFault(f.id, f.client_id, f.status, f.retry_after, f.latency_ms, f.remaining is not None,
                            f.share)
                for f in rows if f.remaining is None or f.remaining > 0
            )
            self._version = version

    def _log(self, fault: ActiveFault, client_id: str, scope: Scope) -> None:
        log.warning("injected fault", extra={"fields": {
            "fault": fault.label(), "client_id": client_id, "method": scope.get("method"), "path": scope.get("path"),
        }})
