"""The run's figures as Markdown tables, the machine they were taken on, and the targets."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from importlib.metadata import version

import psycopg

from bench import prism, targets
from bench.runner import Measurement, Run
from bench.wrk import WrkResult


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as fh:
            kib = int(fh.readline().split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _postgres_version(url: str) -> str:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except psycopg.Error:
        return "unreachable"


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine(run: Run) -> list[str]:
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{' '.join(['python -m bench', *sys.argv[1:]])}`",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores (nproc); memory {_memory()}",
        f"- Python {platform.python_version()}, uvicorn {version('uvicorn')}, FastAPI {version('fastapi')}, "
        f"SQLAlchemy {version('sqlalchemy')}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {_postgres_version(run.options.pg_url)}",
        f"- load average at the end of the run (1, 5, 15 min): {load_average()}; other work here skews figures",
        f"- wrk: 1 thread, {'/'.join(map(str, run.options.connections))} connections, "
        f"{run.options.duration:g} s per measurement after {run.options.warmup:g} s of warm-up, loopback; "
        "wrk and the server share the cores",
        f"- idle CPUs: {run.idle_cpus}",
        f"- peers: reference (bench/reference.py, one worker): {'yes' if run.options.reference else 'skipped'}; "
        f"Prism: {_prism(run)}",
    ]


def _prism(run: Run) -> str:
    if not run.options.prism:
        return "skipped (--no-prism)"
    if run.prism_binary is None:
        return "skipped (npm not found or the install failed)" if run.prism_checked else "not run"
    return f"@stoplight/prism-cli {prism.VERSION}, static mode"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _figures(result: WrkResult | None) -> str:
    """req/s | p50 | p99 cells, or three empty cells."""
    if result is None:
        return " | | "
    errors = f" ({result.errors} errors)" if result.errors else ""
    return f"{result.rps:,.0f}{errors} | {_ms(result.p50_ms)} | {_ms(result.p99_ms)}"


def _cpu(result: WrkResult | None) -> str:
    """The server's CPU per request (user + system), or an empty cell."""
    return "" if result is None or result.cpu_ms is None else f"{result.cpu_ms:.3f}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def results_table(run: Run) -> list[str]:
    lines = [
        "| backend | findings | workers | conns | limiter | operation | bytes | req/s | p50 ms | p99 ms "
        "| floor req/s | floor p50 | floor p99 | reference req/s | ref p50 | ref p99 | Prism req/s | Prism p50 "
        "| Prism p99 | / floor | / reference | / Prism | FastAPI route req/s | CPU ms/req | ref CPU ms/req |",
        "|---|---:|---:|---:|---|---|---:|" + "---:|" * 18,
    ]
    for m in run.measurements:
        framework = f"{m.framework.rps:,.0f}" if m.framework else ""
        lines.append(
            f"| {m.backend} | {m.findings:,} | {m.workers} | {m.connections} | {m.limiter} | {m.operation} "
            f"| {m.body_bytes:,} | {_figures(m.result)} | {_figures(m.floor)} | {_figures(m.reference)} "
            f"| {_figures(m.prism)} | {_share(m.ratio)} | {_share(m.reference_ratio)} | {_share(m.prism_ratio)} "
            f"| {framework} | {_cpu(m.result)} | {_cpu(m.reference)} |"
        )
    return lines


def reference_bodies(run: Run) -> list[str]:
    """How the reference's body compared with OpenMira's, once per backend, size and operation."""
    seen: dict[tuple[str, int, str], str] = {}
    for m in run.measurements:
        if m.reference_body is not None:
            seen.setdefault((m.backend, m.findings, m.operation), m.reference_body)
    return [f"- {backend}, {findings:,} findings, {operation}: {verdict}"
            for (backend, findings, operation), verdict in seen.items()] or ["(the reference did not run)"]


def _one_worker(run: Run, backend: str, operation: str, connections: int) -> list[Measurement]:
    found = [m for m in run.measurements if m.backend == backend and m.operation == operation
             and m.workers == 1 and m.connections == connections]
    return sorted(found, key=lambda m: m.findings)


def growth_table(run: Run) -> list[str]:
    lines = [
        "| backend | operation | conns | findings | req/s | p50 ms | p99 ms | p99 / p99 at smallest |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for backend in run.options.backends:
        for operation in ("list", "list_3_filters", "list_regex", "msp_all"):
            for connections in run.options.connections:
                rows = _one_worker(run, backend, operation, connections)
                for m in rows:
                    growth = m.result.p99_ms / rows[0].result.p99_ms if rows[0].result.p99_ms else 0
                    lines.append(
                        f"| {backend} | {operation} | {connections} | {m.findings:,} | {m.result.rps:,.0f} "
                        f"| {_ms(m.result.p50_ms)} | {_ms(m.result.p99_ms)} | {growth:.2f}x |"
                    )
    return lines


def memory_table(run: Run) -> list[str]:
    if not run.memory:
        return ["(not measured: add --memory)"]
    lines = ["| backend | findings | conns | list requests | RSS MiB | list requests | RSS MiB | ratio | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in run.memory:
        first, last = r.checkpoints[0], r.checkpoints[-1]
        ratio = f"{r.growth:.3f}x" if r.growth is not None else ""
        lines.append(f"| {r.backend} | {r.findings:,} | {r.connections} | {first.requests:,} "
                     f"| {first.rss_kib / 1024:.1f} | {last.requests:,} | {last.rss_kib / 1024:.1f} | {ratio} "
                     f"| {r.errors} |")
    return lines


def markdown(run: Run) -> str:
    sections = [
        "## Machine", *machine(run), "",
        "## Results", *results_table(run), "",
        "Ratios are OpenMira's req/s over the peer's, in the same run. The reference and Prism run on one "
        "worker, for the list and the finding. CPU ms/req is the server's user and system CPU (all its "
        "processes) over the measured run divided by its answers: steadier than req/s when the machine is "
        "shared, since time spent waiting for a core is not counted.", "",
        "## The reference's body against OpenMira's", *reference_bodies(run), "",
        "## List latency against data size (one worker)", *growth_table(run), "",
        "## Memory of one worker", *memory_table(run), "",
        "## Targets (issue 11, one worker)", *targets.table(run), "",
    ]
    return "\n".join(sections)
