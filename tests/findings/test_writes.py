"""Details, comments, resolve, assign and evidence: happy paths and bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.findings.conftest import EVIDENCE, Seeded, snapshot
from tests.helpers import API, Tenant, assert_problem


def _url(seeded: Seeded, suffix: str = "") -> str:
    return f"{API}/org/findings/{seeded.mine.id}{suffix}"


def _recent(stamp: str) -> bool:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return abs(datetime.now(UTC) - when) < timedelta(minutes=1)


def test_finding_and_details(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    body = client.get(_url(seeded), headers=tenant.rw.headers).json()
    assert body["status"] == "OK"
    f = body["data"]
    assert f["finding_id"] == str(seeded.mine.id) and f["name"] == "Possible Ransomware Activity"
    assert f["status_name"] == "Open" and f["type_name"] == "Threat" and f["priority"] == 1
    assert f["org_id"] == str(tenant.org_id) and f["org_name"] == tenant.name
    assert f["resolution"] is None and f["resolution_name"] is None and f["modified_by"] is None
    assert f["created"].endswith("Z")
    details = client.get(_url(seeded, "/details"), headers=tenant.rw.headers).json()["data"]
    assert details["url"] == f"http://testserver/console/orgs/{tenant.org_id}/findings/{seeded.mine.id}"
    assert details["summary"] == "Files renamed at a high rate" and details["category_name"] == "Ransomware"
    assert details["jurisdiction_name"] == "Endpoint" and details["resolution_notes"] is None
    assert [p["id"] for p in details["owners"]["managers"]] == [str(tenant.admin_id)]
    assert details["owners"]["responders"] == [] and details["owners"]["analysts"] == []
    assert set(details["owners"]["managers"][0]) == {"id", "email", "first_name", "last_name"}


def test_resolve(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    response = client.post(_url(seeded, "/resolve"), json={"resolution": 20, "resolution_notes": "Admin's backup job"},
                           headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "OK"
    d = body["data"]
    assert d["status"] == 40 and d["status_name"] == "Resolved"
    assert d["resolution"] == 20 and d["resolution_name"] == "False Positive"
    assert d["resolution_notes"] == "Admin's backup job"
    # Attributed to the person who created the key pair (the tenant's administrator).
    assert d["status_modified_by"]["id"] == str(tenant.admin_id) and d["modified_by"]["id"] == str(tenant.admin_id)
    assert d["status_modified_by"]["email"].startswith("admin-")
    assert _recent(d["status_modified"]) and _recent(d["modified"])
    again = client.get(_url(seeded), headers=tenant.rw.headers).json()["data"]
    assert again["status"] == 40 and again["resolution"] == 20
    listed = client.get(f"{API}/org/findings", params={"status": 40, "status_modified_by": str(tenant.admin_id)},
                        headers=tenant.rw.headers).json()
    assert [f["finding_id"] for f in listed["data"]] == [str(seeded.mine.id)]


def test_assign_replaces_one_owner_type_and_empty_clears(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    owners = [str(tenant.analyst_id), str(tenant.admin_id), str(tenant.analyst_id)]
    response = client.post(_url(seeded, "/assign"), json={"owner_type": "responder", "owners": owners},
                           headers=tenant.rw.headers)
    assert response.status_code == 200, response.text
    d = response.json()["data"]
    assert [p["id"] for p in d["owners"]["responders"]] == [str(tenant.analyst_id), str(tenant.admin_id)]
    assert [p["id"] for p in d["owners"]["managers"]] == [str(tenant.admin_id)]  # untouched
    assert d["modified_by"]["id"] == str(tenant.admin_id) and _recent(d["modified"])
    response = client.post(_url(seeded, "/assign"), json={"owner_type": "manager", "owners": []},
                           headers=tenant.rw.headers)
    d = response.json()["data"]
    assert d["owners"]["managers"] == [] and len(d["owners"]["responders"]) == 2
    details = client.get(_url(seeded, "/details"), headers=tenant.rw.headers).json()["data"]
    assert details["owners"] == d["owners"]


def test_comments(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    html = '<p onclick="alert(1)">Isolated the host <script>alert("x")</script> &amp; reset creds</p>'
    response = client.post(_url(seeded, "/comments"), json={"body": html, "sender": str(tenant.admin_id)},
                           headers=tenant.rw.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "OK"
    c = body["data"]
    assert c["body"] == html and c["sender"]["id"] == str(tenant.admin_id) and 0 <= c["age"] < 60
    assert set(c) == {"id", "subject", "body", "age", "sender"}
    listed = client.get(_url(seeded, "/comments"), headers=tenant.rw.headers).json()
    assert listed["meta"]["total_items"] == 2
    first, second = listed["data"]
    assert first["body"] == "<p>first</p>" and 3500 <= first["age"] <= 3700
    assert first["sender"]["id"] == str(tenant.analyst_id)
    assert second["id"] == c["id"] and second["body"] == html


def test_evidence(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    body = client.get(_url(seeded, "/evidence"), params={"page_size": 2}, headers=tenant.rw.headers).json()
    assert body["status"] == "OK"
    assert body["evidence_keys"] == ["timestamp", "src_ip", "client_ip_geoip.countrycode", "user", "action"]
    assert body["data"] == EVIDENCE[:2]
    assert body["meta"] == {"page": 1, "page_size": 2, "total_items": 3, "total_pages": 2}
    page2 = client.get(body["links"]["next"], headers=tenant.rw.headers).json()
    assert page2["data"] == EVIDENCE[2:] and page2["evidence_keys"] == body["evidence_keys"]


BAD_WRITES: list[tuple[str, Any, str]] = [
    ("resolve", {"resolution": 50}, "resolution"),
    ("resolve", {"resolution": 0}, "resolution"),
    ("resolve", {"resolution": "valid"}, "resolution"),
    ("resolve", {}, "resolution"),
    ("assign", {"owner_type": "Responder", "owners": []}, "owner_type"),
    ("assign", {"owner_type": "responders", "owners": []}, "owner_type"),
    ("assign", {"owner_type": "owner", "owners": []}, "owner_type"),
    ("assign", {"owner_type": "analyst", "owners": ["not-a-uuid"]}, "owners"),
    ("assign", {"owner_type": "analyst"}, "owners"),
    ("comments", {"body": "", "sender": "{analyst}"}, "body"),
    ("comments", {"body": "   ", "sender": "{analyst}"}, "body"),
    ("comments", {"sender": "{analyst}"}, "body"),
    ("comments", {"body": "hi"}, "sender"),
    ("comments", {"body": "hi", "sender": "nope"}, "sender"),
    ("comments", {"body": "hi", "sender": "{foreign}"}, "sender"),
    ("comments", {"body": "hi", "sender": "{random}"}, "sender"),
    ("assign", {"owner_type": "analyst", "owners": ["{analyst}", "{foreign}"]}, "owners"),
    ("assign", {"owner_type": "analyst", "owners": ["{random}"]}, "owners"),
    # PostgreSQL text cannot hold NUL: refused as input on both databases, never a 500.
    ("comments", {"body": "a\x00b", "sender": "{analyst}"}, "body"),
    ("comments", {"body": "hi", "subject": "\x00", "sender": "{analyst}"}, "subject"),
    ("resolve", {"resolution": 10, "resolution_notes": "done\x00"}, "resolution_notes"),
]


@pytest.mark.parametrize(("action", "body", "param"), BAD_WRITES)
def test_bad_write_is_a_400_naming_the_parameter_and_changes_nothing(
    client: TestClient, db: Session, tenant: Tenant, other_tenant: Tenant, seeded: Seeded,
    action: str, body: dict[str, Any], param: str,
) -> None:
    ids = {"{analyst}": str(tenant.analyst_id), "{foreign}": str(other_tenant.analyst_id),
           "{random}": str(uuid.uuid4())}

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    payload = {k: fill(v) for k, v in body.items()}
    before = snapshot(db, seeded.mine)
    response = client.post(_url(seeded, f"/{action}"), json=payload, headers=tenant.rw.headers)
    problem = assert_problem(response, 400, param)
    assert any(p["name"].split(".")[0] == param and p["in"] == "body" for p in problem["invalid_params"]), problem
    assert snapshot(db, seeded.mine) == before


@pytest.mark.parametrize("suffix", ["", "/details", "/comments", "/evidence"])
def test_bad_uuid_in_path_is_a_400(client: TestClient, tenant: Tenant, suffix: str) -> None:
    body = assert_problem(client.get(f"{API}/org/findings/not-a-uuid{suffix}", headers=tenant.rw.headers),
                          400, "finding_id")
    assert body["invalid_params"][0]["in"] == "path"


@pytest.mark.parametrize("action", ["resolve", "assign", "comments"])
def test_bad_uuid_in_path_is_a_400_on_writes(client: TestClient, tenant: Tenant, action: str) -> None:
    assert_problem(client.post(f"{API}/org/findings/123/{action}", json={}, headers=tenant.rw.headers),
                   400, "finding_id")


def test_bad_json_and_non_json_bodies(client: TestClient, tenant: Tenant, seeded: Seeded) -> None:
    response = client.post(_url(seeded, "/resolve"), content=b"{nope", headers={
        **tenant.rw.headers, "Content-Type": "application/json"})
    assert_problem(response, 400)
    response = client.post(_url(seeded, "/resolve"), content=b"resolution=10", headers={
        **tenant.rw.headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 415)
