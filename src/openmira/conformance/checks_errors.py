"""Errors as RFC 7807 problem documents, JSON everywhere, and the rate-limit headers (contract section 3)."""

from __future__ import annotations

import uuid

import httpx

from openmira.conformance.probe import Probe
from openmira.conformance.report import Report, Skipped, expect

AREA = "errors"


def _problem(response: httpx.Response, status: int) -> None:
    expect(response.status_code == status, f"status {response.status_code}, expected {status}")
    kind = response.headers.get("content-type", "")
    expect(kind.startswith("application/problem+json"), f"content-type {kind!r}, expected application/problem+json")
    body = response.json()
    missing = {"type", "title", "status", "detail"} - set(body)
    expect(not missing and body["status"] == status, f"problem document {body}")


def run(probe: Probe, report: Report) -> None:
    path = probe.findings_path
    single = "/msp/accounts/{account}/findings/{id}" if probe.msp else "/org/findings/{id}"
    account = None
    if probe.msp:
        accounts = probe.get("/msp/accounts", {"page_size": 1}).json().get("data") or [{}]
        account = accounts[0].get("account_id")
    with report.check(AREA, "an unknown finding ID is 404 with a problem document"):
        if probe.msp and account is None:
            raise Skipped("the MSP has no sub-accounts")
        _problem(probe.get(single.format(account=account, id=uuid.uuid4())), 404)
    with report.check(AREA, "a malformed ID is 400"):
        if probe.msp and account is None:
            raise Skipped("the MSP has no sub-accounts")
        _problem(probe.get(single.format(account=account, id="not-a-uuid")), 400)
    with report.check(AREA, "page=0 is 400"):
        _problem(probe.get(path, {"page": "0"}), 400)
    with report.check(AREA, "page_size above 200 is 400"):
        _problem(probe.get(path, {"page_size": "201"}), 400)
    with report.check(AREA, "an unknown sort field is 400"):
        _problem(probe.get(path, {"order_by": "no_such_field;asc"}), 400)
    with report.check(AREA, "an unknown operator on a known field is 400"):
        _problem(probe.get(path, {"status.like": "10"}), 400)
    with report.check(AREA, "a bad filter value is 400"):
        _problem(probe.get(path, {"priority": "urgent"}), 400)
    with report.check(AREA, "a 401 is a problem document too"):
        _problem(probe.get(path, auth=False), 401)

    with report.check("rate-limit", "responses carry X-RateLimit-Limit, -Remaining and -Reset"):
        response = probe.get(path, {"page_size": 1})
        missing = [h for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
                   if h not in response.headers]
        expect(not missing, f"missing {missing}")
        limit = int(response.headers["x-ratelimit-limit"])
        expected = 100 if probe.msp else 10
        expect(limit >= 1, f"X-RateLimit-Limit {limit}")
        if limit != expected:
            raise Skipped(f"X-RateLimit-Limit is {limit} (Blumira's is {expected}); a deployment may set its own")
    if probe.msp:
        with report.check("msp", "GET /msp/accounts/{id} answers the account detail"):
            if account is None:
                raise Skipped("the MSP has no sub-accounts")
            body = probe.get(f"/msp/accounts/{account}").json()
            missing = {"account_id", "name", "open_findings", "license", "agent_count_available",
                       "agent_count_used", "user_count"} - set(body.get("data", {}))
            expect(body.get("status") == "OK" and not missing, f"missing {sorted(missing)}")
        with report.check("msp", "another MSP's (or no) account ID is 404"):
            _problem(probe.get(f"/msp/accounts/{uuid.uuid4()}/findings"), 404)
