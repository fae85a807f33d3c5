"""Several rate-limit budgets taken together: a slot of each, or none.

Used where attempts are counted before the work they guard (token requests, console sign-ins): each slot
is taken with one atomic step of the limiter, so concurrent attempts cannot all pass a check made before
any of them is counted.
"""

from __future__ import annotations

from collections.abc import Sequence

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
