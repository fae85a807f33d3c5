"""The operations measured, as wrk requests built from a dataset and its tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from bench.dataset import Dataset
from bench.wrk import Request

API = "/public-api/v1"
LIST = f"{API}/org/findings?page_size=50"
# Three filters an analyst combines: resolved, P1-P3, not blocked. Deliberately broad (most rows
# match), so the count and the page both walk a large part of the organization's findings.
THREE_FILTERS = "status=40&priority.in=1,2,3&blocked=false"
# A partial, case-insensitive match on the name, run by RE2 (SQLite) or PostgreSQL's regex engine.
NAME_REGEX = "(?i)kerberos|sign-in"


@dataclass(frozen=True)
class Tokens:
    org: str
    msp: str


@dataclass(frozen=True)
class Operation:
    name: str
    description: str
    build: Callable[[Dataset, Tokens], Request]
    expected_status: int = 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _get(path: str, token: Callable[[Tokens], str]) -> Callable[[Dataset, Tokens], Request]:
    def build(dataset: Dataset, tokens: Tokens) -> Request:
        return Request("GET", path.format(finding=dataset.finding_id, account=dataset.org_id), _bearer(token(tokens)))

    return build


def _token_request(dataset: Dataset, _tokens: Tokens) -> Request:
    body = {
        "grant_type": "client_credentials",
        "client_id": dataset.token_pair.client_id,
        "client_secret": dataset.token_pair.client_secret,
        "audience": "public-api",
    }
    return Request("POST", "/oauth/token", {"Content-Type": "application/json"}, json.dumps(body))


def _comment_request(dataset: Dataset, tokens: Tokens) -> Request:
    body = {"body": "<p>Checked the host; benign scheduled task.</p>", "sender": str(dataset.sender_id)}
    headers = {**_bearer(tokens.org), "Content-Type": "application/json"}
    return Request("POST", f"{API}/org/findings/{dataset.finding_id}/comments", headers, json.dumps(body))


def _org(tokens: Tokens) -> str:
    return tokens.org


def _msp(tokens: Tokens) -> str:
    return tokens.msp


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("token", "POST /oauth/token (JSON, client credentials)", _token_request),
        Operation("list", "GET /org/findings?page_size=50", _get(LIST, _org)),
        Operation("list_3_filters", f"GET /org/findings, 50, {THREE_FILTERS}", _get(f"{LIST}&{THREE_FILTERS}", _org)),
        Operation("list_regex", f"GET /org/findings, 50, name.regex={NAME_REGEX}",
                  _get(f"{LIST}&name.regex={quote(NAME_REGEX, safe='')}", _org)),
        Operation("finding", "GET /org/findings/{id}", _get(f"{API}/org/findings/{{finding}}", _org)),
        Operation("details", "GET /org/findings/{id}/details", _get(f"{API}/org/findings/{{finding}}/details", _org)),
        Operation("comment", "POST /org/findings/{id}/comments", _comment_request, expected_status=201),
        Operation("msp_all", "GET /msp/accounts/findings?page_size=50 (MSP key)",
                  _get(f"{API}/msp/accounts/findings?page_size=50", _msp)),
        # What an MSP's dashboard opens: an account's finding (the details shape), the API's 36th route.
        Operation("msp_finding", "GET /msp/accounts/{account}/findings/{id} (MSP key)",
                  _get(f"{API}/msp/accounts/{{account}}/findings/{{finding}}", _msp)),
    )
}
# What a run with several workers measures (the rest is measured on one worker).
MULTI_WORKER_OPERATIONS = ("token", "list")
# What the peers (the reference and Prism) serve too, measured beside OpenMira on one worker.
PEER_OPERATIONS = ("list", "finding")
