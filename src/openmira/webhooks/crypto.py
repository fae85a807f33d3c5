"""Signing secrets: generated, encrypted at rest, and used to sign deliveries.

The encryption key is derived (HKDF-SHA256) from ``OPENMIRA_WEBHOOK_SECRET_KEY`` or, by default, from a
random server secret created once in the database (:mod:`openmira.auth.server_secrets`), so every
server process can decrypt what another encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session, sessionmaker

from openmira.auth.server_secrets import ensure_secret, load_or_create_secret

DB_SECRET_NAME = "webhook-encryption"
SECRET_PREFIX = "whsec_"


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-OpenMira-Signature`` value: ``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class SecretBox:
    """Encrypts and decrypts signing secrets; the key material is loaded on first use."""

    def __init__(self, material: Callable[[], str]) -> None:
        self._material = material
        self._fernet: Fernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, sessions: sessionmaker[Session], configured: str | None) -> SecretBox:
        """The server's box: the configured key, or the one every process reads from the database."""
        return cls(lambda: configured or load_or_create_secret(sessions, DB_SECRET_NAME))

    @classmethod
    def in_transaction(cls, session: Session, configured: str | None) -> SecretBox:
        """The same key, read (or created) inside ``session``'s own transaction (seeding)."""
        return cls(lambda: configured or ensure_secret(session, DB_SECRET_NAME))

    def _key(self) -> Fernet:
        if self._fernet is None:
            with self._lock:
                if self._fernet is None:
                    derived = HKDF(
                        algorithm=hashes.SHA256(), length=32, salt=None, info=b"openmira webhook secrets"
                    ).derive(self._material().encode())
                    self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        return self._fernet

    def encrypt(self, secret: str) -> str:
        return self._key().encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The secret; ``cryptography.fernet.InvalidToken`` if it was encrypted under another key."""
        return self._key().decrypt(token.encode()).decode()
