"""Synchronous database work run on the event loop, in greenlets kept from one read to the next.

A read through SQLAlchemy's asyncio engine runs its synchronous code in a greenlet whose database waits hand
the waiting to the event loop (``sqlalchemy.util.await_``). SQLAlchemy's ``greenlet_spawn`` makes a greenlet for
every call; making one and ending it (on Python 3.11 with the first chunk of its frame stack, mapped and unmapped
with it, its pages faulted in anew) cost a PostgreSQL read on the loop about 25 µs of the process's CPU, more
than the read's own work in SQLAlchemy and asyncpg (about a tenth of a served finding; measured, issue 11).
:func:`run_in_greenlet` does what ``greenlet_spawn`` does, in a greenlet that then waits for the next work.

A kept greenlet holds nothing of the work it ran (its function, result or error, context) while it waits. The
greenlets are kept per thread (a greenlet runs in the thread that made it), as many as ran at once there, up to
:data:`KEPT`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

T = TypeVar("T")

KEPT = 64  # per thread: more than the reads that run at once (core.routing's turns)
_DONE = object()  # what a greenlet answers its driver when the work has ended (its outcome is in the box)
_kept = threading.local()


class _Outcome:
    """Where a greenlet leaves its work's result or error for the driver."""

    __slots__ = ("error", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None


class _Worker(greenlet):  # type: ignore[misc]
    # SQLAlchemy's await_ runs only in a greenlet that carries this mark, as greenlet_spawn's greenlets do.
    __sqlalchemy_greenlet_provider__ = True


def _serve() -> None:
    # Started with no work (what a greenlet is started with, it keeps until it ends), it waits for each.
    work: Callable[[], Any] | None = None
    outcome: _Outcome | None = None
    while True:
        work = outcome = None  # nothing of the last work kept while the greenlet waits for the next
        work, outcome = getcurrent().parent.switch(_DONE)
        assert work is not None and outcome is not None
        try:
            outcome.value = work()
        except BaseException as exc:  # the driver raises it: a cancellation and an exit too
            if _ends_the_greenlet(exc):
                raise
            outcome.error = exc


def _ends_the_greenlet(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised while handling, the ``GreenletExit`` that greenlet throws into a greenlet
    collected mid-work (its driver gone; a work's clean-up may raise another error meanwhile): the greenlet must
    then end, as ``greenlet_spawn``'s would. (A work that swallows it cannot be ended; none of SQLAlchemy's does.)"""
    seen: set[int] = set()
    chain: list[BaseException] = [exc]
    while chain:  # both links of each error: one raised "from" another while handling the exit has both
        current = chain.pop()
        if id(current) in seen:
            continue
        if isinstance(current, GreenletExit):
            return True
        seen.add(id(current))
        chain.extend(link for link in (current.__cause__, current.__context__) if link is not None)
    return False


async def run_in_greenlet(work: Callable[[], T]) -> T:
    """Run ``work`` in a greenlet in which SQLAlchemy's ``await_`` waits on this event loop; its result, or its
    error raised here. An error or a cancellation while it waits is raised in ``work`` where it waits, as
    ``greenlet_spawn`` raises it."""
    driver = getcurrent()
    kept: list[_Worker] | None = getattr(_kept, "workers", None)
    if kept is None:
        kept = _kept.workers = []
    if kept:
        worker = kept.pop()
        if worker.parent is not driver:  # a loop run in another greenlet of this thread
            worker.parent = driver
    else:
        worker = _Worker(_serve, driver)
        worker.switch()  # to where it waits for work
    worker.gr_context = driver.gr_context  # the caller's context variables (the request's ID), as greenlet_spawn
    outcome = _Outcome()
    result = worker.switch(work, outcome)
    while result is not _DONE:
        if worker.dead:  # the work raised GreenletExit itself: greenlet ended the greenlet and answered it
            raise RuntimeError(f"{work!r} ended its greenlet (it raised {result!r})")
        try:
            value = await result
        except BaseException:
            result = worker.throw(*sys.exc_info())
        else:
            result = worker.switch(value)
    worker.gr_context = None
    if len(kept) < KEPT:
        kept.append(worker)
    if outcome.error is not None:
        error, outcome.error = outcome.error, None
        try:
            raise error
        finally:
            # Else this frame (in the error's traceback) would hold the error: a cycle, which would keep the
            # work's frames and their locals (a connection, the values) until the collector ran.
            del error
    return outcome.value  # type: ignore[no-any-return]
