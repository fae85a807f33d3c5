"""``openmira seed`` and the demo tenant's data: generated rows inserted in bulk.

Idempotency: an organization's ID is derived from the seed and its index, so reseeding finds it
again. An organization that already holds exactly the requested number of findings is left alone;
one that holds another number (a different ``--findings``, or an interrupted run) gets its findings,
devices and keys replaced. Users are derived from the seed too and are only added when missing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from openmira.agents.models import AgentCommand, AgentDevice, AgentKey
from openmira.demo import text
from openmira.demo.commands import command_history
from openmira.demo.generator import FindingFactory, Member, fleet, new_uuid, people, slugify
from openmira.demo.rules import ensure_basis_rules, org_rules
from openmira.detection_rules.models import DetectionRule
from openmira.findings.models import EvidenceRow, Finding, FindingComment, FindingOwner
from openmira.orgs.models import Organization, OrgKind
from openmira.users.models import Role, User, UserRole

Progress = Callable[[int], None]
Checkpoint = Callable[[], None]

DEMO_FINDINGS = 500
DEMO_DEVICES = 40
# Findings per commit: small enough to bound a transaction, large enough that fsyncs do not dominate.
CHECKPOINT_EVERY = 50_000


@dataclass(frozen=True)
class SeededOrg:
    org_id: uuid.UUID
    name: str
    action: str  # "created", "replaced" or "kept"
    findings: int
    users: int
    devices: int
    keys: int


def default_as_of() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def org_identity(seed: int, index: int) -> tuple[random.Random, uuid.UUID, str]:
    """The random stream, ID and name of the ``index``-th organization of ``seed``."""
    names = list(text.ORG_NAMES)
    random.Random(f"openmira-seed:{seed}:names").shuffle(names)
    name = names[index % len(names)]
    if index >= len(names):
        name = f"{name} {index // len(names) + 1}"
    rng = random.Random(f"openmira-seed:{seed}:org:{index}")
    return rng, new_uuid(rng), name


def seed_orgs(
    session: Session,
    *,
    orgs: int,
    findings: int,
    seed: int,
    as_of: datetime | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
) -> list[SeededOrg]:
    """Create (or complete) ``orgs`` organizations with ``findings`` findings each."""
    as_of = as_of or default_as_of()
    advance = progress or (lambda _n: None)
    basis = ensure_basis_rules(session)
    results = []
    for index in range(orgs):
        rng, org_id, name = org_identity(seed, index)
        existing = session.get(Organization, org_id)
        if existing is not None and _count(session, Finding, org_id) == findings and _count(
            session, AgentDevice, org_id
        ):
            if not _count(session, DetectionRule, org_id):  # seeded before detection rules existed
                _insert(session, DetectionRule, org_rules(_side_rng(seed, index), org_id, basis, as_of))
            advance(findings)
            results.append(SeededOrg(org_id, existing.name, "kept", findings, _count(session, User, org_id),
                                     _count(session, AgentDevice, org_id), _count(session, AgentKey, org_id)))
            continue
        if existing is None:
            session.execute(insert(Organization), [{
                "id": org_id, "name": name, "kind": OrgKind.ORG.value, "parent_id": None, "license": "ADVANCED",
                "agent_seat_count": 250, "created": as_of, "modified": as_of,
            }])
        else:
            wipe(session, org_id)
        domain = f"{slugify(name)}-{org_id.hex[:4]}.example"
        user_rows = people(rng, org_id, domain, rng.randrange(6, 15), as_of)
        members = _ensure_users(session, user_rows)
        keys, devices = fleet(rng, org_id, rng.randrange(20, 120), as_of)
        _insert(session, AgentKey, keys)
        _insert(session, AgentDevice, devices)
        _add_rules_and_commands(session, _side_rng(seed, index), org_id, basis, devices, members, as_of)
        factory = FindingFactory(rng, org_id, members, [d["hostname"] for d in devices], domain, as_of)
        insert_findings(session, factory, findings, advance, checkpoint)
        if checkpoint:
            checkpoint()
        results.append(SeededOrg(org_id, name, "replaced" if existing else "created", findings, len(members),
                                 len(devices), len(keys)))
    return results


def _side_rng(seed: int, index: int) -> random.Random:
    """A stream of its own for rules and commands, so adding them left every other seeded row as it was."""
    return random.Random(f"openmira-seed:{seed}:org:{index}:rules")


def _add_rules_and_commands(
    session: Session,
    rng: random.Random,
    org_id: uuid.UUID,
    basis: list[dict[str, Any]],
    devices: Sequence[Mapping[str, Any]],
    members: Sequence[Member],
    as_of: datetime,
) -> None:
    _insert(session, DetectionRule, org_rules(rng, org_id, basis, as_of))
    # Isolations and restarts are asked for by the people who respond to findings.
    requesters = [m.id for m in members if m.roles & {Role.ADMINISTRATOR, Role.RESPONDER}] or [m.id for m in members]
    _insert(session, AgentCommand, command_history(rng, org_id, devices, requesters, as_of))


def insert_findings(
    session: Session, factory: FindingFactory, count: int, advance: Progress, checkpoint: Checkpoint | None = None
) -> None:
    pending = 0
    for made, batch in factory.batches(count):
        _insert(session, Finding, batch.findings)
        _insert(session, FindingOwner, batch.owners)
        _insert(session, FindingComment, batch.comments)
        _insert(session, EvidenceRow, batch.evidence)
        pending += made
        if checkpoint and pending >= CHECKPOINT_EVERY:
            checkpoint()
            pending = 0
        advance(made)


def ensure_demo_data(
    session: Session, org_id: uuid.UUID, *, findings: int = DEMO_FINDINGS, as_of: datetime | None = None
) -> bool:
    """Give the demo organization devices, keys and findings, once: False when it already has findings."""
    as_of = as_of or default_as_of()
    rng = random.Random(f"openmira-demo:{org_id}")
    members = _members(session, org_id)
    has_fleet = _count(session, AgentKey, org_id) or _count(session, AgentDevice, org_id)
    keys, devices = fleet(rng, org_id, DEMO_DEVICES, as_of)
    if not has_fleet:
        _insert(session, AgentKey, keys)
        _insert(session, AgentDevice, devices)
    if not _count(session, DetectionRule, org_id):
        fleet_rows = session.execute(
            select(AgentDevice.id, AgentDevice.created, AgentDevice.is_isolated, AgentDevice.is_excluded)
            .where(AgentDevice.org_id == org_id).order_by(AgentDevice.hostname)
        ).mappings().all()
        side = random.Random(f"openmira-demo:{org_id}:rules")
        _add_rules_and_commands(session, side, org_id, ensure_basis_rules(session), fleet_rows, members, as_of)
    if _count(session, Finding, org_id):
        return False
    hosts = list(session.scalars(select(AgentDevice.hostname).where(AgentDevice.org_id == org_id)))
    domain = members[0].email.split("@")[1] if members else "acme.example"
    factory = FindingFactory(rng, org_id, members, hosts, domain, as_of)
    insert_findings(session, factory, findings, lambda _n: None)
    session.flush()
    return True


def wipe(session: Session, org_id: uuid.UUID) -> None:
    """Remove an organization's findings (with their rows), rules, commands, devices and keys; keep users and
    key pairs."""
    finding_ids = select(Finding.id).where(Finding.org_id == org_id)
    for model in (EvidenceRow, FindingComment, FindingOwner):
        session.execute(delete(model).where(model.finding_id.in_(finding_ids)))
    session.execute(delete(Finding).where(Finding.org_id == org_id))
    session.execute(delete(DetectionRule).where(DetectionRule.org_id == org_id))
    session.execute(delete(AgentCommand).where(AgentCommand.org_id == org_id))
    session.execute(delete(AgentDevice).where(AgentDevice.org_id == org_id))
    session.execute(delete(AgentKey).where(AgentKey.org_id == org_id))


def _ensure_users(session: Session, rows: list[dict[str, Any]]) -> list[Member]:
    ids = [r["id"] for r in rows]
    present = set(session.scalars(select(User.id).where(User.id.in_(ids))))
    missing = [r for r in rows if r["id"] not in present]
    if missing:
        _insert(session, User, [{k: v for k, v in r.items() if k != "roles"} for r in missing])
        _insert(session, UserRole, [{"user_id": r["id"], "role_id": role} for r in missing for role in r["roles"]])
    return [Member(r["id"], r["email"], frozenset(r["roles"])) for r in rows]


def _members(session: Session, org_id: uuid.UUID) -> list[Member]:
    users = session.scalars(select(User).where(User.org_id == org_id).order_by(User.email)).all()
    return [Member(u.id, u.email, frozenset(u.role_ids)) for u in users]


def _count(session: Session, model: Any, org_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id)) or 0


def _insert(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(model.__table__), list(rows))
