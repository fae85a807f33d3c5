"""Idle CPUs kept awake while the bench measures: Linux's PM QoS request for no CPU wake-up latency.

On a virtual machine whose idle CPUs halt at once (cpuidle's haltpoll driver with its polling off, as on this
project's machines), a process woken on a halted CPU waits until the host runs that CPU again. At 4 connections,
where the CPUs idle between requests, wrk then read p99s of 20-500 ms in a third of the runs of one unchanged
server, its req/s unmoved; a client that kept a CPU busy never saw them, and with this request held they were
gone from all but one run in eight (docs/benchmarks.md, round 16). Holding ``/dev/cpu_dma_latency`` at 0 makes
the cpuidle governor choose its polling state, as cyclictest does; the request ends when the file is closed
(close-on-exec: the servers and wrk do not inherit it). It needs root and a cpuidle driver; without them the
run goes on, and the report says what held.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

QOS = "/dev/cpu_dma_latency"
CPUIDLE = Path("/sys/devices/system/cpu/cpuidle")


def _cpuidle() -> str | None:
    """The cpuidle driver and governor, or None where there is none (idle CPUs then halt whatever is asked)."""
    try:
        driver = (CPUIDLE / "current_driver").read_text().strip()
        governor = (CPUIDLE / "current_governor").read_text().strip()
    except OSError:
        return None
    return None if driver in ("", "none") else f"{driver} driver, {governor} governor"


@contextmanager
def cpus_awake(log: Callable[[str], None]) -> Iterator[str]:
    """Holds the request for the duration of the block; yields what the report says of the idle CPUs."""
    cpuidle = _cpuidle()
    if cpuidle is None:
        yield "may halt (no cpuidle driver: a latency request would change nothing)"
        return
    try:
        fd = os.open(QOS, os.O_WRONLY)
    except OSError as exc:
        log(f"note: idle CPUs may halt during the run ({QOS}: {exc.strerror}); latency tails can include their "
            "wake-ups")
        yield f"may halt ({QOS}: {exc.strerror})"
        return
    try:
        try:
            os.write(fd, struct.pack("=i", 0))  # exactly 4 bytes: the wake-up latency allowed, in µs: none
        except OSError as exc:
            log(f"note: idle CPUs may halt during the run (writing {QOS}: {exc.strerror})")
            yield f"may halt (writing {QOS}: {exc.strerror})"
            return
        yield f"kept awake ({QOS} held at 0; {cpuidle})"
    finally:
        os.close(fd)
