"""Idle CPUs kept awake while the bench measures: Linux's PM QoS request for no CPU wake-up latency.

On a virtual machine whose idle CPUs halt at once (cpuidle's haltpoll driver with its polling off, as on this
project's machines), a process woken on a halted CPU waits until the host runs that CPU again. At 4 connections,
where the CPUs idle between requests, wrk then read p99s of 20-500 ms in a third of the runs of one unchanged
server, its req/s unmoved; a client that kept a CPU busy never saw them, and with this request held they were
gone from all but one run in eight (docs/benchmarks.md, round 16). Holding ``/dev/cpu_dma_latency`` at 0 makes
an idle CPU poll instead of halt, as tuned's latency-performance profile and cyclictest do; the request ends when
the file is closed. It needs root; without it, the run goes on and says so.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager

QOS = "/dev/cpu_dma_latency"


@contextmanager
def cpus_awake(log: Callable[[str], None]) -> Iterator[bool]:
    """Whether idle CPUs are kept awake for the duration of the block."""
    try:
        fd = os.open(QOS, os.O_WRONLY)
    except OSError as exc:
        log(f"note: idle CPUs may halt during the run ({QOS}: {exc.strerror}); latency tails can include their "
            "wake-ups")
        yield False
        return
    try:
        os.write(fd, struct.pack("i", 0))  # microseconds of wake-up latency allowed: none
        yield True
    finally:
        os.close(fd)
