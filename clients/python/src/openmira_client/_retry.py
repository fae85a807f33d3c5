"""When to retry and how long to wait: pure functions, shared by the sync and async clients."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

# Methods that may be sent twice without harm (RFC 9110 section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` extra attempts; exponential backoff with full jitter between ``initial_delay`` and
    ``max_delay``; a server's ``Retry-After`` is honoured up to ``max_retry_after`` seconds (a longer wait
    is the caller's decision, so the error is raised instead)."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    retry_writes: bool = False

    def should_retry(self, method: str, status: int | None, attempt: int, retry_writes: bool | None = None) -> bool:
        """``status`` None means the connection failed. ``attempt`` counts retries already made;
        ``retry_writes`` overrides the policy's own for one call."""
        if attempt >= self.max_retries:
            return False
        if status == 429:
            # The rate limiter answers before the request reaches any handler: nothing was done, so even
            # a write may be sent again.
            return True
        if status is not None and status not in RETRYABLE_STATUSES:
            return False
        return method.upper() in IDEMPOTENT_METHODS or (self.retry_writes if retry_writes is None else retry_writes)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``; None: do not retry (the wait is too long)."""
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.initial_delay * 2**attempt)
        # Full jitter: clients that failed together do not come back together.
        return random.uniform(backoff / 2, backoff)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
