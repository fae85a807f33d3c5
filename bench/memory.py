"""Memory: one OpenMira worker's resident set after a small and after a large number of list requests.

wrk runs by duration, not by count, so the requests are sent in chunks sized from the rate measured so
far until the count is reached; each checkpoint records the requests actually served (a little over
the target) and the worker's ``VmRSS``. With ``--workers 1`` uvicorn serves in its main process, so
that is the process read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import wrk
from bench.wrk import Request

Log = Callable[[str], None]


@dataclass(frozen=True)
class Checkpoint:
    requests: int  # served so far (wrk's count), at least the target
    rss_kib: int


@dataclass(frozen=True)
class MemoryResult:
    backend: str
    findings: int
    connections: int
    checkpoints: tuple[Checkpoint, ...]
    errors: int

    @property
    def growth(self) -> float | None:
        """RSS at the last checkpoint over RSS at the first."""
        if len(self.checkpoints) < 2 or not self.checkpoints[0].rss_kib:
            return None
        return self.checkpoints[-1].rss_kib / self.checkpoints[0].rss_kib


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(
    binary: str, base_url: str, pid: int, request: Request, targets: tuple[int, ...], connections: int, log: Log
) -> tuple[list[Checkpoint], int]:
    served, errors, rate = 0, 0, 0.0
    checkpoints = []
    for target in sorted(targets):
        while served < target:
            remaining = target - served
            # Undershoot a little (whole seconds, from the rate so far); the last chunks are 1 s each.
            seconds = 1 if rate <= 0 else max(1, int(0.9 * remaining / rate))
            result = wrk.run(binary, base_url, request, duration=seconds, connections=connections)
            served += result.requests
            errors += result.errors
            rate = result.rps or rate
        checkpoints.append(Checkpoint(served, rss_kib(pid)))
        log(f"  memory   after {served:>9,} list requests: RSS {checkpoints[-1].rss_kib / 1024:7.1f} MiB")
    return checkpoints, errors
