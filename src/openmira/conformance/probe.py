"""The HTTP side of the conformance checks: one key pair, a cached token, and politeness with the rate
limit (a 429 is waited out as its Retry-After says, so a check never fails because it was too quick)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

MAX_RATE_LIMIT_WAITS = 10


class Probe:
    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str, *, msp: bool,
                 audience: str = "public-api", timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.audience = audience
        self.msp = msp
        self.http = httpx.Client(timeout=timeout, transport=transport)
        self.requests = 0
        self._token: str | None = None

    def __repr__(self) -> str:  # never the secret
        return f"Probe(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self.http.close()

    def token_request(self, *, form: bool = True, **overrides: str) -> httpx.Response:
        body = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret,
                "audience": self.audience, **overrides}
        self.requests += 1
        return self.http.post(self.token_url, data=body) if form else self.http.post(self.token_url, json=body)

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.token_request()
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def url(self, path: str) -> str:
        # ``links`` values are absolute paths that already hold the API prefix.
        if path.startswith(httpx.URL(self.base_url).path + "/"):
            return str(httpx.URL(self.base_url).join(path))
        return self.base_url + path

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, auth: bool | str = True) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token if auth is True else auth}"
        for _ in range(MAX_RATE_LIMIT_WAITS):
            self.requests += 1
            response = self.http.get(self.url(path), params=params, headers=headers)
            if response.status_code != 429:
                return response
            time.sleep(min(float(response.headers.get("retry-after", "1") or 1), 30.0))
        return response

    @property
    def findings_path(self) -> str:
        return "/msp/accounts/findings" if self.msp else "/org/findings"
