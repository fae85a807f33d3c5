"""The token flow (RFC 6749 client credentials, contract section 2) and bearer authentication (section 3)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from openmira.conformance.probe import Probe
from openmira.conformance.report import Report, expect

AREA = "token"


def _jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


def _json(response: httpx.Response) -> dict[str, Any]:
    expect(response.headers.get("content-type", "").split(";")[0].strip().endswith("json"),
           f"{response.status_code} answer is not JSON: content-type {response.headers.get('content-type')!r}")
    body = response.json()
    expect(isinstance(body, dict), "the body is not a JSON object")
    return body  # type: ignore[no-any-return]


def run(probe: Probe, report: Report) -> None:
    with report.check(AREA, "form-encoded client-credentials request returns a bearer token"):
        response = probe.token_request(form=True)
        expect(response.status_code == 200, f"status {response.status_code}: {response.text[:200]}")
        body = _json(response)
        expect(str(body.get("token_type", "")).lower() == "bearer", f"token_type {body.get('token_type')!r}")
        expect(isinstance(body.get("expires_in"), int) and body["expires_in"] > 0,
               f"expires_in {body.get('expires_in')!r}")
        expect(body.get("scope") in ("rw", "ro"), f"scope {body.get('scope')!r}, expected rw or ro")
        expect("no-store" in response.headers.get("cache-control", ""), "no Cache-Control: no-store")
    with report.check(AREA, "JSON client-credentials request returns a bearer token"):
        response = probe.token_request(form=False)
        expect(response.status_code == 200, f"status {response.status_code}: {response.text[:200]}")
    with report.check(AREA, "the access token is an RS256 JWT with the observed claims"):
        header, claims = _jwt_part(probe.token, 0), _jwt_part(probe.token, 1)
        expect(header.get("alg") == "RS256" and "kid" in header, f"JWT header {header}")
        missing = {"org", "iss", "sub", "aud", "iat", "exp", "scope", "azp"} - set(claims)
        expect(not missing, f"claims missing: {sorted(missing)}")
        expect(claims.get("azp") == probe.client_id, "azp is not the client ID")
    with report.check(AREA, "a wrong secret is invalid_client (401) with WWW-Authenticate"):
        response = probe.token_request(client_secret="not-the-secret")
        expect(response.status_code == 401, f"status {response.status_code}")
        expect(_json(response).get("error") == "invalid_client", f"body {response.text[:200]}")
        expect("www-authenticate" in response.headers, "no WWW-Authenticate header")
    with report.check(AREA, "another grant type is unsupported_grant_type (400)"):
        response = probe.token_request(grant_type="password")
        expect(response.status_code == 400, f"status {response.status_code}")
        expect(_json(response).get("error") == "unsupported_grant_type", f"body {response.text[:200]}")

    area = "auth"
    path = probe.findings_path
    with report.check(area, "no bearer token is 401 with a Bearer challenge"):
        response = probe.get(path, auth=False)
        expect(response.status_code == 401, f"status {response.status_code}")
        expect(response.headers.get("www-authenticate", "").lower().startswith("bearer"),
               f"WWW-Authenticate {response.headers.get('www-authenticate')!r}")
    with report.check(area, "a malformed bearer token is 401"):
        response = probe.get(path, auth="not.a.token")
        expect(response.status_code == 401, f"status {response.status_code}")
    with report.check(area, "the other tenant kind's prefix is 403"):
        other = "/org/findings" if probe.msp else "/msp/accounts"
        response = probe.get(other)
        # An MSP key on /org is 403 or served for the MSP itself; an org key on /msp must be 403.
        expect(response.status_code == 403 or (probe.msp and response.status_code == 200),
               f"status {response.status_code} on {other}")
