"""``db.greenlets.run_in_greenlet``: SQLAlchemy's ``greenlet_spawn`` in greenlets kept from one work to the next.
What the work sees (its waits on the loop, errors and cancellations raised where it waits, the caller's context
variables) is what ``greenlet_spawn`` gives it; a kept greenlet serves the next work and holds nothing of the last.
(The database reads themselves run through it in tests/core/test_core_reads.py and the whole PostgreSQL suite.)"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from greenlet import GreenletExit, getcurrent, greenlet
from sqlalchemy.util import await_, greenlet_spawn

from openmira.db import greenlets
from openmira.db.greenlets import KEPT, run_in_greenlet

Spawn = Callable[[Callable[[], Any]], Awaitable[Any]]
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@pytest.fixture(autouse=True)
def _none_kept() -> None:
    """This thread's kept greenlets start empty (the ones dropped end as a collected greenlet ends)."""
    greenlets._kept.workers = []


async def _later(value: Any, *, fail: bool = False) -> Any:
    await asyncio.sleep(0.001)  # a real wait on the loop
    if fail:
        raise LookupError(value)
    return value


def _scenario(spawn: Spawn) -> list[Any]:
    """What a work sees, run by ``spawn``: waits, errors raised where it waits, context variables both ways."""

    def waits() -> list[Any]:
        seen: list[Any] = [await_(_later(1)), await_(_later("two")), request_id.get()]
        try:
            await_(_later("missing", fail=True))
        except LookupError as exc:
            seen.append(("caught", exc.args))
        request_id.set("set by the work")
        return seen

    def fails() -> None:
        await_(_later(3))
        raise KeyError("from the work")

    def reads_the_id() -> str:
        await_(_later(None))
        return request_id.get()

    async def another_request(value: str) -> str:
        request_id.set(value)
        return await spawn(reads_the_id)  # by then a kept greenlet, which a previous work ran in

    async def run() -> list[Any]:
        request_id.set("the caller's")
        result = await spawn(waits)
        after = request_id.get()  # the work ran in the caller's context, as greenlet_spawn runs it
        with pytest.raises(KeyError, match="from the work"):
            await spawn(fails)
        others = await asyncio.gather(*(asyncio.create_task(another_request(f"request {n}")) for n in range(3)))
        return [result, after, await spawn(lambda: "no wait"), others, await spawn(reads_the_id)]

    return asyncio.run(run())


def test_a_work_sees_what_greenlet_spawn_gives_it() -> None:
    ours = _scenario(run_in_greenlet)
    assert ours == _scenario(lambda work: greenlet_spawn(work))
    assert ours == [
        [1, "two", "the caller's", ("caught", ("missing",))],
        "set by the work",
        "no wait",
        ["request 0", "request 1", "request 2"],  # each work in its caller's context, kept greenlet or not
        "set by the work",
    ]


def test_a_greenlet_serves_the_next_work_and_concurrent_works_have_their_own() -> None:
    async def run() -> tuple[list[Any], list[Any]]:
        one_by_one = [await run_in_greenlet(getcurrent) for _ in range(3)]

        def waiting() -> Any:
            await_(asyncio.sleep(0.01))
            return getcurrent()

        at_once = await asyncio.gather(*(run_in_greenlet(waiting) for _ in range(5)))
        return one_by_one, at_once

    one_by_one, at_once = asyncio.run(run())
    assert len({id(g) for g in one_by_one}) == 1 and one_by_one[0] is not getcurrent()
    assert len({id(g) for g in at_once}) == 5  # each work waited in its own greenlet
    assert one_by_one[0] in at_once  # the kept one among them


def test_a_cancelled_work_is_cancelled_where_it_waits_and_its_greenlet_serves_again() -> None:
    seen: list[str] = []

    def waiting_long() -> None:
        try:
            await_(asyncio.sleep(30))
        except asyncio.CancelledError:
            seen.append("cancelled where it waited")
            raise
        finally:
            seen.append("cleaned up")

    async def run() -> tuple[Any, Any]:
        task = asyncio.ensure_future(run_in_greenlet(waiting_long))
        await asyncio.sleep(0.05)
        first = greenlets._kept.workers  # the cancelled work's greenlet is busy: none kept
        assert first == []
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after = list(greenlets._kept.workers)
        return after, await run_in_greenlet(lambda: (await_(_later("again")), getcurrent()))

    after, (value, served_by) = asyncio.run(run())
    assert seen == ["cancelled where it waited", "cleaned up"]
    assert value == "again" and after == [served_by]


