"""A migrated SQLite database with one organization and its data, for the live-server hardening tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from openmira.agents.models import AgentDevice, AgentKey
from openmira.credentials.service import create_key_pair
from openmira.db.migrate import upgrade
from openmira.db.session import make_engine, make_session_factory
from openmira.findings.models import Finding
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from tests.findings.factory import BASE_TIME, add_comment, add_evidence, make_finding


@dataclass
class LiveOrg:
    database_url: str
    client_id: str
    client_secret: str
    user_ids: list[uuid.UUID]
    finding_ids: list[uuid.UUID]
    device_ids: list[uuid.UUID]


def seed_org(directory: Path, findings: int) -> LiveOrg:
    """An organization with two users, ``findings`` findings (one with a comment and evidence), three
    devices and a read-write key pair, in a new SQLite file."""
    url = f"sqlite:///{directory / 'openmira.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as db:
        org = create_org(db, "Hardening Org")
        users = [
            create_user(db, org.id, f"{role.label}-{uuid.uuid4().hex[:6]}@hardening.example", roles=[role])
            for role in (Role.ADMINISTRATOR, Role.RESPONDER)
        ]
        first = make_finding(db, org.id, name="Hardening finding 0")
        add_comment(db, first, users[0].id, "<p>Looked at it</p>", BASE_TIME)
        add_evidence(db, first, [{"src_ip": "10.0.0.1", "user_name": "bob"}])
        rows = [
            {
                "id": uuid.uuid4(), "org_id": org.id, "short_id": f"H-{i:06d}", "name": f"Hardening finding {i}",
                "analysis": "Analysis text " * 20, "summary": "Summary text", "status": 10 if i % 3 else 40,
                "priority": 1 + i % 5, "type": 10 + 10 * (i % 5), "category": i % 7,
                "category_name": "Malware", "jurisdiction_name": "Endpoint", "blocked": False,
                "created": BASE_TIME + timedelta(seconds=i), "modified": BASE_TIME + timedelta(seconds=i),
            }
            for i in range(1, findings)
        ]
        if rows:
            db.execute(insert(Finding), rows)
        key = AgentKey(org_id=org.id, description="Hardening key", agent_seat_count=10)
        db.add(key)
        db.flush()
        devices = [AgentDevice(org_id=org.id, key_id=key.id, hostname=f"host-{i}", plat="linux") for i in range(3)]
        db.add_all(devices)
        db.flush()
        issued = create_key_pair(db, org.id, created_by=users[0].id)
        db.commit()
        result = LiveOrg(
            url, issued.pair.client_id, issued.client_secret, [u.id for u in users],
            [first.id, *(r["id"] for r in rows)], [d.id for d in devices],
        )
    engine.dispose()
    return result
