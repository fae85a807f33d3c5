"""One benchmark run: for each backend and size, seed, serve, measure OpenMira, then the floor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx

from bench import servers, wrk
from bench.databases import database
from bench.dataset import Dataset, KeyPair, build
from bench.operations import MULTI_WORKER_OPERATIONS, OPERATIONS, Operation, Tokens
from bench.options import Options
from bench.wrk import Request, WrkResult

Log = Callable[[str], None]


@dataclass(frozen=True)
class Measurement:
    backend: str
    findings: int
    workers: int
    limiter: str
    operation: str
    body_bytes: int
    result: WrkResult
    floor: WrkResult | None = None
    # For reference: the same body from a FastAPI route (measured on one worker only).
    framework: WrkResult | None = None

    @property
    def ratio(self) -> float | None:
        return self.result.rps / self.floor.rps if self.floor and self.floor.rps else None


@dataclass
class Run:
    options: Options
    measurements: list[Measurement] = field(default_factory=list)
    # A floor for a (kind, workers, method, body size) is measured once and reused for bodies within 1%.
    floors: dict[tuple[str, int, str], list[tuple[int, WrkResult]]] = field(default_factory=dict)


def _token(base_url: str, pair: KeyPair) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": pair.client_id, "client_secret": pair.client_secret},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _probe(base_url: str, request: Request, op: Operation) -> int:
    """One request with httpx: checks the status and returns the body's size in bytes."""
    response = httpx.request(
        request.method, base_url + request.path, headers=request.headers, content=request.body, timeout=60
    )
    if response.status_code != op.expected_status:
        raise RuntimeError(f"{op.name}: expected {op.expected_status}, got {response.status_code}: {response.text}")
    return len(response.content)


def _drive(options: Options, base_url: str, request: Request) -> WrkResult:
    binary = options.wrk
    if options.warmup > 0:
        wrk.run(binary, base_url, request, duration=options.warmup, connections=options.connections)
    return wrk.run(binary, base_url, request, duration=options.duration, connections=options.connections)


def _measure_openmira(
    run: Run, dataset: Dataset, backend: str, workers: int, names: list[str], log: Log
) -> list[tuple[Measurement, Request]]:
    options = run.options
    redis_url = options.redis_url if workers > 1 else None
    limiter = "redis" if redis_url else "in-process"
    done: list[tuple[Measurement, Request]] = []
    with servers.openmira(
        dataset.database_url, workers=workers, rate_limit=options.rate_limit, redis_url=redis_url
    ) as server:
        tokens = Tokens(org=_token(server.base_url, dataset.org_pair), msp=_token(server.base_url, dataset.msp_pair))
        for name in names:
            op = OPERATIONS[name]
            request = op.build(dataset, tokens)
            size = _probe(server.base_url, request, op)
            result = _drive(options, server.base_url, request)
            measurement = Measurement(backend, dataset.findings, workers, limiter, name, size, result)
            log(f"  {backend:8} {dataset.findings:>9,} findings  {workers}w  {name:15} {size:>7,} B  "
                f"{result.rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                + (f"  ERRORS {result.errors}" if result.errors else ""))
            done.append((measurement, request))
    return done


def _floor_request(request: Request, size: int) -> Request:
    return Request(request.method, f"/{size}", request.headers, request.body)


def _measure_floors(
    run: Run, workers: int, pending: list[tuple[Measurement, Request]], log: Log, *, framework: bool = False
) -> list[WrkResult]:
    kind = "fastapi" if framework else "floor"
    results = []
    with servers.floor(workers=workers, framework=framework) as server:
        for measurement, request in pending:
            known = run.floors.setdefault((kind, workers, request.method), [])
            floor = next((r for size, r in known if abs(size - measurement.body_bytes) <= 0.01 * size), None)
            if floor is None:
                floor = _drive(run.options, server.base_url, _floor_request(request, measurement.body_bytes))
                known.append((measurement.body_bytes, floor))
                log(f"  {kind:8} {workers}w  {request.method:4} {measurement.body_bytes:>7,} B  "
                    f"{floor.rps:8.0f} req/s  p50 {floor.p50_ms:7.2f} ms  p99 {floor.p99_ms:7.2f} ms")
            results.append(floor)
    return results


def _with_floors(run: Run, workers: int, pending: list[tuple[Measurement, Request]], log: Log) -> None:
    floors = _measure_floors(run, workers, pending, log)
    frameworks: list[WrkResult | None] = [None] * len(pending)
    if workers == 1 and run.options.framework_floor:
        frameworks = list(_measure_floors(run, workers, pending, log, framework=True))
    for (measurement, _), floor, framework in zip(pending, floors, frameworks, strict=True):
        run.measurements.append(replace(measurement, floor=floor, framework=framework))


def execute(options: Options, log: Log = print) -> Run:
    run = Run(options)
    for backend in options.backends:
        for size in options.sizes:
            started = time.monotonic()
            with database(backend, options.pg_url) as url:
                log(f"{backend}: seeding {size:,} findings ...")
                dataset = build(url, size, options.seed)
                log(f"{backend}: seeded in {time.monotonic() - started:.0f} s")
                for workers in options.workers:
                    names = [n for n in options.operations if workers == 1 or n in MULTI_WORKER_OPERATIONS]
                    if names:
                        pending = _measure_openmira(run, dataset, backend, workers, names, log)
                        _with_floors(run, workers, pending, log)
    return run
