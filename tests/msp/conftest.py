"""Two MSPs: MSP A with two licensed sub-accounts and a free one, MSP B with one sub-account."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.agents.models import AgentCommand, AgentDevice, AgentKey
from openmira.detection_rules.models import BasisDetectionRule, DetectionRule
from openmira.orgs.models import License
from openmira.orgs.service import create_org
from openmira.users.models import Role
from openmira.users.service import create_user
from openmira.webhooks.addresses import HostPolicy
from openmira.webhooks.crypto import SecretBox
from openmira.webhooks.events import queue, record
from openmira.webhooks.models import WebhookEndpoint
from openmira.webhooks.schemas import WebhookIn
from openmira.webhooks.service import create_endpoint
from tests.findings.factory import BASE_TIME, add_comment, add_evidence, make_finding
from tests.helpers import Tenant, make_tenant


@dataclass
class Account:
    id: uuid.UUID
    name: str
    license: str
    user_ids: list[uuid.UUID]
    finding_ids: list[uuid.UUID]
    open_count: int
    device_ids: list[uuid.UUID]
    key_ids: list[uuid.UUID]
    comment_finding: uuid.UUID
    rule_ids: list[uuid.UUID]
    command_ids: list[uuid.UUID]
    basis_rule_ids: list[uuid.UUID]  # global, not the account's: any MSP may read them
    webhook_ids: list[uuid.UUID]
    delivery_ids: list[uuid.UUID]


def make_account(db: Session, msp: Tenant, name: str, license: License, rng: random.Random, n: int) -> Account:
    org = create_org(db, name, parent_id=msp.org_id, license=license)
    return populate(db, org.id, name, license.value, rng, n)


def populate(db: Session, org_id: uuid.UUID, name: str, license: str, rng: random.Random, n: int) -> Account:
    """Users, findings (with a comment and evidence), an installation key and devices in one org."""
    org = SimpleNamespace(id=org_id)
    users = [
        create_user(
            db, org.id, f"{role.label}-{uuid.uuid4().hex[:6]}@{name.lower().replace(' ', '')}.example", roles=[role]
        )
        for role in (Role.ADMINISTRATOR, Role.RESPONDER)
    ]
    findings = []
    open_count = 0
    for i in range(n):
        status = rng.choice([10, 40])
        open_count += status == 10
        findings.append(
            make_finding(
                db,
                org.id,
                name=f"{name} finding {i}",
                status=status,
                priority=rng.randint(1, 5),
                created=BASE_TIME + timedelta(minutes=rng.randint(0, 50)),
            )
        )
    add_comment(db, findings[0], users[0].id, "<p>Looked at it</p>", BASE_TIME)
    add_evidence(db, findings[0], [{"src_ip": "10.0.0.1", "user_name": "bob"}])
    key = AgentKey(org_id=org.id, description=f"{name} key", agent_seat_count=10)
    db.add(key)
    db.flush()
    devices = [AgentDevice(org_id=org.id, key_id=key.id, hostname=f"{name}-host-{i}", plat="linux") for i in range(3)]
    db.add_all(devices)
    basis = BasisDetectionRule(name=f"{name} basis rule", priority=2, type=20, description="A basis rule")
    db.add(basis)
    db.flush()
    rules = [
        DetectionRule(org_id=org.id, basis_rule_id=basis.id, name=f"{name} rule", status=1, priority=2, type=20),
        DetectionRule(org_id=org.id, basis_rule_id=None, name=f"{name} custom rule", status=5, priority=4, type=40),
    ]
    command = AgentCommand(
        org_id=org.id, device_id=devices[0].id, action="restart", status="completed", requested_by=users[0].id
    )
    db.add_all([*rules, command])
    db.flush()
    webhook_ids, delivery_ids = add_webhook(db, org.id, name)
    return Account(
        org.id,
        name,
        license,
        [u.id for u in users],
        [f.id for f in findings],
        open_count,
        [d.id for d in devices],
        [key.id],
        findings[0].id,
        [r.id for r in rules],
        [command.id],
        [basis.id],
        webhook_ids,
        delivery_ids,
    )


def add_webhook(db: Session, org_id: uuid.UUID, name: str) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """A webhook endpoint owned by ``org_id`` with one (pending) delivery."""
    slug = name.lower().replace(" ", "-")
    body = WebhookIn(url=f"https://{slug}.example.com/hook", events=["finding.resolved"], description=name)
    made = create_endpoint(db, org_id, body, HostPolicy.parse("*"), SecretBox.in_transaction(db, None))
    endpoint = db.get(WebhookEndpoint, made.id)
    assert endpoint is not None
    delivery = queue(db, endpoint, record(db, "ping", org_id, {"webhook_id": str(endpoint.id)}))
    db.flush()
    return [endpoint.id], [delivery.id]


@dataclass
class MspWorld:
    msp_a: Tenant
    msp_b: Tenant
    plain: Tenant
    plain_data: Account
    a1: Account
    a2: Account
    free: Account
    b1: Account


@pytest.fixture
def world(db: Session, client: TestClient) -> MspWorld:
    rng = random.Random(7)
    msp_a = make_tenant(db, client, "MSP A", msp=True)
    msp_b = make_tenant(db, client, "MSP B", msp=True)
    for msp in (msp_a, msp_b):  # the MSPs' own webhooks (/msp/webhooks)
        msp.extra["webhook_ids"], msp.extra["delivery_ids"] = add_webhook(db, msp.org_id, msp.name)
    plain = make_tenant(db, client, "Plain Org")
    world = MspWorld(
        msp_a,
        msp_b,
        plain,
        plain_data=populate(db, plain.org_id, "Plain Org", "ADVANCED", rng, 4),
        a1=make_account(db, msp_a, "Alpha One", License.ADVANCED, rng, 12),
        a2=make_account(db, msp_a, "Alpha Two", License.M365, rng, 9),
        free=make_account(db, msp_a, "Alpha Free", License.FREE, rng, 5),
        b1=make_account(db, msp_b, "Bravo One", License.ADVANCED, rng, 7),
    )
    db.commit()
    return world
