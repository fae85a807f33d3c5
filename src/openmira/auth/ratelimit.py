"""Sliding-window rate limiting: in-process for one process, Redis for many.

A sliding log admits at most ``limit`` requests in *any* window of ``window`` seconds, so the
11th request inside one second is refused however the second is cut.

When Redis is down or hung, the Redis limiter keeps serving from an in-process limiter of its own (each
process then enforces the budget alone, so N processes admit up to N times the limit) and says so
through ``degraded()``, which ``/health`` reports; it tries Redis again every few seconds and goes
back to it as soon as it answers. Its client's timeouts are short (1 s, no retries), so a hung Redis
costs the requests in flight when it hangs, then one probe every few seconds, at most a second each.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("openmira.ratelimit")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    # Seconds until the oldest counted request leaves the window (frees a slot).
    reset_after: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_after))

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(max(0, math.ceil(self.reset_after))),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: float, *, consume: bool = True) -> Decision: ...

    async def undo(self, key: str) -> None:
        """Give back the newest counted hit of ``key`` (a slot reserved, then not needed)."""
        ...

    async def reset(self) -> None: ...

    def degraded(self) -> str | None:
        """Why the limiter is not working as configured, or None."""
        ...

    def close(self) -> None: ...


class InProcessLimiter:
    """Keys are kept in order of last use, so those idle for longer than the longest window seen (all
    their entries expired) are dropped from the front as other keys are hit: memory is bounded by the
    keys used within one window, not by every key ever seen (20,000 one-off client IDs held ~30 MiB)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._logs: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock
        self._horizon = 0.0  # the longest window seen

    def __len__(self) -> int:
        return len(self._logs)

    async def hit(self, key: str, limit: int, window: float, *, consume: bool = True) -> Decision:
        now = self._clock()
        with self._lock:
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = deque()
            else:
                self._logs.move_to_end(key)
            while log and log[0] <= now - window:
                log.popleft()
            allowed = len(log) < limit
            if allowed and consume:
                log.append(now)
            reset = (log[0] + window - now) if log else 0.0
            remaining = max(0, limit - len(log))
            if not log:
                del self._logs[key]
            if window > self._horizon:
                self._horizon = window
            self._forget_idle(now)
        return Decision(allowed, limit, remaining, reset)

    def _forget_idle(self, now: float) -> None:
        # Usually one look at the least recently used key; amortized O(1) per hit.
        logs, expired = self._logs, now - self._horizon
        while logs:
            oldest = logs[next(iter(logs))]
            if oldest and oldest[-1] > expired:
                return
            logs.popitem(last=False)

    async def undo(self, key: str) -> None:
        with self._lock:
            log = self._logs.get(key)
            if log:
                log.pop()
                if not log:
                    del self._logs[key]

    async def reset(self) -> None:
        with self._lock:
            self._logs.clear()

    def degraded(self) -> str | None:
        return None

    def close(self) -> None:
        pass


# KEYS[1] = the log (sorted set of microsecond timestamps), KEYS[2] = a sequence for unique members.
# Redis's own clock is used so that processes on several machines agree on "now"; ARGV[4], when given, is
# "now" in microseconds from the limiter's own clock instead (tests that must not depend on speed).
_SLIDING_LOG = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local consume = ARGV[3] == '1'
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  allowed = 1
  if consume then
    local seq = redis.call('INCR', KEYS[2])
    redis.call('ZADD', KEYS[1], now, now .. ':' .. seq)
    count = count + 1
    local ttl = math.ceil(window / 1000) + 1000
    -- The caller's clock is not Redis's: a log must not expire by Redis's while the caller's stands still.
    if ARGV[4] then ttl = ttl + 3600000 end
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}
"""


# Redis answers this script in well under a millisecond; one that takes a second is treated as down (less
# would mistake a busy machine, whose event loop is late to read the answer, for an outage).
REDIS_TIMEOUT = 1.0
# While Redis is down, one request tries it again this often (the others use the fallback meanwhile).
REDIS_RETRY_SECONDS = 2.0
OUTAGE_WARNING_INTERVAL = 60.0
_OUTAGE = (RedisError, OSError, asyncio.TimeoutError)


class RedisLimiter:
    """``clock``, when given, replaces Redis's clock (and its fallback's): every process sharing the
    budget must then share that clock, so it is for tests, which hold time still or move it themselves."""

    def __init__(
        self, url: str, prefix: str = "openmira:rl:", *, timeout: float = REDIS_TIMEOUT,
        retry_seconds: float = REDIS_RETRY_SECONDS, clock: Callable[[], float] | None = None,
    ) -> None:
        self._url = url
        self._clock = clock
        self.prefix = prefix
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        # redis.asyncio clients belong to one event loop; keep one per loop.
        self._clients: dict[int, aioredis.Redis] = {}
        self._fallback = InProcessLimiter(time.monotonic if clock is None else clock)
        self._down_until = 0.0  # non-zero while Redis is considered down
        self._reason: str | None = None
        self._last_warning = -OUTAGE_WARNING_INTERVAL

    def _client(self) -> aioredis.Redis:
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            # No retries inside the client: one failed attempt is enough to fall back for this request.
            client = aioredis.from_url(
                self._url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout, retry=None,
            )
            self._clients[loop_id] = client
        return client

    async def hit(self, key: str, limit: int, window: float, *, consume: bool = True) -> Decision:
        probing = False
        if self._down_until:
            now = time.monotonic()
            if now < self._down_until:
                return await self._fallback.hit(key, limit, window, consume=consume)
            self._down_until = now + self._retry_seconds  # this request probes; others keep falling back
            probing = True
        full = self.prefix + key
        given_now = () if self._clock is None else (int(self._clock() * 1_000_000),)
        try:
            allowed, count, reset_us = await self._client().eval(
                _SLIDING_LOG, 2, full, full + ":seq", limit, int(window * 1_000_000), "1" if consume else "0",
                *given_now,
            )
        except _OUTAGE as exc:
            self._went_down(exc)
            return await self._fallback.hit(key, limit, window, consume=consume)
        if probing:
            self._came_back()
        return Decision(bool(allowed), limit, max(0, limit - int(count)), max(0, int(reset_us)) / 1_000_000)

    async def undo(self, key: str) -> None:
        if not self._down_until:
            try:
                await self._client().zpopmax(self.prefix + key)
                return
            except _OUTAGE as exc:
                self._went_down(exc)
        await self._fallback.undo(key)

    def _went_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down_until = now + self._retry_seconds
        # The class name only: the message of a connection error can carry the URL and its password.
        self._reason = f"Redis is unreachable ({exc.__class__.__name__}); rate limits are per process"
        if now - self._last_warning >= OUTAGE_WARNING_INTERVAL:
            self._last_warning = now
            log.warning("rate limiter: %s until it answers again", self._reason)

    def _came_back(self) -> None:
        self._down_until = 0.0
        self._reason = None
        log.warning("rate limiter: Redis answers again; rate limits are shared again")

    def degraded(self) -> str | None:
        return self._reason

    async def reset(self) -> None:
        await self._fallback.reset()
        client = self._client()
        async for key in client.scan_iter(match=self.prefix + "*"):
            await client.delete(key)

    def close(self) -> None:
        self._clients.clear()


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RedisLimiter(redis_url) if redis_url else InProcessLimiter()
