"""Console sign-in state: the signing secret, server-side sessions, cookies and CSRF tokens.

The session cookie carries a random 256-bit token, signed with a secret that every server process
reads from the database (:mod:`openmira.auth.server_secrets`; created on first use, or taken from
``OPENMIRA_CONSOLE_SECRET``). The database keeps only the token's SHA-256, so signing out, or a
password change, ends the session on every process at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from openmira.auth.server_secrets import SESSION_SIGNING, load_or_create_secret
from openmira.console.models import ConsoleSession
from openmira.db.base import utcnow
from openmira.orgs.models import Organization, OrgKind
from openmira.users.models import Role, User

SESSION_COOKIE = "openmira_console"
LOGIN_CSRF_COOKIE = "openmira_console_signin"
SESSION_LIFETIME = timedelta(hours=12)


class CookieSigner:
    def __init__(self, sessions: sessionmaker[Session], configured: str | None) -> None:
        self._sessions = sessions
        self._secret = configured
        self._lock = threading.Lock()

    def _signer(self, salt: str) -> Signer:
        if self._secret is None:
            with self._lock:
                if self._secret is None:
                    self._secret = load_or_create_secret(self._sessions, SESSION_SIGNING)
        return Signer(self._secret, salt=salt)

    def sign(self, value: str, salt: str) -> str:
        return self._signer(salt).sign(value).decode()

    def unsign(self, value: str | None, salt: str) -> str | None:
        if not value or len(value) > 300:
            return None
        try:
            return self._signer(salt).unsign(value).decode()
        except BadSignature:
            return None


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    role_ids: tuple[int, ...]


@dataclass(frozen=True)
class OrgInfo:
    id: uuid.UUID
    name: str
    kind: str
    parent_id: uuid.UUID | None
    license: str

    @property
    def is_msp(self) -> bool:
        return self.kind == OrgKind.MSP


@dataclass(frozen=True)
class SignedIn:
    """Who is behind a console request: plain values, usable after the request's transaction ends."""

    session_id: str
    csrf_token: str
    user: UserInfo
    org: OrgInfo

    @property
    def is_admin(self) -> bool:
        return Role.ADMINISTRATOR in self.user.role_ids

    @property
    def is_msp(self) -> bool:
        return self.org.is_msp


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()


def start_session(db: Session, user: User) -> str:
    """A new session for ``user``; returns the token for the cookie (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.execute(delete(ConsoleSession).where(ConsoleSession.expires < now))
    db.add(
        ConsoleSession(
            id=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            password_fp=password_fingerprint(user.password_hash),
            created=now,
            expires=now + SESSION_LIFETIME,
        )
    )
    db.flush()
    return token


def resolve_session(db: Session, token: str | None) -> SignedIn | None:
    if not token:
        return None
    row = db.execute(
        select(ConsoleSession, User, Organization)
        .join(User, User.id == ConsoleSession.user_id)
        .join(Organization, Organization.id == User.org_id)
        .where(ConsoleSession.id == _digest(token))
    ).first()
    if row is None:
        return None
    record, user, org = row
    if user.disabled or record.expires <= utcnow() or not hmac.compare_digest(
        record.password_fp, password_fingerprint(user.password_hash)
    ):
        return None
    return SignedIn(
        record.id,
        record.csrf_token,
        UserInfo(user.id, user.email, user.first_name, user.last_name, tuple(user.role_ids)),
        OrgInfo(org.id, org.name, org.kind, org.parent_id, org.license),
    )


def end_session(db: Session, session_id: str) -> None:
    db.execute(delete(ConsoleSession).where(ConsoleSession.id == session_id))
    db.flush()


def tokens_equal(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected).encode(), str(given).encode())


def user_org_ids(db: Session, signed_in: SignedIn) -> set[uuid.UUID]:
    """Every organization this console user may look at: their own, plus an MSP's sub-accounts."""
    ids = {signed_in.org.id}
    if signed_in.is_msp:
        ids.update(db.scalars(select(Organization.id).where(Organization.parent_id == signed_in.org.id)))
    return ids
