"""Issue 11's targets, checked against one run's one-worker figures: met or MISSED, with the figures.

Each target is checked for every backend, size and connection count the run measured; a target whose
figures the run did not take (no Prism, one size only, no ``--memory``) is left out, not passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bench.runner import Measurement, Run

LIST_REFERENCE_SHARE = 0.70  # the list: at least 70% of the reference's req/s (and at least Prism's)
FINDING_FLOOR_SHARE = 0.15  # finding and details: at least 15% of the floor
THREE_FILTERS_AT_1M = 300  # list_3_filters at 1M findings, req/s
LARGE = 1_000_000
MSP_SHARE = 0.50  # msp_all: at least half the single-account list's req/s
P99_GROWTH = 1.5  # p99 at the largest size over p99 at the smallest
P99_OPERATIONS = ("list", "list_3_filters", "msp_all")
TOKENS_PER_SECOND = 800
COMMENTS_PER_SECOND_POSTGRES = 300
MEMORY_GROWTH = 1.10


@dataclass(frozen=True)
class Verdict:
    target: str
    backend: str
    findings: str
    connections: str
    figure: str
    met: bool


def _one_worker(run: Run) -> list[Measurement]:
    return [m for m in run.measurements if m.workers == 1]


def _find(run: Run, m: Measurement, operation: str) -> Measurement | None:
    return next((o for o in _one_worker(run) if o.operation == operation and o.backend == m.backend
                 and o.findings == m.findings and o.connections == m.connections), None)


def _verdict(target: str, m: Measurement, figure: str, met: bool) -> Verdict:
    return Verdict(target, m.backend, f"{m.findings:,}", str(m.connections), figure, met)


def _per_measurement(run: Run) -> Iterator[Verdict]:
    for m in _one_worker(run):
        rps = m.result.rps
        if m.operation == "list" and m.prism:
            yield _verdict("list >= Prism's req/s", m, f"{rps:,.0f} / {m.prism.rps:,.0f} req/s", rps >= m.prism.rps)
        if m.operation == "list" and m.reference and m.reference_ratio is not None:
            yield _verdict(f"list >= {LIST_REFERENCE_SHARE:.0%} of the reference", m,
                           f"{m.reference_ratio:.1%} ({rps:,.0f} / {m.reference.rps:,.0f})",
                           m.reference_ratio >= LIST_REFERENCE_SHARE)
        if m.operation in ("finding", "details") and m.ratio is not None:
            yield _verdict(f"{m.operation} >= {FINDING_FLOOR_SHARE:.0%} of the floor", m, f"{m.ratio:.1%}",
                           m.ratio >= FINDING_FLOOR_SHARE)
        if m.operation == "list_3_filters" and m.findings >= LARGE:
            yield _verdict(f"list_3_filters at 1M >= {THREE_FILTERS_AT_1M} req/s", m, f"{rps:,.0f} req/s",
                           rps >= THREE_FILTERS_AT_1M)
        single = _find(run, m, "list") if m.operation == "msp_all" else None
        if single and single.result.rps:
            share = rps / single.result.rps
            yield _verdict(f"msp_all >= {MSP_SHARE:.0%} of the list", m,
                           f"{share:.1%} ({rps:,.0f} / {single.result.rps:,.0f})", share >= MSP_SHARE)
        if m.operation == "token":
            yield _verdict(f"token >= {TOKENS_PER_SECOND}/s", m, f"{rps:,.0f}/s", rps >= TOKENS_PER_SECOND)
        if m.operation == "comment" and m.backend == "postgres":
            yield _verdict(f"comment >= {COMMENTS_PER_SECOND_POSTGRES}/s on PostgreSQL", m, f"{rps:,.0f}/s",
                           rps >= COMMENTS_PER_SECOND_POSTGRES)


def _growth(run: Run) -> Iterator[Verdict]:
    """p99 at the largest size over the smallest, per backend, operation and connection count."""
    groups: dict[tuple[str, str, int], list[Measurement]] = {}
    for m in _one_worker(run):
        if m.operation in P99_OPERATIONS:
            groups.setdefault((m.backend, m.operation, m.connections), []).append(m)
    for (backend, operation, connections), rows in groups.items():
        rows.sort(key=lambda m: m.findings)
        small, large = rows[0], rows[-1]
        if small.findings == large.findings or not small.result.p99_ms:
            continue
        growth = large.result.p99_ms / small.result.p99_ms
        yield Verdict(f"{operation} p99 within {P99_GROWTH}x across sizes", backend,
                      f"{large.findings:,} / {small.findings:,}", str(connections),
                      f"{growth:.2f}x ({large.result.p99_ms:.1f} / {small.result.p99_ms:.1f} ms)", growth <= P99_GROWTH)


def _memory(run: Run) -> Iterator[Verdict]:
    for result in run.memory:
        growth = result.growth
        if growth is None:
            continue
        first, last = result.checkpoints[0], result.checkpoints[-1]
        yield Verdict(f"RSS after {last.requests:,} list requests within {MEMORY_GROWTH - 1:.0%} of after "
                      f"{first.requests:,}", result.backend, f"{result.findings:,}", str(result.connections),
                      f"{growth:.3f}x ({first.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MiB)",
                      growth <= MEMORY_GROWTH)


def verdicts(run: Run) -> list[Verdict]:
    return [*_per_measurement(run), *_growth(run), *_memory(run)]


def table(run: Run) -> list[str]:
    found = verdicts(run)
    if not found:
        return ["(no target's figures were taken in this run)"]
    lines = ["| target | backend | findings | conns | figure | verdict |", "|---|---|---:|---:|---|---|"]
    for v in found:
        lines.append(f"| {v.target} | {v.backend} | {v.findings} | {v.connections} | {v.figure} "
                     f"| {'met' if v.met else '**MISSED**'} |")
    met = sum(v.met for v in found)
    lines += ["", f"{met} of {len(found)} met."]
    return lines
