"""One benchmark run: for each backend and size, seed, serve, measure OpenMira, its peers and the floor.

Servers run one after the other, never side by side, so each figure has the machine to itself (less
the other work on it): OpenMira, then on one worker the reference (bench/reference.py) and Prism for
the operations they serve, then the floor and the FastAPI route. Every figure is taken at each
``--connections`` count.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from bench import awake, memory, prism, servers, wrk
from bench.databases import database
from bench.dataset import Dataset, KeyPair, build
from bench.memory import MemoryResult
from bench.operations import LIST, MULTI_WORKER_OPERATIONS, OPERATIONS, PEER_OPERATIONS, Operation, Tokens
from bench.options import Options
from bench.wrk import Request, WrkResult

Log = Callable[[str], None]


@dataclass(frozen=True)
class Measurement:
    backend: str
    findings: int
    workers: int
    limiter: str
    connections: int
    operation: str
    body_bytes: int
    result: WrkResult
    floor: WrkResult | None = None
    # For reference: the same body from a FastAPI route (measured on one worker only).
    framework: WrkResult | None = None
    # The peers, on one worker, for PEER_OPERATIONS: the hand-written reference and Prism.
    reference: WrkResult | None = None
    prism: WrkResult | None = None
    # How the reference's body compares with OpenMira's: "identical" or where they first differ.
    reference_body: str | None = None

    @property
    def ratio(self) -> float | None:
        return _ratio(self.result, self.floor)

    @property
    def reference_ratio(self) -> float | None:
        return _ratio(self.result, self.reference)

    @property
    def prism_ratio(self) -> float | None:
        return _ratio(self.result, self.prism)


def _ratio(result: WrkResult, peer: WrkResult | None) -> float | None:
    return result.rps / peer.rps if peer and peer.rps else None


@dataclass
class Pending:
    """A measurement waiting for its peers and floors, with the request that made it."""

    measurement: Measurement
    request: Request


@dataclass
class Run:
    options: Options
    measurements: list[Measurement] = field(default_factory=list)
    memory: list[MemoryResult] = field(default_factory=list)
    # A floor for a (kind, workers, method, connections) is measured once and reused for bodies within 1%.
    floors: dict[tuple[str, int, str, int], list[tuple[int, WrkResult]]] = field(default_factory=dict)
    prism_binary: str | None = None
    prism_checked: bool = False
    idle_cpus: str = "let idle (--let-cpus-idle)"  # what held of bench/awake.py's request, for the report


def _token(base_url: str, pair: KeyPair) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": pair.client_id, "client_secret": pair.client_secret},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _probe(base_url: str, request: Request, op: Operation) -> bytes:
    """One request with httpx: checks the status and returns the body."""
    response = httpx.request(
        request.method, base_url + request.path, headers=request.headers, content=request.body, timeout=60
    )
    if response.status_code != op.expected_status:
        raise RuntimeError(f"{op.name}: expected {op.expected_status}, got {response.status_code}: {response.text}")
    return response.content


def _wait_idle(server: servers.Server, *, timeout: float = 120.0) -> None:
    """Wait until the server has worked off what the previous measurement left in flight: wrk stops, but the
    requests it had sent run on (a slow one at 32 connections, the SQLite regex list, left a backlog of seconds
    that the next operation's figures then measured). Idle: its processes use under a fifth of a core, and
    the health check, which queries the database in its turn, answers within 100 ms (a backlog waiting on
    PostgreSQL uses no CPU of the server's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = servers.group_cpu_seconds(server.pid)
        time.sleep(0.25)
        if servers.group_cpu_seconds(server.pid) - before >= 0.05:
            continue
        started = time.monotonic()
        httpx.get(f"{server.base_url}/public-api/v1/health", timeout=timeout)
        if time.monotonic() - started < 0.1:
            return
    print(f"warning: the server was still busy after {timeout:.0f} s; measuring anyway", file=sys.stderr)


def _drive(options: Options, server: servers.Server, request: Request, connections: int) -> WrkResult:
    """The figure of ``options.passes`` measured runs: the one with the median rate (its p50, p99 and CPU with it).

    One run of a few seconds on this kind of machine moves by 15-30% between identical runs of one server (the
    server shares two cores with wrk and PostgreSQL), enough to miss or meet a target by chance: in one round a
    single run read the list's p99 at 1M findings as 1.7-2.0x its 10k figure, and three alternated runs of each
    gave 0.97-1.03x (docs/benchmarks.md, round 11). Its errors are those of every run."""
    results = sorted((_one_run(options, server, request, connections) for _ in range(options.passes)),
                     key=lambda result: result.rps)
    # The lower median with an even count; the errors of every run, so that a failing run is never hidden.
    return replace(results[(len(results) - 1) // 2], errors=sum(result.errors for result in results))


def _one_run(options: Options, server: servers.Server, request: Request, connections: int) -> WrkResult:
    binary = options.wrk
    _wait_idle(server)
    if options.warmup > 0:
        wrk.run(binary, server.base_url, request, duration=options.warmup, connections=connections)
    before = servers.group_cpu_seconds(server.pid)
    result = wrk.run(binary, server.base_url, request, duration=options.duration, connections=connections)
    used = servers.group_cpu_seconds(server.pid) - before
    return replace(result, cpu_ms=1000 * used / result.requests) if used > 0 and result.requests else result


def _figures(result: WrkResult) -> str:
    errors = f"  ERRORS {result.errors}" if result.errors else ""
    cpu = f"  CPU {result.cpu_ms:5.2f} ms/req" if result.cpu_ms is not None else ""
    return f"{result.rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms{cpu}{errors}"


def _measure_openmira(
    run: Run, dataset: Dataset, backend: str, workers: int, names: list[str], log: Log
) -> tuple[list[Pending], dict[str, bytes]]:
    """OpenMira's figures, and its final body for each peer operation (what the peers must answer)."""
    options = run.options
    redis_url = options.redis_url if workers > 1 else None
    limiter = "redis" if redis_url else "in-process"
    done: list[Pending] = []
    bodies: dict[str, bytes] = {}
    with servers.openmira(
        dataset.database_url, workers=workers, rate_limit=options.rate_limit, redis_url=redis_url,
        src=options.openmira_src,
    ) as server:
        tokens = Tokens(org=_token(server.base_url, dataset.org_pair), msp=_token(server.base_url, dataset.msp_pair))
        requests = {name: OPERATIONS[name].build(dataset, tokens) for name in names}
        for name, request in requests.items():
            size = len(_probe(server.base_url, request, OPERATIONS[name]))
            for connections in options.connections:
                result = _drive(options, server, request, connections)
                measurement = Measurement(backend, dataset.findings, workers, limiter, connections, name, size, result)
                log(f"  {backend:8} {dataset.findings:>9,} findings  {workers}w  c{connections:<3} {name:15} "
                    f"{size:>7,} B  {_figures(result)}")
                done.append(Pending(measurement, request))
        # Taken last, after any write operation ran: the page the peers serve from the same rows.
        for name in PEER_OPERATIONS:
            if name in requests:
                bodies[name] = _probe(server.base_url, requests[name], OPERATIONS[name])
    return done, bodies


def first_difference(expected: bytes, got: bytes) -> str:
    """'identical', or the first differing byte with a little context on both sides."""
    if expected == got:
        return "identical"
    at = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), min(len(expected), len(got)))
    return (f"differs at byte {at:,} of {len(expected):,} (reference: {len(got):,} bytes): "
            f"OpenMira {expected[max(0, at - 40):at + 40]!r} / reference {got[max(0, at - 40):at + 40]!r}")


def _measure_reference(
    run: Run, dataset: Dataset, pending: list[Pending], bodies: dict[str, bytes], log: Log
) -> dict[int, tuple[WrkResult, str]]:
    found: dict[int, tuple[WrkResult, str]] = {}
    with servers.reference(dataset.database_url, workers=1, rate_limit=run.options.rate_limit) as server:
        verdicts: dict[str, str] = {}
        for i, item in enumerate(pending):
            name = item.measurement.operation
            if name not in bodies:
                continue
            if name not in verdicts:
                verdicts[name] = first_difference(bodies[name], _probe(server.base_url, item.request, OPERATIONS[name]))
                log(f"  reference {name}: body {verdicts[name]} (against OpenMira's)")
            result = _drive(run.options, server, item.request, item.measurement.connections)
            log(f"  reference c{item.measurement.connections:<3} {name:15} {_figures(result)}")
            found[i] = (result, verdicts[name])
    return found


def _measure_prism(run: Run, pending: list[Pending], bodies: dict[str, bytes], log: Log) -> dict[int, WrkResult]:
    if not run.prism_checked:
        run.prism_binary, run.prism_checked = prism.ensure_prism(log), True
    if run.prism_binary is None or not bodies:
        return {}
    examples = {item.request.path: bodies[item.measurement.operation] for item in pending
                if item.measurement.operation in bodies}
    found: dict[int, WrkResult] = {}
    with tempfile.TemporaryDirectory(prefix="openmira-bench-prism-") as folder, ExitStack() as stack:
        try:
            server = stack.enter_context(prism.serving(run.prism_binary, examples, Path(folder)))
        except RuntimeError as exc:  # e.g. a Node.js too old for this Prism: the rest of the run goes on
            log(f"  prism did not start ({exc}): SKIPPING Prism for the rest of the run")
            run.prism_binary = None
            return {}
        for i, item in enumerate(pending):
            name = item.measurement.operation
            if name not in bodies:
                continue
            result = _drive(run.options, server, item.request, item.measurement.connections)
            log(f"  prism     c{item.measurement.connections:<3} {name:15} {_figures(result)}")
            found[i] = result
    return found


def _floor_request(request: Request, size: int) -> Request:
    return Request(request.method, f"/{size}", request.headers, request.body)


def _measure_floors(run: Run, workers: int, pending: list[Pending], log: Log, *, framework: bool = False) -> list[
    WrkResult
]:
    kind = "fastapi" if framework else "floor"
    results = []
    with servers.floor(workers=workers, framework=framework) as server:
        for item in pending:
            m = item.measurement
            known = run.floors.setdefault((kind, workers, item.request.method, m.connections), [])
            floor = next((r for size, r in known if abs(size - m.body_bytes) <= 0.01 * size), None)
            if floor is None:
                floor = _drive(run.options, server, _floor_request(item.request, m.body_bytes), m.connections)
                known.append((m.body_bytes, floor))
                log(f"  {kind:8} {workers}w  c{m.connections:<3} {item.request.method:4} {m.body_bytes:>7,} B  "
                    f"{_figures(floor)}")
            results.append(floor)
    return results


def _complete(run: Run, dataset: Dataset, workers: int, pending: list[Pending], bodies: dict[str, bytes],
              log: Log) -> None:
    """Peers (one worker only), floors and the FastAPI route for the measurements just taken."""
    references: dict[int, tuple[WrkResult, str]] = {}
    prisms: dict[int, WrkResult] = {}
    if workers == 1 and bodies:
        if run.options.reference:
            references = _measure_reference(run, dataset, pending, bodies, log)
        if run.options.prism:
            prisms = _measure_prism(run, pending, bodies, log)
    floors = _measure_floors(run, workers, pending, log)
    frameworks: list[WrkResult | None] = [None] * len(pending)
    if workers == 1 and run.options.framework_floor:
        frameworks = list(_measure_floors(run, workers, pending, log, framework=True))
    for i, (item, floor, framework) in enumerate(zip(pending, floors, frameworks, strict=True)):
        reference, verdict = references.get(i, (None, None))
        run.measurements.append(replace(
            item.measurement, floor=floor, framework=framework, reference=reference, prism=prisms.get(i),
            reference_body=verdict,
        ))


def _measure_memory(run: Run, dataset: Dataset, backend: str, log: Log) -> None:
    options = run.options
    connections = options.connections[0]
    log(f"{backend}: memory of one worker over {', '.join(f'{n:,}' for n in options.memory_requests)} list requests")
    with servers.openmira(
        dataset.database_url, workers=1, rate_limit=options.rate_limit, redis_url=None, src=options.openmira_src
    ) as server:
        request = Request("GET", LIST, {"Authorization": f"Bearer {_token(server.base_url, dataset.org_pair)}"})
        checkpoints, errors = memory.measure(
            options.wrk, server.base_url, server.pid, request, options.memory_requests, connections, log
        )
    run.memory.append(MemoryResult(backend, dataset.findings, connections, tuple(checkpoints), errors))


def execute(options: Options, log: Log = print) -> Run:
    run = Run(options)
    with ExitStack() as stack:
        if options.keep_cpus_awake:
            run.idle_cpus = stack.enter_context(awake.cpus_awake(log))
        _measure_all(run, log)
    return run


def _measure_all(run: Run, log: Log) -> None:
    options = run.options
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
                        pending, bodies = _measure_openmira(run, dataset, backend, workers, names, log)
                        _complete(run, dataset, workers, pending, bodies, log)
                if options.memory:
                    _measure_memory(run, dataset, backend, log)
