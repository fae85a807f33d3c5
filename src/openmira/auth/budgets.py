"""Several rate-limit budgets taken together: a slot of each, or none.

Used where attempts are counted before the work they guard (token requests, console sign-ins): each slot
is taken with one atomic step of the limiter, so concurrent attempts cannot all pass a check made before
any of them is counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from openmira.auth.ratelimit import Decision, RateLimiter


async def take_all(
    limiter: RateLimiter, budgets: Sequence[tuple[str, int]], window: float
) -> tuple[list[str], Decision | None]:
    """(the keys taken, None), or ([], the refusing decision) when a budget is spent: then the slots taken
    before it are given back, so a refused attempt counts against nothing."""
    taken: list[str] = []
    for key, limit in budgets:
        decision = await limiter.hit(key, limit, window)
        if not decision.allowed:
            await give_back(limiter, taken)
            return [], decision
        taken.append(key)
    return taken, None


async def give_back(limiter: RateLimiter, keys: Sequence[str]) -> None:
    for key in keys:
        await limiter.undo(key)


class KeyedGate:
    """At most ``width`` holders of one key at once in this process; the rest wait their turn.

    A budget taken before the work it guards holds its slot while the work runs. Without a gate, more
    concurrent right attempts than the budget has slots (a client's worker pool starting together) would
    find every slot held by checks still running and be refused; with a gate as wide as the budget they
    queue instead, and the budget only ever refuses for failures. Gates of idle keys are dropped, so the
    memory held is bounded by the requests in flight.
    """

    def __init__(self) -> None:
        self._gates: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str, width: int) -> AsyncIterator[None]:
        semaphore, holders = self._gates.get(key) or (asyncio.Semaphore(width), 0)
        self._gates[key] = (semaphore, holders + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, holders = self._gates[key]
            if holders == 1:
                del self._gates[key]
            else:
                self._gates[key] = (semaphore, holders - 1)

    def __len__(self) -> int:
        return len(self._gates)
