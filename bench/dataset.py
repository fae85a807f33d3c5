"""The data a run measures: one organization with N findings (``openmira seed``), an MSP, key pairs.

The seeded organization becomes a licensed sub-account of a new MSP, beside a small licensed account
and a free one, so ``/msp/accounts/findings`` spans the same N findings (plus the small account's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bench.servers import REPO
from openmira.credentials.service import create_key_pair
from openmira.db.session import make_engine, make_session_factory
from openmira.demo.seed import ensure_demo_data
from openmira.findings.models import Finding
from openmira.orgs.models import License, Organization
from openmira.orgs.service import create_org
from openmira.users.models import Role, User, UserRole
from openmira.users.service import create_user

# Fixed, so the same sizes give the same rows (and the same page sizes) in every run.
AS_OF = "2026-01-01T00:00:00"
SMALL_ACCOUNT_FINDINGS = 1_000


@dataclass(frozen=True)
class KeyPair:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class Dataset:
    database_url: str
    findings: int
    org_id: uuid.UUID
    sender_id: uuid.UUID  # an administrator of the organization, for POST .../comments
    finding_id: uuid.UUID  # the newest finding: what a console opens first
    org_pair: KeyPair
    token_pair: KeyPair  # used only to measure token issuance
    msp_pair: KeyPair


def seed_findings(database_url: str, findings: int, seed: int) -> uuid.UUID:
    """``openmira seed`` (which also migrates): one organization holding ``findings`` findings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    env["OPENMIRA_DATABASE_URL"] = database_url
    command = [
        sys.executable, "-m", "openmira.cli", "seed", "--orgs", "1", "--findings", str(findings),
        "--seed", str(seed), "--as-of", AS_OF, "--json",
    ]
    proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"openmira seed failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    rows = json.loads(proc.stdout)
    return uuid.UUID(rows[0]["org_id"])


def _pair(session: Session, org_id: uuid.UUID, label: str) -> KeyPair:
    issued = create_key_pair(session, org_id, label=label)
    return KeyPair(issued.pair.client_id, issued.client_secret)


def _admin(session: Session, org_id: uuid.UUID) -> uuid.UUID:
    admin = session.scalar(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.org_id == org_id, UserRole.role_id == Role.ADMINISTRATOR)
        .order_by(User.created, User.id)
        .limit(1)
    )
    if admin is None:
        raise RuntimeError("the seeded organization has no administrator")
    return admin


def _msp(session: Session, org_id: uuid.UUID) -> uuid.UUID:
    msp = create_org(session, "Bench MSP", msp=True)
    # The seeded organization joins the MSP as a licensed sub-account.
    session.execute(
        update(Organization).where(Organization.id == org_id).values(parent_id=msp.id, license=License.ADVANCED)
    )
    small = create_org(session, "Bench small account", parent_id=msp.id, license=License.M365)
    create_user(session, small.id, "admin@bench-small.example", roles=[Role.ADMINISTRATOR])
    ensure_demo_data(session, small.id, findings=SMALL_ACCOUNT_FINDINGS)
    create_org(session, "Bench free account", parent_id=msp.id, license=License.FREE)
    return msp.id


def _maintain(database_url: str) -> None:
    """What a database in steady state has: planner statistics, on PostgreSQL a visibility map, and nothing of
    the seeding left to write out (a checkpoint: seeding 1M findings left about 650 MB of dirty pages that the
    first measurements would otherwise share the machine with; on SQLite the write-ahead log folded in)."""
    engine = make_engine(database_url, **({} if database_url.startswith("sqlite") else {"pool_size": 1}))
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("ANALYZE" if sqlite else "VACUUM ANALYZE"))
            if sqlite:
                busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
                if busy is not None and busy[0]:
                    print("note: the write-ahead log was busy; not all of it was checkpointed", file=sys.stderr)
            else:
                try:
                    conn.execute(text("CHECKPOINT"))
                except DBAPIError as exc:  # it needs a superuser or the pg_checkpoint role
                    print(f"note: no checkpoint after seeding ({exc.orig}); measuring anyway", file=sys.stderr)
    finally:
        engine.dispose()


def build(database_url: str, findings: int, seed: int) -> Dataset:
    org_id = seed_findings(database_url, findings, seed)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            msp_id = _msp(session, org_id)
            finding_id = session.scalar(
                select(Finding.id).where(Finding.org_id == org_id).order_by(Finding.created.desc()).limit(1)
            )
            assert finding_id is not None
            dataset = Dataset(
                database_url=database_url,
                findings=findings,
                org_id=org_id,
                sender_id=_admin(session, org_id),
                finding_id=finding_id,
                org_pair=_pair(session, org_id, "bench"),
                token_pair=_pair(session, org_id, "bench token issuance"),
                msp_pair=_pair(session, msp_id, "bench MSP"),
            )
            session.commit()
    finally:
        engine.dispose()
    _maintain(database_url)
    return dataset
