"""RS256 signing keys: persisted in the database, published as a JWK Set, rotatable."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from openmira.db.base import Base, utcnow

# How long a process trusts its copy of the key table before reading it again.
SIGNING_KEY_TTL = 5.0
UNKNOWN_KID_RELOAD_INTERVAL = 1.0


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer key took over signing; still published until its last token expires.
    retired: Mapped[datetime | None] = mapped_column()


def _new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def ensure_signing_key(session: Session) -> str:
    """Create the first signing key if there is none; returns the active kid."""
    active = session.scalar(select(SigningKey).where(SigningKey.retired.is_(None)).order_by(SigningKey.created))
    if active is not None:
        return active.kid
    key = SigningKey(kid=secrets.token_urlsafe(12), private_pem=_new_private_pem())
    session.add(key)
    session.flush()
    return key.kid


def rotate_signing_key(session: Session) -> str:
    """A new key signs from now on; the old ones stay published for verification."""
    now = utcnow()
    for key in session.scalars(select(SigningKey).where(SigningKey.retired.is_(None))):
        key.retired = now
    key = SigningKey(kid=secrets.token_urlsafe(12), private_pem=_new_private_pem(), created=now)
    session.add(key)
    session.flush()
    return key.kid


class KeyStore:
    """A per-process cache of the key table. Every process re-reads it, so rotation reaches all."""

    def __init__(self, sessions: sessionmaker[Session], token_lifetime: int) -> None:
        self._sessions = sessions
        self._lifetime = token_lifetime
        self._lock = threading.Lock()
        self._private: dict[str, rsa.RSAPrivateKey] = {}
        self._public: dict[str, rsa.RSAPublicKey] = {}
        self._active: str | None = None
        self._loaded_at = -1e9

    def _refresh(self) -> None:
        cutoff = utcnow() - timedelta(seconds=self._lifetime)
        with self._sessions() as session:
            rows = session.execute(
                select(SigningKey.kid, SigningKey.private_pem, SigningKey.retired)
                .where(or_(SigningKey.retired.is_(None), SigningKey.retired > cutoff))
                .order_by(SigningKey.created)
            ).all()
        private, public, active = {}, {}, None
        for kid, pem, retired in rows:
            key = self._private.get(kid)
            if key is None:
                loaded = serialization.load_pem_private_key(pem.encode(), password=None)
                assert isinstance(loaded, rsa.RSAPrivateKey)
                key = loaded
            private[kid], public[kid] = key, key.public_key()
            if retired is None:
                active = kid
        self._private, self._public, self._active = private, public, active
        self._loaded_at = time.monotonic()

    def _fresh(self, max_age: float) -> None:
        if time.monotonic() - self._loaded_at > max_age:
            with self._lock:
                if time.monotonic() - self._loaded_at > max_age:
                    self._refresh()

    def signing_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        self._fresh(SIGNING_KEY_TTL)
        if self._active is None:
            raise RuntimeError("no active signing key; run `openmira db upgrade` or `openmira keys rotate`")
        return self._active, self._private[self._active]

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        self._fresh(SIGNING_KEY_TTL)
        if kid not in self._public:
            # A key rotated in by another process: look again, but not more than once a second.
            self._fresh(UNKNOWN_KID_RELOAD_INTERVAL)
        return self._public.get(kid)

    def jwks(self) -> dict[str, Any]:
        self._fresh(SIGNING_KEY_TTL)
        keys = []
        for kid, public in self._public.items():
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}
