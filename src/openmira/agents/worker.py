"""The simulated fleet's clock: each server process sweeps due agent commands every few seconds.

Several processes may sweep one database; agents/commands.py makes that safe. Reads of a command or a
device also advance it, so the sweep only bounds how stale lists and webhooks-to-come can be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from openmira.agents.commands import advance_device, due_devices
from openmira.core.background import FailureStreak
from openmira.db.base import utcnow

log = logging.getLogger("openmira.agents")


def sweep(sessions: sessionmaker[Session], delay: float) -> int:
    """Advance every device with due commands, one short transaction per device; the number finished."""
    now = utcnow()
    with sessions() as session:
        devices = due_devices(session, now, delay)
    finished = 0
    for device_id in devices:
        with sessions() as session:
            finished += advance_device(session, device_id, now, delay)
            session.commit()
    return finished


class CommandSweeper:
    """A background task of the app's lifespan. ``stop`` lets a sweep in progress finish (it is short),
    so no transaction is cut off and the engine is not disposed under it."""

    def __init__(self, sessions: sessionmaker[Session], delay: float, interval: float) -> None:
        self.sessions, self.delay, self.interval = sessions, delay, interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        if self.interval > 0:
            self._stopping = asyncio.Event()  # bound to the running loop
            self._task = asyncio.create_task(self._run(), name="openmira-command-sweeper")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        streak = FailureStreak(log, "agent command sweep")
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), streak.wait(self.interval))
                return
            try:
                await run_in_threadpool(sweep, self.sessions, self.delay)
            except Exception:  # a database hiccup must not end the sweeping; the next one retries
                streak.failed()
            else:
                streak.succeeded()
