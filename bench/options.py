"""Command-line options of ``python -m bench``."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from bench.databases import BACKENDS
from bench.operations import OPERATIONS

QUICK_SIZES = (10_000,)
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_CONNECTIONS = (4,)
FULL_CONNECTIONS = (4, 32)
# Issue 11: one worker's RSS after 200k list requests within 10% of its RSS after 2k.
MEMORY_REQUESTS = (2_000, 200_000)


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    backends: tuple[str, ...]
    workers: tuple[int, ...]
    operations: tuple[str, ...]
    duration: float
    warmup: float
    passes: int
    connections: tuple[int, ...]
    seed: int
    rate_limit: int
    pg_url: str
    redis_url: str | None
    markdown: str | None
    openmira_src: str | None = None
    framework_floor: bool = True
    reference: bool = True
    prism: bool = True
    memory: bool = False
    memory_requests: tuple[int, ...] = MEMORY_REQUESTS
    keep_cpus_awake: bool = True
    wrk: str = "wrk"


def _size(text: str) -> int:
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Seed N findings on SQLite and PostgreSQL, serve OpenMira with uvicorn (one worker and several), "
            "then its peers on one worker: a hand-written reference of the list and finding (bench/reference.py) "
            "and Prism serving OpenMira's own responses as static examples; then a floor app (the same uvicorn "
            "answering a fixed JSON body of the same size). Drive each with wrk and print req/s, p50, p99, the "
            "ratios and issue 11's targets. The default is a quick run (10k findings, 4 connections, 5 s per "
            "measurement); --full measures 10k, 100k and 1M findings at 4 and 32 connections, 10 s each."
        ),
    )
    p.add_argument("--full", action="store_true", help="sizes 10k,100k,1M and 10 s per measurement")
    p.add_argument("--sizes", type=_csv, help="findings in the organization, e.g. 10k,100k,1M [quick: 10k]")
    p.add_argument("--backends", type=_csv, default=list(BACKENDS), help="sqlite,postgres [both]")
    p.add_argument("--workers", type=_csv, default=["1", "2"], help="uvicorn worker counts [1,2]")
    p.add_argument("--ops", type=_csv, default=list(OPERATIONS), help=f"operations [{','.join(OPERATIONS)}]")
    p.add_argument("--duration", type=float, help="seconds per measurement [quick 5, full 10]")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of wrk before each measurement [1]")
    p.add_argument(
        "--passes", type=int, default=1,
        help="measured runs per figure; the figure is the run with the median req/s (3 for figures to quote) [1]",
    )
    p.add_argument(
        "--connections", type=_csv,
        help="wrk connection counts (one wrk thread); every figure is taken at each, e.g. 4,32 [quick 4, full 4,32]",
    )
    p.add_argument("--seed", type=int, default=1, help="openmira seed --seed [1]")
    p.add_argument(
        "--rate-limit", type=int, default=100_000, help="OPENMIRA_RATE_LIMIT and OPENMIRA_MSP_RATE_LIMIT [100000]"
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("OPENMIRA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test"),
        help="admin URL of the PostgreSQL server; a throw-away database is created there and dropped",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("OPENMIRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="shared rate limiter for runs with several workers ('' for in-process per worker)",
    )
    p.add_argument(
        "--no-framework-floor", action="store_true",
        help="skip the same bodies served by a bare FastAPI route (a comparison beside the floor)",
    )
    p.add_argument("--no-reference", action="store_true", help="skip the hand-written reference (bench/reference.py)")
    p.add_argument("--no-prism", action="store_true", help="skip Prism (@stoplight/prism-cli, installed with npm)")
    p.add_argument(
        "--memory", action="store_true",
        help="also measure one worker's RSS over --memory-requests list requests (200k: 15-35 min per backend, size)",
    )
    p.add_argument(
        "--memory-requests", type=_csv, default=[str(n) for n in MEMORY_REQUESTS],
        help="list-request counts at which --memory reads the RSS [2k,200k]",
    )
    p.add_argument(
        "--let-cpus-idle", action="store_true",
        help="do not hold idle CPUs awake (/dev/cpu_dma_latency at 0, bench/awake.py) while measuring",
    )
    p.add_argument("--markdown", help="also write the result tables to this Markdown file")
    p.add_argument(
        "--openmira-src",
        help="serve OpenMira from this src folder (another checkout, e.g. a baseline commit's) instead of the "
        "installed one; the bench, the seeding and the peers stay this checkout's",
    )
    return p


def parse(argv: list[str] | None = None) -> Options:
    p = parser()
    args = p.parse_args(argv)
    sizes = tuple(_size(s) for s in args.sizes) if args.sizes else (FULL_SIZES if args.full else QUICK_SIZES)
    unknown = [b for b in args.backends if b not in BACKENDS] + [o for o in args.ops if o not in OPERATIONS]
    if unknown:
        p.error(f"unknown backend or operation: {', '.join(unknown)}")
    workers = tuple(int(w) for w in args.workers)
    default_connections = FULL_CONNECTIONS if args.full else QUICK_CONNECTIONS
    connections = tuple(int(c) for c in args.connections) if args.connections else default_connections
    memory_requests = tuple(sorted(_size(n) for n in args.memory_requests))
    if (not workers or min(workers) < 1 or min(sizes) < 1 or min(connections) < 1 or min(memory_requests) < 1
            or args.passes < 1):
        p.error("worker counts, sizes, connections, passes and request counts must be positive")
    return Options(
        sizes=sizes,
        backends=tuple(args.backends),
        workers=workers,
        operations=tuple(args.ops),
        duration=args.duration or (10.0 if args.full else 5.0),
        warmup=args.warmup,
        passes=args.passes,
        connections=connections,
        seed=args.seed,
        rate_limit=args.rate_limit,
        pg_url=args.pg_url,
        redis_url=args.redis_url or None,
        markdown=args.markdown,
        openmira_src=args.openmira_src,
        framework_floor=not args.no_framework_floor,
        reference=not args.no_reference,
        prism=not args.no_prism,
        memory=args.memory,
        memory_requests=memory_requests,
        keep_cpus_awake=not args.let_cpus_idle,
    )
