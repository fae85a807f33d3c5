"""Sliding-window rate limiting: in-process for one process, Redis for many.

A sliding log admits at most ``limit`` requests in *any* window of ``window`` seconds, so the
11th request inside one second is refused however the second is cut.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis


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

    async def reset(self) -> None: ...

    def close(self) -> None: ...


class InProcessLimiter:
    def __init__(self) -> None:
        self._logs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    async def hit(self, key: str, limit: int, window: float, *, consume: bool = True) -> Decision:
        now = time.monotonic()
        with self._lock:
            log = self._logs.setdefault(key, deque())
            while log and log[0] <= now - window:
                log.popleft()
            allowed = len(log) < limit
            if allowed and consume:
                log.append(now)
            reset = (log[0] + window - now) if log else 0.0
            remaining = max(0, limit - len(log))
            if not log:
                del self._logs[key]
        return Decision(allowed, limit, remaining, reset)

    async def reset(self) -> None:
        with self._lock:
            self._logs.clear()

    def close(self) -> None:
        pass


# KEYS[1] = the log (sorted set of microsecond timestamps), KEYS[2] = a sequence for unique members.
# Redis's own clock is used so that processes on several machines agree on "now".
_SLIDING_LOG = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local consume = ARGV[3] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
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
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, count, reset}
"""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "openmira:rl:") -> None:
        self._url = url
        self.prefix = prefix
        # redis.asyncio clients belong to one event loop; keep one per loop.
        self._clients: dict[int, aioredis.Redis] = {}

    def _client(self) -> aioredis.Redis:
        loop_id = id(asyncio.get_running_loop())
        client = self._clients.get(loop_id)
        if client is None:
            client = aioredis.from_url(self._url, socket_timeout=2, socket_connect_timeout=2)
            self._clients[loop_id] = client
        return client

    async def hit(self, key: str, limit: int, window: float, *, consume: bool = True) -> Decision:
        full = self.prefix + key
        allowed, count, reset_us = await self._client().eval(
            _SLIDING_LOG, 2, full, full + ":seq", limit, int(window * 1_000_000), "1" if consume else "0"
        )
        return Decision(bool(allowed), limit, max(0, limit - int(count)), max(0, int(reset_us)) / 1_000_000)

    async def reset(self) -> None:
        client = self._client()
        async for key in client.scan_iter(match=self.prefix + "*"):
            await client.delete(key)

    def close(self) -> None:
        self._clients.clear()


def make_limiter(redis_url: str | None) -> RateLimiter:
    return RedisLimiter(redis_url) if redis_url else InProcessLimiter()
