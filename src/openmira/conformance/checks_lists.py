"""Envelopes, the paging walk, pages past the end, empty results and ordering (contract section 4)."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from openmira.conformance.probe import Probe
from openmira.conformance.report import Report, Skipped, expect

AREA = "paging"
MAX_WALK_PAGES = 25
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def check_list_envelope(body: Any, page: int, page_size: int | None = None) -> None:
    expect(isinstance(body, dict) and body.get("status") == "OK", f"status is not OK: {str(body)[:200]}")
    expect(isinstance(body.get("data"), list), "data is not a list")
    meta, links = body.get("meta"), body.get("links")
    expect(isinstance(meta, dict) and {"page", "page_size", "total_items", "total_pages"} <= set(meta),
           f"meta {meta}")
    expect(isinstance(links, dict) and {"self", "next", "prev"} <= set(links), f"links {links}")
    expect(meta["page"] == page, f"meta.page {meta['page']}, expected {page}")
    if page_size is not None:
        expect(meta["page_size"] == page_size, f"meta.page_size {meta['page_size']}, expected {page_size}")
    expected_pages = math.ceil(meta["total_items"] / meta["page_size"]) if meta["page_size"] else 0
    expect(meta["total_pages"] == expected_pages,
           f"total_pages {meta['total_pages']} for {meta['total_items']} items of {meta['page_size']}")
    expect((links["prev"] is None) == (page <= 1), f"links.prev {links['prev']!r} on page {page}")
    expect((links["next"] is None) == (page >= meta["total_pages"]),
           f"links.next {links['next']!r} on page {page} of {meta['total_pages']}")
    expect(len(body["data"]) <= meta["page_size"], "more items than page_size")


def walk(probe: Probe, path: str, params: dict[str, Any], page_size: int) -> tuple[list[dict[str, Any]], bool]:
    """Every item, following links.next; ``complete`` is False when the walk stopped at MAX_WALK_PAGES."""
    response = probe.get(path, {**params, "page_size": page_size})
    expect(response.status_code == 200, f"status {response.status_code}: {response.text[:200]}")
    body = response.json()
    check_list_envelope(body, 1, page_size)
    items, page = list(body["data"]), 1
    while body["links"]["next"] is not None:
        if page >= MAX_WALK_PAGES:
            return items, False
        page += 1
        response = probe.get(body["links"]["next"])
        expect(response.status_code == 200, f"page {page}: status {response.status_code}")
        body = response.json()
        check_list_envelope(body, page, page_size)
        items.extend(body["data"])
    return items, True


def run(probe: Probe, report: Report) -> tuple[list[dict[str, Any]], bool]:
    path = probe.findings_path
    universe: list[dict[str, Any]] = []
    complete = False
    with report.check("meta", "GET /health answers an envelope without a token"):
        response = probe.get("/health", auth=False)
        expect(response.status_code == 200, f"status {response.status_code}")
        expect(response.json().get("status") == "OK" and isinstance(response.json().get("data"), dict),
               f"body {response.text[:200]}")
    with report.check("meta", "GET /resolutions lists 10, 20, 30 and 40"):
        response = probe.get("/resolutions")
        expect(response.status_code == 200, f"status {response.status_code}")
        ids = sorted(r.get("id") for r in response.json().get("data", []))
        expect(ids == [10, 20, 30, 40], f"resolution ids {ids}")
    with report.check(AREA, f"GET {path} is a list envelope with exact meta and links"):
        response = probe.get(path)
        expect(response.status_code == 200, f"status {response.status_code}: {response.text[:200]}")
        check_list_envelope(response.json(), 1, 50)
    with report.check(AREA, "walking links.next visits every item once, in total_items"):
        first = probe.get(path, {"page_size": 1}).json()
        total = first["meta"]["total_items"]
        if total == 0:
            raise Skipped("the key pair's tenant has no findings")
        page_size = max(1, min(200, math.ceil(total / 8)))
        universe, complete = walk(probe, path, {"order_by": "created;desc"}, page_size)
        ids = [f["finding_id"] for f in universe]
        expect(len(ids) == len(set(ids)), "an item appeared on two pages")
        if complete:
            expect(len(ids) == total, f"walked {len(ids)} items, total_items says {total}")
    with report.check(AREA, "a page past the end is empty with correct meta"):
        first = probe.get(path, {"page_size": 50}).json()
        beyond = first["meta"]["total_pages"] + 1
        response = probe.get(path, {"page_size": 50, "page": beyond})
        expect(response.status_code == 200, f"status {response.status_code}")
        body = response.json()
        expect(body["data"] == [] and body["meta"]["total_items"] == first["meta"]["total_items"],
               f"page {beyond}: {len(body['data'])} items, meta {body['meta']}")
        expect(body["links"]["next"] is None, "links.next is not null past the end")
    with report.check(AREA, "an empty result is data [], total_items 0, total_pages 0"):
        response = probe.get(path, {"name": f"no such finding {uuid.uuid4()}"})
        expect(response.status_code == 200, f"status {response.status_code}")
        body = response.json()
        expect(body["data"] == [] and body["meta"]["total_items"] == 0 and body["meta"]["total_pages"] == 0,
               f"meta {body['meta']}")
        expect(body["links"]["next"] is None and body["links"]["prev"] is None, f"links {body['links']}")
    with report.check(AREA, "limit without page_size is the page size"):
        body = probe.get(path, {"limit": 3}).json()
        expect(body["meta"]["page_size"] == 3 and len(body["data"]) <= 3, f"meta {body['meta']}")
    with report.check(AREA, "the default order is created;desc"):
        created = [f["created"] for f in probe.get(path, {"page_size": 200}).json()["data"]]
        expect(created == sorted(created, reverse=True), "page 1 is not newest first")
    with report.check(AREA, "order_by=priority;asc,created;desc sorts by both"):
        data = probe.get(path, {"page_size": 200, "order_by": "priority;asc,created;desc"}).json()["data"]
        keys = [(f["priority"], _neg(f["created"])) for f in data]
        expect(keys == sorted(keys), "items are not in priority, then newest-first order")
    with report.check("format", "timestamps have one fixed shape (YYYY-MM-DDTHH:MM:SS.ffffffZ)"):
        if not universe:
            raise Skipped("no findings")
        bad = [f[k] for f in universe[:200] for k in ("created", "modified") if not TIMESTAMP.match(str(f[k]))]
        expect(not bad, f"e.g. {bad[:3]}")
    with report.check("format", "findings carry every observed field"):
        if not universe:
            raise Skipped("no findings")
        fields = {"finding_id", "short_id", "name", "status", "status_name", "priority", "type", "type_name",
                  "category", "blocked", "resolution", "resolution_name", "org_id", "org_name", "created",
                  "modified"}
        missing = fields - set(universe[0])
        expect(not missing, f"missing {sorted(missing)}")
    return universe, complete


def _neg(timestamp: str) -> tuple[int, ...]:
    # Newest first within a priority: compare the negated code points of the fixed-shape timestamp.
    return tuple(-ord(c) for c in timestamp)
