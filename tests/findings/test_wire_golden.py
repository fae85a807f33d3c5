"""The findings responses byte for byte, against files recorded from a seeded database.

The hot path's serializers may be rewritten for speed, but nothing may change on the wire: the list (with
filters, orderings and pages), a finding, its details, and the MSP lists and finding are compared with
the exact bytes recorded in ``golden/``, on SQLite and on PostgreSQL. A deliberate change of the wire
format re-records them: ``OPENMIRA_WRITE_GOLDEN=1 ./dev test tests/findings/test_wire_golden.py``, and the
diff of ``golden/`` shows what changed for clients.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import Session

from openmira.core.envelope import Envelope, ListEnvelope
from openmira.demo.seed import org_identity, seed_orgs
from openmira.findings.models import Finding
from openmira.findings.schemas import FindingDetails, FindingOut
from openmira.orgs.models import Organization
from openmira.orgs.service import create_org
from tests.findings.factory import make_finding
from tests.helpers import API, WIRE_HEADERS, new_pair

GOLDEN = Path(__file__).parent / "golden"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 7
PER_ORG = 130
# Text a JSON encoder could get wrong: non-ASCII, quotes, backslashes, markup, control and separator characters.
TRICKY = 'Ünïcode “quoted” \\ back\\slash </script><b>&amp; tab\t line\u2028sep \x01 emoji 🛡️ "dq"'

ORG_REQUESTS = {
    "list_default": "/org/findings",
    "list_page_3_of_20": "/org/findings?page=3&page_size=20",
    "list_limit_7": "/org/findings?limit=7",
    "list_order_priority": "/org/findings?order_by=priority;asc,modified;desc&page_size=25",
    "list_order_name": "/org/findings?order_by=name&page=2&page_size=30",
    "list_3_filters": "/org/findings?status=40&priority.in=1,2,3&blocked=false",
    "list_resolution_in": "/org/findings?resolution.in=10,20&order_by=status_modified;desc",
    "list_open_p1": "/org/findings?status=10&priority=1",
    "list_name_contains": "/org/findings?name.contains=a&type.!in=10&page_size=10&page=2",
    "list_created_window": "/org/findings?created.gt=2025-11-15T00:00:00Z&created.lt=2025-12-15T00:00:00Z",
    "list_past_end": "/org/findings?page=99",
    "list_none": "/org/findings?name=no-such-finding",
    "list_tricky": "/org/findings?name.contains=%3C%2Fscript%3E",
    "finding_tricky": "/org/findings/{tricky}",
    "details_tricky": "/org/findings/{tricky}/details",
}
FINDING_SAMPLES = 4  # findings (and their details) picked from the first org's list
MSP_REQUESTS = {
    "msp_all_default": "/msp/accounts/findings",
    "msp_all_page_2": "/msp/accounts/findings?page=2&page_size=40&order_by=modified;desc",
    "msp_all_filtered": "/msp/accounts/findings?status=40&priority.in=1,2",
    "msp_account_list": "/msp/accounts/{account}/findings?page_size=15",
    "msp_account_finding": "/msp/accounts/{account}/findings/{finding}",
}


@pytest.fixture
def wire(db: Session, client: TestClient) -> dict[str, str]:
    """Two seeded organizations, sub-accounts of an MSP, plus one finding of tricky text; key pairs for both."""
    seed_orgs(db, orgs=2, findings=PER_ORG, seed=SEED, as_of=AS_OF)
    org_a = org_identity(SEED, 0)[1]
    org_b = org_identity(SEED, 1)[1]
    msp = create_org(db, "Golden MSP", msp=True)
    db.execute(update(Organization).where(Organization.id.in_([org_a, org_b])).values(parent_id=msp.id))
    rng = random.Random("golden-tricky")
    make_finding(
        db, org_a, id=uuid.UUID(int=rng.getrandbits(128)), short_id="TRICKY-1", name=TRICKY, analysis=TRICKY,
        summary=TRICKY, category_name=TRICKY, jurisdiction_name="Endpoint", resolution_notes=TRICKY,
        created=datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), modified=datetime(2025, 12, 31, 23, 59, 59, 5,
                                                                                  tzinfo=UTC),
    )
    db.commit()
    org_token = new_pair(db, client, org_a).token
    msp_token = new_pair(db, client, msp.id).token
    return {"org": org_token, "msp": msp_token, "account": str(org_b), "org_id": str(org_a)}


def _get(client: TestClient, token: str, path: str) -> bytes:
    response = client.get(API + path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == "application/json"
    # The headers too, names in their order (their values are the page's length, the budget and the request ID).
    assert [name for name, _ in response.headers.raw] == WIRE_HEADERS, path
    return response.content


def _responses(client: TestClient, wire: dict[str, str], db: Session) -> dict[str, bytes]:
    tricky = db.query(Finding.id).filter(Finding.short_id == "TRICKY-1").scalar()
    first_account_finding = (
        db.query(Finding.id).filter(Finding.org_id == uuid.UUID(wire["account"])).order_by(Finding.short_id).first()
    )
    assert tricky is not None and first_account_finding is not None
    fields = {"tricky": tricky, "account": wire["account"], "finding": first_account_finding[0]}
    out = {name: _get(client, wire["org"], path.format(**fields)) for name, path in ORG_REQUESTS.items()}
    listed = [f.id for f in db.query(Finding).filter(Finding.org_id == uuid.UUID(wire["org_id"]))
              .order_by(Finding.short_id).limit(FINDING_SAMPLES * 17)][::17]
    for i, finding_id in enumerate(listed):
        out[f"finding_{i}"] = _get(client, wire["org"], f"/org/findings/{finding_id}")
        out[f"details_{i}"] = _get(client, wire["org"], f"/org/findings/{finding_id}/details")
    out.update({name: _get(client, wire["msp"], path.format(**fields)) for name, path in MSP_REQUESTS.items()})
    return out


def _documented_model(name: str) -> type[BaseModel]:
    """The response model the OpenAPI document gives for the request recorded as ``name``."""
    if name.startswith(("details", "msp_account_finding")):  # the MSP's finding is the details shape
        return Envelope[FindingDetails]
    if name.startswith("finding"):
        return Envelope[FindingOut]
    return ListEnvelope[FindingOut]


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_recorded_responses_are_exactly_what_the_documented_schemas_give(name: str) -> None:
    """The handlers encode rows themselves; the schemas in the OpenAPI document must still describe every
    byte: validated by the documented model and dumped as FastAPI dumps a model, a response is unchanged."""
    body = (GOLDEN / f"{name}.json").read_bytes()
    model = _documented_model(name).model_validate_json(body)
    dumped = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert dumped.encode() == body


def test_findings_responses_are_byte_identical_to_the_recorded_ones(
    client: TestClient, wire: dict[str, str], db: Session
) -> None:
    responses = _responses(client, wire, db)
    if os.environ.get("OPENMIRA_WRITE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for name, body in responses.items():
            (GOLDEN / f"{name}.json").write_bytes(body)
        pytest.skip("golden files written")
    recorded = {p.stem for p in GOLDEN.glob("*.json")}
    assert recorded == set(responses), "the recorded responses and the requests made differ; re-record"
    for name, body in responses.items():
        expected = (GOLDEN / f"{name}.json").read_bytes()
        assert body == expected, f"{name}: the response differs from golden/{name}.json"
