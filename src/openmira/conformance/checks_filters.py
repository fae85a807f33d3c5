"""Finding filters (contract section 5) against a client-side oracle.

The oracle is the set of findings the paging walk collected. For each case the server's answer must hold only
findings that satisfy the predicate (soundness) and, when the walk saw every finding, all of them
(completeness). Cases are derived from the data, so they select something on any tenant.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from openmira.conformance.checks_lists import walk
from openmira.conformance.probe import Probe
from openmira.conformance.report import Report, Skipped, expect

AREA = "filters"
Finding = dict[str, Any]
Case = tuple[str, dict[str, str], Callable[[Finding], bool]]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _word(findings: list[Finding]) -> str | None:
    """An ASCII word of 4+ letters from a name, as a substring needle (ASCII: case folding is unambiguous)."""
    for f in findings:
        for word in re.findall(r"[A-Za-z]{4,}", f["name"]):
            return word[1:4].lower()
    return None


def cases(universe: list[Finding]) -> list[Case]:
    if not universe:
        return []
    first = universe[0]
    types = sorted({f["type"] for f in universe})
    median = statistics.median_low([f["created"] for f in universe])
    m = _when(median)
    out: list[Case] = [
        ("status=10", {"status": "10"}, lambda f: f["status"] == 10),
        ("status.!eq=40", {"status.!eq": "40"}, lambda f: f["status"] != 40),
        ("priority.in=1,2", {"priority.in": "1,2"}, lambda f: f["priority"] in (1, 2)),
        ("priority.lt=3", {"priority.lt": "3"}, lambda f: f["priority"] < 3),
        ("priority.!lt=3 (not less than)", {"priority.!lt": "3"}, lambda f: f["priority"] >= 3),
        ("priority.!gt=2 (not greater than)", {"priority.!gt": "2"}, lambda f: f["priority"] <= 2),
        (f"type.!in={types[0]}", {"type.!in": str(types[0])}, lambda f: f["type"] != types[0]),
        ("type.in (two types)", {"type.in": ",".join(map(str, types[:2]))}, lambda f: f["type"] in types[:2]),
        ("blocked=false", {"blocked": "false"}, lambda f: f["blocked"] is False),
        ("resolution.in=20,30", {"resolution.in": "20,30"}, lambda f: f["resolution"] in (20, 30)),
        ("resolution.!eq=10 (nulls included)", {"resolution.!eq": "10"}, lambda f: f["resolution"] != 10),
        ("name=<exact name>", {"name": first["name"]}, lambda f: f["name"] == first["name"]),
        ("created.gt=<median>", {"created.gt": median}, lambda f: _when(f["created"]) > m),
        ("created.!gt=<median>", {"created.!gt": median}, lambda f: _when(f["created"]) <= m),
        ("created_after=<median> (exclusive)", {"created_after": median}, lambda f: _when(f["created"]) > m),
        ("created_before=<median> (exclusive)", {"created_before": median}, lambda f: _when(f["created"]) < m),
        ("status=40 and priority.in=3,4", {"status": "40", "priority.in": "3,4"},
         lambda f: f["status"] == 40 and f["priority"] in (3, 4)),
    ]
    needle = _word(universe)
    if needle:
        out += [
            (f"name.contains={needle} (case-insensitive)", {"name.contains": needle.upper()},
             lambda f: needle in f["name"].lower()),
            (f"name.!contains={needle}", {"name.!contains": needle}, lambda f: needle not in f["name"].lower()),
        ]
    head = re.escape(first["name"].split(" ")[0])
    out.append((f"name.regex=^{head}", {"name.regex": f"^{head}"}, lambda f: re.search(f"^{head}", f["name"])
                is not None))
    return out


def run(probe: Probe, report: Report, universe: list[Finding], complete: bool) -> None:
    path = probe.findings_path
    if not universe:
        with report.check(AREA, "filters against a client-side oracle"):
            raise Skipped("no findings to filter")
        return
    for name, params, predicate in cases(universe):
        with report.check(AREA, name):
            got, got_all = walk(probe, path, params, 200)
            wrong = [f["finding_id"] for f in got if not predicate(f)]
            expect(not wrong, f"{len(wrong)} returned findings do not match, e.g. {wrong[:2]}")
            if complete and got_all:
                expected = {f["finding_id"] for f in universe if predicate(f)}
                missing = expected - {f["finding_id"] for f in got}
                expect(not missing, f"{len(missing)} matching findings missing, e.g. {sorted(missing)[:2]}")
    with report.check(AREA, "an unknown query parameter is ignored"):
        response = probe.get(path, {"page_size": 1, "account_id": str(uuid.uuid4())})
        expect(response.status_code == 200, f"status {response.status_code}")
