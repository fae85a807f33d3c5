"""The demo tenant: an organization with users, a read-write and a read-only key pair, and data.

The first run also fills the organization with realistic findings, installation keys and devices
(``openmira.demo.seed.ensure_demo_data``); later runs leave existing data alone.

Idempotent: the organization and users have fixed IDs, and the demo key pairs' secrets are kept in
``<data_dir>/demo-credentials.json`` (a demo convenience; real secrets are never stored) so that a
restarted demo prints the same, still working, credentials.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.credentials import service as credentials
from openmira.credentials.models import AccessLevel, KeyPair
from openmira.demo.seed import ensure_demo_data
from openmira.demo.webhooks import ensure_demo_webhook
from openmira.orgs import service as orgs
from openmira.orgs.models import License, Organization
from openmira.users import service as users
from openmira.users.models import Role, User
from openmira.webhooks.crypto import SecretBox

NAMESPACE = uuid.UUID("6f1c0b52-8a55-4d4b-9d0e-0c7b3b1d2a10")
DEMO_ORG_ID = uuid.uuid5(NAMESPACE, "org:acme")
DEMO_ORG_NAME = "Acme Corporation (demo)"
DEMO_PASSWORD = "openmira-demo"

DEMO_MSP_ID = uuid.uuid5(NAMESPACE, "org:summit-msp")
DEMO_MSP_NAME = "Summit IT Partners (demo MSP)"
DEMO_MSP_USERS = [("morgan.msp@summit-it.example", "Morgan", "Blake", [Role.ADMINISTRATOR])]
# (name, license, email domain): one account on the free tier, left out of all-accounts findings.
DEMO_ACCOUNTS = [
    ("Northwind Traders", License.ADVANCED, "northwind.example"),
    ("Contoso Health", License.SIEM_STARTER, "contoso-health.example"),
    ("Fabrikam Legal", License.M365, "fabrikam.example"),
    ("Tailspin Toys", License.FREE, "tailspin.example"),
]
DEMO_ACCOUNT_FINDINGS = 120

DEMO_USERS = [
    ("alice.admin@acme.example", "Alice", "Nguyen", [Role.ADMINISTRATOR]),
    ("marcus.manager@acme.example", "Marcus", "Reyes", [Role.MANAGER]),
    ("priya.analyst@acme.example", "Priya", "Shah", [Role.ANALYST]),
    ("sam.responder@acme.example", "Sam", "Okafor", [Role.RESPONDER]),
]


@dataclass(frozen=True)
class DemoCredential:
    name: str
    access: str
    client_id: str
    client_secret: str
    org_id: str


def ensure_org(session: Session, org_id: uuid.UUID, name: str, **kwargs: object) -> Organization:
    return session.get(Organization, org_id) or orgs.create_org(session, name, org_id=org_id, **kwargs)  # type: ignore[arg-type]


def ensure_users(session: Session, org_id: uuid.UUID, people: list[tuple[str, str, str, list[Role]]]) -> list[User]:
    result = []
    for email, first, last, roles in people:
        user = users.get_user_by_email(session, email) or users.create_user(
            session, org_id, email, first_name=first, last_name=last, roles=roles, password=DEMO_PASSWORD,
            user_id=uuid.uuid5(NAMESPACE, f"user:{email}"),
        )
        result.append(user)
    return result


def _load(path: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def ensure_credential(
    session: Session, saved: dict[str, dict[str, str]], name: str, org_id: uuid.UUID, access: AccessLevel,
    label: str, created_by: uuid.UUID,
) -> DemoCredential:
    known = saved.get(name, {})
    pair = credentials.authenticate_client(session, known.get("client_id", ""), known.get("client_secret", ""))
    if pair is None or pair.org_id != org_id:
        stale = session.get(KeyPair, known.get("client_id", "")) if known.get("client_id") else None
        if stale is not None and stale.org_id == org_id:
            session.delete(stale)
        issued = credentials.create_key_pair(session, org_id, label=label, access=access, created_by=created_by)
        known = {"client_id": issued.pair.client_id, "client_secret": issued.client_secret}
    return DemoCredential(name, access.value, known["client_id"], known["client_secret"], str(org_id))


def save_credentials(path: Path, creds: list[DemoCredential]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {c.name: {"client_id": c.client_id, "client_secret": c.client_secret} for c in creds}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)


def ensure_demo_msp(session: Session, saved: dict[str, dict[str, str]]) -> DemoCredential:
    """An MSP with four sub-accounts (one on the free tier), each with users and data, and an MSP key pair."""
    ensure_org(session, DEMO_MSP_ID, DEMO_MSP_NAME, msp=True)
    msp_admin = ensure_users(session, DEMO_MSP_ID, DEMO_MSP_USERS)[0]
    for name, license, domain in DEMO_ACCOUNTS:
        account_id = uuid.uuid5(NAMESPACE, f"account:{name}")
        ensure_org(session, account_id, name, parent_id=DEMO_MSP_ID, license=license)
        ensure_users(session, account_id, [
            (f"{first.lower()}.{role.label}@{domain}", first, last, [role])
            for first, last, role in (("Jordan", "Lee", Role.ADMINISTRATOR), ("Casey", "Diaz", Role.RESPONDER))
        ])
        session.flush()
        ensure_demo_data(session, account_id, findings=DEMO_ACCOUNT_FINDINGS)
    return ensure_credential(
        session, saved, "msp-rw", DEMO_MSP_ID, AccessLevel.READ_WRITE, "Demo MSP read-write", msp_admin.id
    )


def ensure_demo_tenant(
    session: Session, data_dir: Path, webhook_secret_key: str | None = None
) -> list[DemoCredential]:
    path = data_dir / "demo-credentials.json"
    saved = _load(path)
    ensure_org(session, DEMO_ORG_ID, DEMO_ORG_NAME)
    admin = ensure_users(session, DEMO_ORG_ID, DEMO_USERS)[0]
    creds = [
        ensure_credential(session, saved, "org-rw", DEMO_ORG_ID, AccessLevel.READ_WRITE, "Demo read-write", admin.id),
        ensure_credential(session, saved, "org-ro", DEMO_ORG_ID, AccessLevel.READ_ONLY, "Demo read-only", admin.id),
    ]
    session.flush()
    ensure_demo_data(session, DEMO_ORG_ID)
    ensure_demo_webhook(session, DEMO_ORG_ID, NAMESPACE, SecretBox.in_transaction(session, webhook_secret_key))
    creds.append(ensure_demo_msp(session, saved))
    save_credentials(path, creds)
    return creds


def reset_demo_tenant(session: Session, data_dir: Path) -> None:
    """Delete the demo organization, the demo MSP with its sub-accounts, and the saved demo secrets.

    Only the demo tenant's fixed IDs are touched: other organizations in the same database stay.
    """
    accounts = list(session.scalars(select(Organization.id).where(Organization.parent_id == DEMO_MSP_ID)))
    for org_id in [*accounts, DEMO_MSP_ID, DEMO_ORG_ID]:
        if session.get(Organization, org_id) is not None:
            orgs.delete_org(session, org_id)
    (data_dir / "demo-credentials.json").unlink(missing_ok=True)
