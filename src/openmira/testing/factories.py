"""Tenants for tests in one call: organizations, MSPs with sub-accounts, users, key pairs, realistic findings.

Built on the same services as the CLI and the console (``orgs``, ``users``, ``credentials``) and on the demo
data generator, so what a test gets looks like what a real tenant holds. Every function works in the caller's
session and never commits; the pytest plugin and ``openmira fixtures`` commit once around each call.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openmira.agents.models import AgentDevice
from openmira.credentials.models import AccessLevel
from openmira.credentials.service import create_key_pair as _create_key_pair
from openmira.demo.generator import FindingFactory, Member, people, slugify
from openmira.demo.seed import default_as_of, ensure_demo_data, insert_findings
from openmira.findings.models import Finding
from openmira.orgs.models import License, Organization
from openmira.orgs.service import create_org as _create_org
from openmira.users.models import Role, User
from openmira.users.service import create_user

Access = Literal["rw", "ro"]
# Server-wide state a reset keeps: token signing keys (issued tokens stay verifiable by their kid), the
# console's secret, the MSP basis-rule catalog, and the faults' version row (processes compare it with the
# one they hold, so it must only ever move forward).
KEPT_TABLES = frozenset({"signing_keys", "console_secrets", "basis_detection_rules", "fault_state"})


@dataclass(frozen=True)
class KeyPairInfo:
    client_id: str
    client_secret: str = field(repr=False)
    access: Access
    org_id: str


@dataclass(frozen=True)
class UserInfo:
    id: str
    email: str
    first_name: str
    last_name: str
    roles: list[str]


@dataclass(frozen=True)
class OrgInfo:
    id: str
    name: str
    license: str
    users: list[UserInfo]
    rw: KeyPairInfo | None
    ro: KeyPairInfo | None
    findings: int
    parent_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MspInfo:
    id: str
    name: str
    users: list[UserInfo]
    rw: KeyPairInfo
    ro: KeyPairInfo
    accounts: list[OrgInfo]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _user_info(user: User) -> UserInfo:
    return UserInfo(str(user.id), user.email, user.first_name, user.last_name, [Role(r).label for r in user.role_ids])


def create_users(session: Session, org_id: uuid.UUID | str, count: int, *, seed: int | str = 0) -> list[UserInfo]:
    """``count`` users with realistic names and a spread of roles (an administrator first)."""
    org_id = uuid.UUID(str(org_id))
    rng = random.Random(f"openmira-testing:users:{org_id}:{seed}")
    domain = f"org-{org_id.hex[:8]}.example"
    made = []
    for row in people(rng, org_id, domain, count, default_as_of()):
        email = row["email"]
        while session.scalar(select(User.id).where(User.email == email)) is not None:
            email = f"{rng.randrange(10_000)}.{email}"
        user = create_user(session, org_id, email, first_name=row["first_name"], last_name=row["last_name"],
                           roles=[Role(r) for r in row["roles"]], user_id=row["id"])
        made.append(_user_info(user))
    return made


def create_key_pair(session: Session, org_id: uuid.UUID | str, access: Access = "rw", label: str = "") -> KeyPairInfo:
    org_id = uuid.UUID(str(org_id))
    level = AccessLevel.READ_WRITE if access == "rw" else AccessLevel.READ_ONLY
    issued = _create_key_pair(session, org_id, label=label or f"test {access}", access=level)
    return KeyPairInfo(issued.pair.client_id, issued.client_secret, access, str(org_id))


def add_findings(session: Session, org_id: uuid.UUID | str, count: int, *, seed: int | str = 0) -> int:
    """Add ``count`` realistic findings (owners, comments, evidence; mostly resolved, the five types with their
    usual priorities) spread over the last months; the first call also gives the organization agent devices,
    installation keys and detection rules. Returns the organization's finding count."""
    org_id = uuid.UUID(str(org_id))
    if count <= 0:
        return _finding_count(session, org_id)
    members = [Member(u.id, u.email, frozenset(u.role_ids))
               for u in session.scalars(select(User).where(User.org_id == org_id).order_by(User.email))]
    if not members:
        create_users(session, org_id, 4, seed=seed)
        session.flush()
    if not _finding_count(session, org_id):
        ensure_demo_data(session, org_id, findings=count)
        return count
    existing = set(session.scalars(select(Finding.short_id).where(Finding.org_id == org_id)))
    rng = random.Random(f"openmira-testing:findings:{org_id}:{seed}:{len(existing)}")
    hosts = list(session.scalars(select(AgentDevice.hostname).where(AgentDevice.org_id == org_id)))
    domain = f"{slugify(session.get(Organization, org_id).name)}.example"  # type: ignore[union-attr]
    factory = FindingFactory(rng, org_id, members, hosts, domain, default_as_of())
    factory.short_ids.update(existing)  # short IDs are unique per organization
    insert_findings(session, factory, count, lambda _n: None)
    session.flush()
    return len(existing) + count


def _finding_count(session: Session, org_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(Finding).where(Finding.org_id == org_id)) or 0


def create_org(
    session: Session,
    name: str | None = None,
    *,
    users: int = 4,
    findings: int = 0,
    key_pairs: bool = True,
    license: License | str = License.ADVANCED,
    parent_id: uuid.UUID | str | None = None,
    seed: int | str = 0,
) -> OrgInfo:
    """An organization (or an MSP's sub-account, with ``parent_id``) with users, a rw and a ro key pair and
    ``findings`` realistic findings."""
    name = name or f"Test Org {uuid.uuid4().hex[:6]}"
    parent = uuid.UUID(str(parent_id)) if parent_id else None
    org = _create_org(session, name, parent_id=parent, license=License(license))
    people_made = create_users(session, org.id, users, seed=seed) if users else []
    rw = create_key_pair(session, org.id, "rw") if key_pairs else None
    ro = create_key_pair(session, org.id, "ro") if key_pairs else None
    total = add_findings(session, org.id, findings, seed=seed) if findings else 0
    return OrgInfo(str(org.id), org.name, org.license, people_made, rw, ro, total, str(parent) if parent else None)


def create_msp(
    session: Session,
    name: str | None = None,
    *,
    accounts: int = 2,
    free_accounts: int = 0,
    findings: int = 0,
    users: int = 2,
    seed: int | str = 0,
) -> MspInfo:
    """An MSP with a rw and a ro key pair, ``accounts`` licensed sub-accounts and ``free_accounts`` on the free
    tier (left out of all-accounts findings), each with users and ``findings`` findings."""
    name = name or f"Test MSP {uuid.uuid4().hex[:6]}"
    msp = _create_org(session, name, msp=True)
    staff = create_users(session, msp.id, users, seed=seed) if users else []
    subs = [
        create_org(session, f"{name} Client {i + 1}", users=max(users, 1), findings=findings, key_pairs=False,
                   parent_id=msp.id, license=License.FREE if i >= accounts else License.ADVANCED, seed=f"{seed}:{i}")
        for i in range(accounts + free_accounts)
    ]
    return MspInfo(str(msp.id), msp.name, staff, create_key_pair(session, msp.id, "rw"),
                   create_key_pair(session, msp.id, "ro"), subs)


def reset(session: Session) -> None:
    """Empty every tenant table (organizations, users, key pairs, findings, webhooks...) and clear injected
    faults; keep server state."""
    from openmira.db.models import Base
    from openmira.faults.service import clear_faults

    clear_faults(session)
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in KEPT_TABLES:
            continue
        if table.name == "organizations":  # sub-accounts before their MSPs
            session.execute(delete(table).where(table.c.parent_id.is_not(None)))
        session.execute(delete(table))
