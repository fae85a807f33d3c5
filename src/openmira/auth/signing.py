"""RS256 signing keys: persisted in the database, published as a JWK Set, rotatable and revocable.

A rotated key is *retired*: it stays published until its last token expires, but a token it signed
after its retirement (plus ``RETIREMENT_GRACE``, for the processes that signed with it a moment longer)
is refused. A *revoked* key is gone at once: unpublished, and every token it signed refused, in every
process within ``REVOCATION_CHECK_INTERVAL`` (plus one read of the key table).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import String, Text, insert, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from starlette.concurrency import run_in_threadpool

from openmira.core.random_ids import letters_and_digits
from openmira.db.base import Base, utcnow

# How long a process trusts its copy of the key table before reading it again.
SIGNING_KEY_TTL = 5.0
UNKNOWN_KID_RELOAD_INTERVAL = 1.0
# How old a process's copy of the key table may grow while it serves the API: bounds how long a revoked
# key's tokens are still accepted.
REVOCATION_CHECK_INTERVAL = 1.0
# A process signs with its cached active key for up to SIGNING_KEY_TTL after another rotated it, and
# clocks differ by a few seconds: tokens a retired key signed this soon after its retirement still pass.
RETIREMENT_GRACE = SIGNING_KEY_TTL + 5.0


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a newer key took over signing; still published until its last token expires.
    retired: Mapped[datetime | None] = mapped_column()
    # Set by ``openmira keys revoke``: unpublished, and every token it signed is refused.
    revoked: Mapped[datetime | None] = mapped_column()


def _new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def new_kid() -> str:
    """16 letters and digits (95 bits): an ID an admin types or pastes into a shell, so it never starts with
    ``-`` and never reads as an option (``token_urlsafe`` did, one time in 64)."""
    return letters_and_digits(16)


def ensure_signing_key(session: Session) -> str:
    """Create the first signing key if there is none; returns the active kid."""
    # Named columns only: this also runs after an upgrade to an older revision (migration tests), whose
    # table lacks the newer columns. A revoked key is always retired too (a new key took over then).
    active = session.scalar(
        select(SigningKey.kid).where(SigningKey.retired.is_(None)).order_by(SigningKey.created).limit(1)
    )
    if active is not None:
        return active
    kid = new_kid()
    session.execute(insert(SigningKey).values(kid=kid, private_pem=_new_private_pem(), created=utcnow()))
    return kid


def rotate_signing_key(session: Session) -> str:
    """A new key signs from now on; the old ones stay published for verification."""
    return _new_active_key(session, utcnow())


class UnknownSigningKey(LookupError):
    pass


def revoke_signing_key(session: Session, kid: str) -> str | None:
    """Revoke ``kid``: every token it signed is refused. If it was the key signing now, a new key takes
    over in the same transaction (the server is never left unable to issue tokens); returns that new kid.
    Revoking a revoked key changes nothing."""
    key = session.get(SigningKey, kid)
    if key is None:
        raise UnknownSigningKey(kid)
    if key.revoked is not None:
        return None
    now = utcnow()
    was_active = key.retired is None
    key.revoked = now
    return _new_active_key(session, now) if was_active else None


def _new_active_key(session: Session, now: datetime) -> str:
    for key in session.scalars(select(SigningKey).where(SigningKey.retired.is_(None))):
        key.retired = now
    key = SigningKey(kid=new_kid(), private_pem=_new_private_pem(), created=now)
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
        self._retired: dict[str, float] = {}
        self._active: str | None = None
        self._loaded_at = -1e9
        self._refreshing = False

    def _refresh(self) -> None:
        cutoff = utcnow() - timedelta(seconds=self._lifetime)
        with self._sessions() as session:
            rows = session.execute(
                select(SigningKey.kid, SigningKey.private_pem, SigningKey.retired)
                .where(SigningKey.revoked.is_(None), or_(SigningKey.retired.is_(None), SigningKey.retired > cutoff))
                .order_by(SigningKey.created)
            ).all()
        private, public, retired_at, active = {}, {}, {}, None
        for kid, pem, retired in rows:
            key = self._private.get(kid)
            if key is None:
                loaded = serialization.load_pem_private_key(pem.encode(), password=None)
                assert isinstance(loaded, rsa.RSAPrivateKey)
                key = loaded
            private[kid], public[kid] = key, key.public_key()
            if retired is None:
                active = kid
            else:
                retired_at[kid] = retired.timestamp()
        self._private, self._public, self._retired, self._active = private, public, retired_at, active
        self._loaded_at = time.monotonic()

    def _fresh(self, max_age: float) -> None:
        if time.monotonic() - self._loaded_at > max_age:
            with self._lock:
                if time.monotonic() - self._loaded_at > max_age:
                    self._refresh()

    async def keep_current(self) -> None:
        """Re-read the key table in a worker thread once this copy is older than REVOCATION_CHECK_INTERVAL.

        Called before each API request is authenticated; one request does the reading while the others go
        on with the copy they have, so no request waits on the database for it."""
        if self._refreshing or time.monotonic() - self._loaded_at <= REVOCATION_CHECK_INTERVAL:
            return
        self._refreshing = True
        try:
            await run_in_threadpool(self._fresh, REVOCATION_CHECK_INTERVAL)
        finally:
            self._refreshing = False

    def refusal(self, kid: str, iat: int) -> str | None:
        """Why a token ``kid`` signed at ``iat`` is no longer good, from the copy at hand (no database read)."""
        if kid not in self._public:
            return "the token was signed by a revoked or unknown key"
        retired = self._retired.get(kid)
        if retired is not None and iat > retired + RETIREMENT_GRACE:
            return "the token was signed by a retired key after its retirement"
        return None

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
