"""The run's figures as Markdown tables, the machine they were taken on, and the targets."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from importlib.metadata import version

import psycopg

from bench.runner import Measurement, Run

# Issue 7's targets, taken on one worker.
LIST_FLOOR_RATIO = 0.30
P99_GROWTH = 1.5
TOKENS_PER_SECOND = 500


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
        f"- wrk: 1 thread, {run.options.connections} connections, {run.options.duration:.0f} s per measurement "
        f"after {run.options.warmup:.0f} s of warm-up, loopback; wrk and the server share the cores",
    ]


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def results_table(run: Run) -> list[str]:
    lines = [
        "| backend | findings | workers | limiter | operation | bytes | req/s | p50 ms | p99 ms "
        "| floor req/s | floor p50 | floor p99 | ratio | FastAPI route req/s |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in run.measurements:
        f, r = m.floor, m.result
        errors = f" ({r.errors} errors)" if r.errors else ""
        floor = f"{f.rps:,.0f} | {_ms(f.p50_ms)} | {_ms(f.p99_ms)}" if f else " | | "
        ratio = f"{m.ratio:.1%}" if m.ratio is not None else ""
        framework = f"{m.framework.rps:,.0f}" if m.framework else ""
        lines.append(
            f"| {m.backend} | {m.findings:,} | {m.workers} | {m.limiter} | {m.operation}{errors} | {m.body_bytes:,} "
            f"| {r.rps:,.0f} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | {floor} | {ratio} | {framework} |"
        )
    return lines


def _one_worker(run: Run, backend: str, operation: str) -> list[Measurement]:
    found = [m for m in run.measurements if m.backend == backend and m.operation == operation and m.workers == 1]
    return sorted(found, key=lambda m: m.findings)


def growth_table(run: Run) -> list[str]:
    lines = [
        "| backend | operation | findings | req/s | p50 ms | p99 ms | p99 / p99 at smallest |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for backend in run.options.backends:
        for operation in ("list", "list_3_filters", "list_regex", "msp_all"):
            rows = _one_worker(run, backend, operation)
            for m in rows:
                growth = m.result.p99_ms / rows[0].result.p99_ms if rows[0].result.p99_ms else 0
                lines.append(
                    f"| {backend} | {operation} | {m.findings:,} | {m.result.rps:,.0f} | {_ms(m.result.p50_ms)} "
                    f"| {_ms(m.result.p99_ms)} | {growth:.2f}x |"
                )
    return lines


def targets(run: Run) -> list[str]:
    lines = []
    for backend in run.options.backends:
        lists = _one_worker(run, backend, "list")
        if lists:
            top, bottom = lists[-1], lists[0]
            if top.ratio is not None:
                ok = "met" if top.ratio >= LIST_FLOOR_RATIO else "MISSED"
                lines.append(f"- {backend}: list of 50 at {top.findings:,} findings = {top.ratio:.1%} of the floor "
                             f"(target >= {LIST_FLOOR_RATIO:.0%}): {ok}")
            if len(lists) > 1:
                growth = top.result.p99_ms / bottom.result.p99_ms
                ok = "met" if growth <= P99_GROWTH else "MISSED"
                lines.append(f"- {backend}: list p99 at {top.findings:,} = {growth:.2f}x p99 at {bottom.findings:,} "
                             f"(target <= {P99_GROWTH}x): {ok}")
        for m in _one_worker(run, backend, "token"):
            ok = "met" if m.result.rps >= TOKENS_PER_SECOND else "MISSED"
            lines.append(f"- {backend}: token issuance at {m.findings:,} findings = {m.result.rps:,.0f}/s "
                         f"(target >= {TOKENS_PER_SECOND}/s): {ok}")
    return lines


def markdown(run: Run) -> str:
    sections = [
        "## Machine", *machine(run), "",
        "## Results", *results_table(run), "",
        "## List latency against data size (one worker)", *growth_table(run), "",
        "## Targets", *targets(run), "",
    ]
    return "\n".join(sections)
