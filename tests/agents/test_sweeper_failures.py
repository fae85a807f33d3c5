"""The command sweeper on a database it cannot sweep (here: no tables yet, as for a server started before
``openmira migrate``): one traceback, then one line per failure, later and later; a recovery is said."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from openmira.agents.worker import CommandSweeper
from openmira.core.background import MAX_BACKOFF_SECONDS, FailureStreak
from openmira.db.migrate import upgrade
from openmira.db.session import make_engine, make_session_factory


def test_a_failing_sweep_logs_one_traceback_backs_off_and_says_when_it_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'openmira.db'}"
    engine = make_engine(url)
    sweeper = CommandSweeper(make_session_factory(engine), delay=1.0, interval=0.01)

    async def run() -> None:
        sweeper.start()
        await asyncio.sleep(0.5)  # rounds at 0.02, 0.04, 0.08, 0.16 s: five or so failures, not fifty
        upgrade(engine)
        await asyncio.sleep(0.7)
        await sweeper.stop()

    with caplog.at_level(logging.INFO, logger="openmira.agents"):
        asyncio.run(run())
    engine.dispose()
    records = [r for r in caplog.records if r.name == "openmira.agents"]
    failures = [r for r in records if "failed" in r.getMessage()]
    assert 3 <= len(failures) <= 8, [r.getMessage() for r in records]
    assert failures[0].exc_info is not None and "no such table" in str(failures[0].exc_info[1])
    assert all(r.exc_info is None for r in failures[1:])
    assert failures[-1].getMessage() == f"agent command sweep failed again ({len(failures)} in a row)"
    assert records[-1].getMessage() == f"agent command sweep works again after {len(failures)} failures"


def test_the_wait_doubles_with_each_failure_up_to_a_minute() -> None:
    streak = FailureStreak(logging.getLogger("test"), "a round")
    waits = []
    for _ in range(10):
        try:
            raise RuntimeError("down")
        except RuntimeError:
            streak.failed()
        waits.append(streak.wait(1.0))
    assert waits[:6] == [2.0, 4.0, 8.0, 16.0, 32.0, MAX_BACKOFF_SECONDS]
    assert waits[-1] == MAX_BACKOFF_SECONDS
    streak.failures = 5000  # a weekend of failures at the cap
    assert streak.wait(1.0) == MAX_BACKOFF_SECONDS
    streak.succeeded()
    assert streak.wait(1.0) == 1.0
    assert streak.wait(120.0) == 120.0  # a round slower than the cap waits its own interval, no more
