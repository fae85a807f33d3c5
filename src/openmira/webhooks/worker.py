"""The delivery worker: a background task of the server process that drains the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from openmira.core.background import FailureStreak
from openmira.runtime import Runtime
from openmira.webhooks.delivery import DeliverySettings, deliver_due

log = logging.getLogger("openmira.webhooks")


def delivery_settings(runtime: Runtime) -> DeliverySettings:
    s = runtime.settings
    return DeliverySettings(
        policy=runtime.webhook_policy,
        secrets=runtime.webhook_secrets,
        max_attempts=s.webhook_max_attempts,
        backoff_seconds=s.webhook_backoff_seconds,
        timeout_seconds=s.webhook_timeout_seconds,
    )


class DeliveryWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._config = delivery_settings(runtime)
        self._stopping = threading.Event()  # read from the sending thread between deliveries
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="openmira-webhook-worker")

    async def stop(self) -> None:
        """Finish the attempt in flight (at most one HTTP timeout), then stop."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        poll = self._runtime.settings.webhook_poll_seconds
        streak = FailureStreak(log, "webhook delivery round")
        while not self._stopping.is_set():
            try:
                attempted = await asyncio.to_thread(
                    deliver_due, self._runtime.sessions, self._config, should_stop=self._stopping.is_set
                )
            except Exception:  # the database may be briefly unreachable; try again on the next tick
                streak.failed()
                attempted = 0
            else:
                streak.succeeded()
            if attempted == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=streak.wait(poll))
