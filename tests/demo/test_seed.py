"""Demo data: ``openmira seed`` and the demo tenant's findings, devices and keys (issue 3, item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openmira.agents.models import AgentCommand, AgentDevice, AgentKey
from openmira.demo.catalog import DETECTIONS
from openmira.demo.generator import FindingFactory, Member
from openmira.demo.rules import EXTRA_RULES, basis_rules
from openmira.demo.seed import seed_orgs, wipe
from openmira.demo.tenant import DEMO_ORG_ID, ensure_demo_tenant
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner
from openmira.orgs.models import Organization
from openmira.users.models import Role, User, UserRole
from tests.helpers import API, new_pair
from tests.live import server_env

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PLAUSIBLE_KEYS = {
    "timestamp", "src_ip", "dst_ip", "client_ip", "client_ip_geoip.countrycode", "user_name", "event_id",
    "device_name", "process_name", "sensor", "dst_domain", "cve",
}


def snapshot(db: Session, org_ids: list[uuid.UUID]) -> dict[str, Any]:
    """Everything seeded for ``org_ids``, in a stable order, minus database-assigned serials."""
    findings = select(Finding.id).where(Finding.org_id.in_(org_ids))
    return {
        "orgs": db.execute(select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
                           .order_by(Organization.id)).all(),
        "users": db.execute(select(User.id, User.email, User.first_name, User.last_name, User.created)
                            .where(User.org_id.in_(org_ids)).order_by(User.id)).all(),
        "findings": db.execute(
            select(Finding.id, Finding.org_id, Finding.short_id, Finding.name, Finding.priority, Finding.type,
                   Finding.status, Finding.resolution, Finding.resolution_notes, Finding.created, Finding.modified,
                   Finding.status_modified, Finding.status_modified_by, Finding.summary)
            .where(Finding.org_id.in_(org_ids)).order_by(Finding.id)
        ).all(),
        "owners": db.execute(select(FindingOwner.finding_id, FindingOwner.owner_type, FindingOwner.user_id)
                             .where(FindingOwner.finding_id.in_(findings))
                             .order_by(FindingOwner.finding_id, FindingOwner.owner_type)).all(),
        "comments": db.execute(select(FindingComment.id, FindingComment.body, FindingComment.sender_id,
                                      FindingComment.created)
                               .where(FindingComment.finding_id.in_(findings)).order_by(FindingComment.id)).all(),
        "evidence": sorted(
            (str(f), p, json.dumps(d, sort_keys=True))
            for f, p, d in db.execute(select(EvidenceRow.finding_id, EvidenceRow.position, EvidenceRow.data)
                                      .where(EvidenceRow.finding_id.in_(findings)))
        ),
        "devices": db.execute(select(AgentDevice.id, AgentDevice.hostname, AgentDevice.plat, AgentDevice.key_id)
                              .where(AgentDevice.org_id.in_(org_ids)).order_by(AgentDevice.id)).all(),
        "keys": db.execute(select(AgentKey.id, AgentKey.description, AgentKey.agent_seat_count)
                           .where(AgentKey.org_id.in_(org_ids)).order_by(AgentKey.id)).all(),
        "rules": db.execute(select(DetectionRule.id, DetectionRule.basis_rule_id, DetectionRule.status,
                                   DetectionRule.created).where(DetectionRule.org_id.in_(org_ids))
                            .order_by(DetectionRule.id)).all(),
        "commands": db.execute(select(AgentCommand.id, AgentCommand.device_id, AgentCommand.action,
                                      AgentCommand.status, AgentCommand.requested_by, AgentCommand.created)
                               .where(AgentCommand.org_id.in_(org_ids)).order_by(AgentCommand.id)).all(),
    }


def test_same_seed_same_data(db: Session) -> None:
    first = seed_orgs(db, orgs=2, findings=150, seed=7, as_of=AS_OF)
    db.commit()
    ids = [r.org_id for r in first]
    assert [r.action for r in first] == ["created", "created"] and len(set(ids)) == 2
    before = snapshot(db, ids)
    assert len(before["findings"]) == 300 and before["evidence"] and before["comments"]
    assert len(before["rules"]) == 2 * len(basis_rules()) and before["commands"]

    # Emptied organizations are regenerated identically from the seed.
    for org_id in ids:
        wipe(db, org_id)
    db.commit()
    again = seed_orgs(db, orgs=2, findings=150, seed=7, as_of=AS_OF)
    db.commit()
    assert [r.action for r in again] == ["replaced", "replaced"]
    assert snapshot(db, ids) == before

    # Another seed: other organizations, other data.
    other = seed_orgs(db, orgs=1, findings=150, seed=8, as_of=AS_OF)
    db.commit()
    assert other[0].org_id not in ids
    theirs = snapshot(db, [other[0].org_id])
    assert [f.short_id for f in theirs["findings"]] != [f.short_id for f in before["findings"][:150]]


def test_generator_is_pure(db: Session) -> None:
    """The finding factory alone, twice with the same stream: identical rows."""
    import random

    members = [Member(uuid.UUID(int=i), f"u{i}@x.example", frozenset({r})) for i, r in enumerate(Role)]

    def rows() -> list[Any]:
        factory = FindingFactory(random.Random("x"), uuid.UUID(int=99), members, ["h1", "h2"], "x.example", AS_OF)
        return [batch for _n, batch in factory.batches(120, batch_size=50)]

    assert rows() == rows()
    assert [n for n, _b in FindingFactory(
        random.Random("x"), uuid.UUID(int=99), members, ["h"], "x.example", AS_OF).batches(120, batch_size=50)
    ] == [50, 50, 20]


def test_realistic_invariants(db: Session) -> None:
    results = seed_orgs(db, orgs=2, findings=400, seed=11, as_of=AS_OF)
    db.commit()
    names = {d.name for d in DETECTIONS}
    for result in results:
        org_id = result.org_id
        members = set(db.scalars(select(User.id).where(User.org_id == org_id)))
        assert 6 <= len(members) == result.users
        roles = set(db.scalars(select(UserRole.role_id).where(UserRole.user_id.in_(members))))
        assert roles == {int(r) for r in Role}

        findings = db.scalars(select(Finding).where(Finding.org_id == org_id)).all()
        assert len(findings) == 400
        assert len({f.short_id for f in findings}) == 400
        assert {f.type for f in findings} == {10, 20, 30, 40, 50}
        assert all(f.name in names for f in findings)
        for f in findings:
            assert AS_OF - timedelta(days=90) <= f.created <= AS_OF
            assert 1 <= f.priority <= 5
            if f.type in (30, 40):
                assert f.priority == 3, f.name
            assert f.created <= f.modified <= AS_OF
            assert f.status_modified is not None and f.created <= f.status_modified <= f.modified
            if f.status == 40:
                assert f.resolution in (10, 20, 30, 40) and f.resolution_notes
                assert f.status_modified_by in members
            else:
                assert f.status == 10 and f.resolution is None and f.resolution_notes is None
            assert f.modified_by is None or f.modified_by in members
            assert len(f.summary) <= 512 and f.category_name and f.jurisdiction_name
        threats = [f.priority for f in findings if f.type == 10]
        assert threats and sum(p <= 2 for p in threats) / len(threats) >= 0.7
        assert sum(f.status == 40 for f in findings) / len(findings) >= 0.7

        ids = select(Finding.id).where(Finding.org_id == org_id)
        owners = db.execute(select(FindingOwner.user_id, FindingOwner.owner_type)
                            .where(FindingOwner.finding_id.in_(ids))).all()
        assert owners and {u for u, _t in owners} <= members
        assert {t for _u, t in owners} == {"responder", "analyst", "manager"}
        comments = db.scalars(select(FindingComment).where(FindingComment.finding_id.in_(ids))).all()
        assert comments and {c.sender_id for c in comments} <= members
        assert all(c.body.startswith("<") and "{" not in c.body for c in comments)
        by_id = {f.id: f for f in findings}
        for c in comments:
            finding = by_id[c.finding_id]
            assert finding.created <= c.created <= finding.modified
        evidence = db.scalars(select(EvidenceRow).where(EvidenceRow.finding_id.in_(ids))).all()
        assert evidence
        keys = {k for row in evidence for k in row.data}
        assert "timestamp" in keys and len(keys & PLAUSIBLE_KEYS) >= 8
        per_finding = Counter(r.finding_id for r in evidence)
        assert max(per_finding.values()) <= 8
        for row in evidence:  # rows of one finding share their keys
            assert set(row.data) == set(next(r for r in evidence if r.finding_id == row.finding_id).data)

        devices = db.scalars(select(AgentDevice).where(AgentDevice.org_id == org_id)).all()
        assert {d.plat for d in devices} == {"windows", "linux", "macos"}
        assert any(d.is_domain_controller for d in devices)
        assert len({d.hostname for d in devices}) == len(devices)
        keys_ = db.scalars(select(AgentKey).where(AgentKey.org_id == org_id)).all()
        used = Counter(d.key_id for d in devices)
        for key in keys_:
            assert key.agent_seat_count >= used[key.id]
        assert {d.key_id for d in devices} - {None} <= {k.id for k in keys_}


def test_reseed_is_idempotent(db: Session) -> None:
    seed_orgs(db, orgs=2, findings=120, seed=5, as_of=AS_OF)
    db.commit()
    counts = {m: db.scalar(select(func.count()).select_from(m)) for m in (Organization, User, Finding, AgentDevice)}
    again = seed_orgs(db, orgs=2, findings=120, seed=5, as_of=AS_OF + timedelta(days=3))
    db.commit()
    assert [r.action for r in again] == ["kept", "kept"]
    assert {m: db.scalar(select(func.count()).select_from(m)) for m in counts} == counts

    # A different size replaces the organizations' findings rather than adding to them.
    resized = seed_orgs(db, orgs=3, findings=60, seed=5, as_of=AS_OF)
    db.commit()
    assert [r.action for r in resized] == ["replaced", "replaced", "created"]
    for r in resized:
        assert db.scalar(select(func.count()).select_from(Finding).where(Finding.org_id == r.org_id)) == 60
    assert db.scalar(select(func.count()).select_from(Organization)) == 3


def test_seeded_keys_through_the_api(db: Session, client: TestClient) -> None:
    (result,) = seed_orgs(db, orgs=1, findings=20, seed=3, as_of=AS_OF)
    db.commit()
    pair = new_pair(db, client, result.org_id)
    keys = client.get(f"{API}/org/agents/keys", headers=pair.headers).json()
    devices = client.get(f"{API}/org/agents/devices", headers=pair.headers, params={"page_size": 200}).json()
    assert keys["meta"]["total_items"] == result.keys and devices["meta"]["total_items"] == result.devices
    used = Counter(d["key_id"] for d in devices["data"])
    assert {k["key_id"]: k["agent_count"] for k in keys["data"]} == {k["key_id"]: used[k["key_id"]]
                                                                       for k in keys["data"]}
    assert all(d["keyname"] for d in devices["data"] if d["key_id"])


def test_seed_command(database_url: str, db: Session) -> None:
    args = ["seed", "--orgs", "2", "--findings", "80", "--seed", "21", "--as-of", "2026-06-01T12:00:00"]
    run = subprocess.run(
        [sys.executable, "-m", "openmira.cli", *args, "--json"], env={**server_env(database_url), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert [r["action"] for r in rows] == ["created", "created"] and all(r["findings"] == 80 for r in rows)
    again = seed_orgs(db, orgs=2, findings=80, seed=21, as_of=AS_OF)
    assert [uuid.UUID(r["org_id"]) for r in rows] == [r.org_id for r in again]
    assert [r.action for r in again] == ["kept", "kept"]  # the same IDs, found again: nothing duplicated
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Finding)) == 160

    human = subprocess.run(
        [sys.executable, "-m", "openmira.cli", *args], env={**server_env(database_url), "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120,
    )
    assert human.returncode == 0, human.stderr
    assert human.stdout.count("Kept") == 2 and "80 findings" in human.stdout


def test_demo_tenant_gets_data_once(db: Session, tmp_path: Path) -> None:
    ensure_demo_tenant(db, tmp_path)
    db.commit()
    count = db.scalar(select(func.count()).select_from(Finding).where(Finding.org_id == DEMO_ORG_ID))
    assert count == 500
    devices = db.scalars(select(AgentDevice.plat).where(AgentDevice.org_id == DEMO_ORG_ID)).all()
    assert set(devices) == {"windows", "linux", "macos"}
    members = set(db.scalars(select(User.id).where(User.org_id == DEMO_ORG_ID)))
    owners = set(db.scalars(select(FindingOwner.user_id).join(Finding).where(Finding.org_id == DEMO_ORG_ID)))
    assert owners and owners <= members

    ensure_demo_tenant(db, tmp_path)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Finding).where(Finding.org_id == DEMO_ORG_ID)) == 500
    assert db.scalar(select(func.count()).select_from(AgentDevice).where(AgentDevice.org_id == DEMO_ORG_ID)) == len(
        devices
    )


def test_detection_rules_and_command_history_are_coherent(db: Session) -> None:
    results = seed_orgs(db, orgs=2, findings=50, seed=13, as_of=AS_OF)
    db.commit()
    basis = {b.id: b for b in db.scalars(select(BasisDetectionRule))}
    assert len(basis) == len(DETECTIONS) + len(EXTRA_RULES)
    by_name = {b.name: b for b in basis.values()}
    for detection in DETECTIONS:  # a rule's type and priority agree with the findings raised from it
        rule = by_name[detection.name]
        assert rule.type == detection.type and rule.priority == min(detection.priorities)
        assert rule.priority == 3 or detection.type not in (30, 40)
    for result in results:
        rules = db.scalars(select(DetectionRule).where(DetectionRule.org_id == result.org_id)).all()
        assert {r.basis_rule_id for r in rules} == set(basis)
        assert {r.status for r in rules} == {0, 1, 5}
        assert all(r.name == basis[r.basis_rule_id].name for r in rules)  # type: ignore[index]
        devices = {d.id: d for d in db.scalars(select(AgentDevice).where(AgentDevice.org_id == result.org_id))}
        commands = db.scalars(
            select(AgentCommand).where(AgentCommand.org_id == result.org_id).order_by(AgentCommand.created)
        ).all()
        assert commands and {c.status for c in commands} <= {"completed", "failed"}
        assert {c.action for c in commands} == {"isolate", "release", "restart"}
        last: dict[uuid.UUID, str] = {}
        for command in commands:
            assert command.created <= AS_OF and command.device_id in devices
            if command.action in ("isolate", "release"):
                last[command.device_id] = command.action
        for device in devices.values():  # every isolated device's last isolate/release is an isolation
            assert (last.get(device.id) == "isolate") == device.is_isolated
