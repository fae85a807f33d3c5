"""Reads on the event loop take turns of the same limiter as the database threads (core.routing)."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.util import await_

from openmira.core.routing import _limiter, _on_db_turn, set_db_threads


def test_reads_on_the_loop_run_at_most_db_threads_at_once_and_give_their_turns_back() -> None:
    async def main() -> None:
        set_db_threads(3)
        running = peak = 0

        def read() -> int:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await_(asyncio.sleep(0.02))  # a wait for the database: the loop runs other reads meanwhile
            running -= 1
            return 1

        assert await asyncio.gather(*[_on_db_turn(read, long=False) for _ in range(12)]) == [1] * 12
        assert peak == 3
        assert _limiter().borrowed_tokens == 0

    asyncio.run(main())


def test_a_read_cancelled_while_it_waits_or_runs_leaves_no_turn_taken() -> None:
    async def main() -> None:
        set_db_threads(1)
        started = asyncio.Event()

        def read() -> str:
            started.set()
            await_(asyncio.sleep(0.2))
            return "read"

        holding = asyncio.create_task(_on_db_turn(read, long=False))
        await started.wait()
        waiting = asyncio.create_task(_on_db_turn(read, long=False))
        await asyncio.sleep(0.01)
        assert _limiter().borrowed_tokens == 1 and not waiting.done()
        waiting.cancel()
        holding.cancel()
        for task in (waiting, holding):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert _limiter().borrowed_tokens == 0
        assert await _on_db_turn(lambda: "after", long=False) == "after"

    asyncio.run(main())


def test_a_free_turn_is_taken_without_a_turn_of_the_loop() -> None:
    """A read that finds a free turn starts at once: ``async with`` a limiter yielded to the loop first, a loop
    turn per read for nothing (3-4% of a finding's CPU on PostgreSQL)."""

    async def main() -> list[str]:
        set_db_threads(2)
        order: list[str] = []

        async def other() -> None:
            order.append("other task")

        def read() -> None:
            order.append("read")

        scheduled = asyncio.ensure_future(other())  # runs at the loop's next turn
        await _on_db_turn(read, long=False)
        await scheduled
        return order

    assert asyncio.run(main()) == ["read", "other task"]