def _works_run_and_dropped() -> list[weakref.ref[Any]]:
    """Weak references to what two works (one answering, one failing) and their context were, once run."""

    class Result:
        pass

    class Failure(Exception):
        pass

    refs: list[weakref.ref[Any]] = []

    def work() -> Result:
        await_(asyncio.sleep(0))
        result = Result()
        refs.append(weakref.ref(result))
        return result

    def failing() -> None:
        error = Failure()
        refs.append(weakref.ref(error))
        raise error

    async def run() -> None:
        held = Result()  # what the request's context holds (asyncio runs the task in a copy of the context)
        request_id.set(held)  # type: ignore[arg-type]
        refs.append(weakref.ref(held))
        assert isinstance(await run_in_greenlet(work), Result)
        with pytest.raises(Failure):
            await run_in_greenlet(failing)

    asyncio.run(run())
    return [*refs, weakref.ref(work), weakref.ref(failing)]


def test_a_kept_greenlet_holds_nothing_of_the_work_it_ran() -> None:
    refs = _works_run_and_dropped()
    gc.collect()
    assert len(greenlets._kept.workers) == 1  # kept, and referring to none of them
    assert [ref() for ref in refs] == [None] * 5  # the context's object, the result, the error, both works


def test_a_failed_works_error_and_frames_go_without_the_collector() -> None:
    """As with greenlet_spawn, a failed work's error leaves no reference cycle: its traceback (the work's frames
    and their locals: a connection, a cursor, the values) goes as soon as the caller drops the error."""

    class Held:
        pass

    class Failure(ValueError):
        pass

    refs: list[weakref.ref[Any]] = []

    def failure() -> Failure:
        error = Failure("failed")
        refs.append(weakref.ref(error))
        return error

    def failing() -> None:
        held = Held()  # what a work's frame holds
        refs.append(weakref.ref(held))
        await_(asyncio.sleep(0))
        raise failure()  # not held by a local of this frame: that would be a cycle of the work's own

    async def run() -> None:
        with contextlib.suppress(Failure):
            await run_in_greenlet(failing)

    loop = asyncio.new_event_loop()
    gc.collect()
    gc.disable()
    try:
        loop.run_until_complete(run())
        alive = [ref() is not None for ref in refs]
    finally:
        gc.enable()
        loop.close()
    assert alive == [False, False]


def test_at_most_kept_greenlets_are_kept_per_thread() -> None:
    def waiting() -> None:
        await_(asyncio.sleep(0.01))

    async def run() -> None:
        await asyncio.gather(*(run_in_greenlet(waiting) for _ in range(KEPT + 5)))

    asyncio.run(run())
    assert len(greenlets._kept.workers) == KEPT

    # Another thread's loop keeps its own (a greenlet runs only in the thread that made it).
    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(run_in_greenlet(getcurrent))))
    thread.start()
    thread.join()
    assert found and found[0] not in greenlets._kept.workers


def test_a_work_that_ends_its_greenlet_is_an_error_and_the_next_work_runs() -> None:
    def ends() -> None:
        raise GreenletExit("from the work")  # what only a collected greenlet should see

    async def run() -> str:
        with pytest.raises(RuntimeError, match="ended its greenlet"):
            await run_in_greenlet(ends)
        assert greenlets._kept.workers == []  # a dead greenlet is not kept
        return await run_in_greenlet(lambda: await_(_later("next")))

    assert asyncio.run(run()) == "next"


@pytest.mark.parametrize("cause", [None, ValueError("the cause")])
def test_a_greenlet_collected_mid_work_ends_even_if_the_works_clean_up_fails(cause: BaseException | None) -> None:
    """greenlet throws GreenletExit into a greenlet collected while it waits (its driver gone): the greenlet
    must end, whatever the work's clean-up raises meanwhile (with a cause of its own too), or it would live on
    with all it holds."""
    seen: list[str] = []

    def work() -> None:
        try:
            getcurrent().parent.switch("an awaitable")  # as await_ waits: in the driver, which never comes back
        except GreenletExit:
            seen.append("told to end")
            raise RuntimeError("clean-up failed") from cause  # its context is still the GreenletExit

    worker = greenlets._Worker(greenlets._serve, getcurrent())
    worker.switch()
    assert worker.switch(work, greenlets._Outcome()) == "an awaitable"
    ref = weakref.ref(worker)
    unraisable: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "unraisablehook", lambda hook: unraisable.append(repr(hook.exc_value)))
        del worker
        gc.collect()
    assert seen == ["told to end"] and ref() is None  # ended and freed
    assert unraisable == ["RuntimeError('clean-up failed')"]  # reported as greenlet_spawn's greenlet's would be


def test_a_kept_greenlet_serves_a_loop_run_in_another_greenlet_of_the_thread() -> None:
    def waiting() -> Any:
        await_(asyncio.sleep(0))
        return getcurrent()

    driver = greenlet(lambda: asyncio.run(run_in_greenlet(waiting)))
    first = driver.switch()
    assert driver.dead and first.parent is driver
    again = asyncio.run(run_in_greenlet(waiting))  # from this greenlet now: the same one, its parent changed
    assert again is first and again.parent is getcurrent()
