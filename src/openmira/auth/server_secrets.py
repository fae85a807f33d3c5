"""Server secrets: the named random values every process shares through the database.

The console's session-cookie signing key and the webhook-secret encryption key live in the
``console_secrets`` table (its name predates this module), created by the first process that needs
one; the token signing keys, which rotate, have their own table in :mod:`openmira.auth.signing`.
Kept apart from the console and the webhooks so that neither imports the other for a key.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from openmira.db.base import Base, utcnow

SESSION_SIGNING = "session-signing"


class ServerSecret(Base):
    """A server-generated secret, by name, created once on first use."""

    __tablename__ = "console_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(default=utcnow)


def ensure_secret(session: Session, name: str) -> str:
    """A shared server secret (by name), added to ``session``'s transaction if it does not exist yet."""
    row = session.get(ServerSecret, name)
    if row is None:
        row = ServerSecret(name=name, value=secrets.token_urlsafe(48))
        session.add(row)
        session.flush()
    return row.value


def load_or_create_secret(sessions: sessionmaker[Session], name: str) -> str:
    """A shared server secret (by name); the first process to need it creates it, the others read it."""
    with sessions() as session:
        try:
            value = ensure_secret(session, name)
            session.commit()
            return value
        except IntegrityError:  # another process created it first
            session.rollback()
            row = session.get(ServerSecret, name)
            assert row is not None
            return row.value
