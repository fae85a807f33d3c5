"""Run every check and render the report."""

from __future__ import annotations

import httpx
from rich.console import Console
from rich.table import Table

from openmira.conformance import checks_auth, checks_errors, checks_filters, checks_lists
from openmira.conformance.probe import Probe
from openmira.conformance.report import Report, Result


def run_checks(probe: Probe) -> Report:
    report = Report()
    checks_auth.run(probe, report)
    try:
        probe.token  # noqa: B018 - every check below needs it
    except httpx.HTTPError as exc:
        report.results.append(Result("token", "a token for the API checks", "fail", str(exc)))
        return report
    universe, complete = checks_lists.run(probe, report)
    checks_filters.run(probe, report, universe, complete)
    checks_errors.run(probe, report)
    return report


def render(report: Report, console: Console, *, only_differences: bool = False) -> None:
    table = Table("area", "check", "result", "what differs", show_lines=False)
    style = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]", "skip": "[yellow]skip[/yellow]"}
    for r in report.results:
        if only_differences and r.outcome == "pass":
            continue
        table.add_row(r.area, r.name, style[r.outcome], r.detail)
    console.print(table)
    counts = {k: sum(1 for r in report.results if r.outcome == k) for k in ("pass", "fail", "skip")}
    console.print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
