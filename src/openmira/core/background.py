"""What the background rounds of a server process (the agent command sweeper, the webhook delivery worker)
do when a round fails: retry, later and later, and say so without filling the log."""

from __future__ import annotations

import logging

MAX_BACKOFF_SECONDS = 60.0


class FailureStreak:
    """A run of failed rounds. The first failure is logged with its traceback; the next ones as one line each
    with their count, and the first success after them as a recovery. The wait before the next round doubles
    with each failure in a row, up to a minute: a database that is down, or has no tables yet (a server
    started before ``openmira migrate``), costs a traceback, not one a second."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log, self.what = log, what
        self.failures = 0

    def failed(self) -> None:
        """Call from the ``except`` block of a failed round."""
        self.failures += 1
        if self.failures == 1:
            self.log.exception("%s failed; retrying", self.what)
        else:
            self.log.warning("%s failed again (%d in a row)", self.what, self.failures)

    def succeeded(self) -> None:
        if self.failures:
            self.log.warning("%s works again after %d failures", self.what, self.failures)
        self.failures = 0

    def wait(self, interval: float) -> float:
        """Seconds to wait before the next round, for rounds every ``interval`` seconds."""
        if not self.failures:
            return interval
        # The exponent is bounded: 2.0**1024 overflows, and a long outage counts that many failures.
        return min(interval * 2.0 ** min(self.failures, 32), max(interval, MAX_BACKOFF_SECONDS))
