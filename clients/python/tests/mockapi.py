"""A scripted fake of the API for ``httpx.MockTransport``: tokens on /oauth/token, queued answers elsewhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

BASE = "http://api.test/public-api/v1"
TOKEN_URL = "http://auth.test/oauth/token"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def page(items: list[Any], page: int, total_pages: int, next_link: str | None) -> httpx.Response:
    return httpx.Response(200, json={
        "status": "OK", "data": items,
        "meta": {"page": page, "page_size": len(items), "total_items": 99, "total_pages": total_pages},
        "links": {"self": "/x", "next": next_link, "prev": None},
    })


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": httpx.codes.get_reason_phrase(status), "status": status,
            "detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json", **(headers or {})})


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"status": "OK", "data": data})


class FakeApi:
    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.tokens_issued = 0
        self.token_answers: list[Answer] = []
        self.answers: list[Answer] = []
        self.requests: list[httpx.Request] = []  # API requests only
        self.token_requests: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_requests.append(parse_qs(request.content.decode()))
            if self.token_answers:
                return self._play(self.token_answers.pop(0), request)
            self.tokens_issued += 1
            return httpx.Response(200, json={"access_token": f"token-{self.tokens_issued}", "token_type": "Bearer",
                                             "scope": "rw", "expires_in": self.expires_in})
        self.requests.append(request)
        assert self.answers, f"unexpected request {request.method} {request.url}"
        return self._play(self.answers.pop(0), request)

    @staticmethod
    def _play(answer: Answer, request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def bearer(self, index: int) -> str:
        return self.requests[index].headers["authorization"]

    def body(self, index: int) -> Any:
        return json.loads(self.requests[index].content)


FINDING = {
    "finding_id": "6f1c1b1e-9d0a-4a57-9a39-2f1f4b0c8e11", "short_id": "AB-1", "name": "Login from a new country",
    "analysis": "", "status": 10, "status_name": "Open", "priority": 2, "type": 10, "type_name": "Threat",
    "category": 1, "blocked": False, "resolution": None, "resolution_name": None,
    "org_id": "0b7c7ef6-4b0c-4ad5-8e0f-3b2b8a3b0a01", "org_name": "Acme", "created": "2026-01-01T00:00:00.000000Z",
    "modified": "2026-01-01T00:00:00.000000Z", "status_modified": None, "matched": None, "modified_by": None,
    "status_modified_by": None,
}


def finding(n: int) -> dict[str, Any]:
    return {**FINDING, "short_id": f"AB-{n}"}
