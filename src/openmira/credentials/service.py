"""Key pairs: generate, list, rotate, delete, and check a client's secret (contract section 1)."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openmira.config import MAX_RATE_LIMIT
from openmira.core.errors import BadRequest, NotFound
from openmira.core.random_ids import letters_and_digits
from openmira.core.text import KEY_PAIR_LABEL_MAX, stored_text
from openmira.credentials.models import AccessLevel, KeyPair
from openmira.db.reads import CoreRow, execute_core
from openmira.db.session import Reader
from openmira.orgs.service import get_org
from openmira.users.models import Role, User, UserRole

# Compared against when a client ID is unknown, so both failures cost the same.
_DUMMY_HASH = "sha256$" + hashlib.sha256(b"openmira-unknown-client").hexdigest()


@dataclass(frozen=True)
class IssuedKeyPair:
    """A key pair with its secret in clear: exists only long enough to be shown once."""

    pair: KeyPair
    client_secret: str


def new_client_id() -> str:
    return letters_and_digits(32)


def new_client_secret() -> str:
    return secrets.token_urlsafe(48)  # 64 URL-safe characters


def hash_secret(secret: str) -> str:
    # The secrets are 384 random bits, so a fast hash is as safe as a slow one and keeps the token
    # endpoint fast; a password hash would only add latency.
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())


def _default_attribution(session: Session, org_id: uuid.UUID) -> uuid.UUID | None:
    """Without an explicit creator, API writes are attributed to the organization's first administrator."""
    return session.scalar(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.org_id == org_id, UserRole.role_id == Role.ADMINISTRATOR)
        .order_by(User.created, User.id)
        .limit(1)
    )


def create_key_pair(
    session: Session,
    org_id: uuid.UUID,
    *,
    label: str = "",
    access: AccessLevel = AccessLevel.READ_WRITE,
    created_by: uuid.UUID | None = None,
    rate_limit: int | None = None,
) -> IssuedKeyPair:
    get_org(session, org_id)
    _check_rate_limit(rate_limit)
    label = stored_text("label", label, KEY_PAIR_LABEL_MAX)
    if created_by is not None:
        creator = session.get(User, created_by)
        if creator is None or creator.org_id != org_id:
            raise BadRequest.param("created_by", "must be a user of the organization", "body")
    secret = new_client_secret()
    pair = KeyPair(
        client_id=new_client_id(),
        org_id=org_id,
        label=label,
        access=AccessLevel(access).value,
        secret_hash=hash_secret(secret),
        created_by=created_by or _default_attribution(session, org_id),
        rate_limit=rate_limit,
    )
    session.add(pair)
    session.flush()
    return IssuedKeyPair(pair, secret)


def list_key_pairs(session: Session, org_id: uuid.UUID) -> list[KeyPair]:
    get_org(session, org_id)
    return list(
        session.scalars(select(KeyPair).where(KeyPair.org_id == org_id).order_by(KeyPair.created, KeyPair.client_id))
    )


def get_key_pair(session: Session, client_id: str, org_id: uuid.UUID | None = None) -> KeyPair:
    pair = session.get(KeyPair, client_id)
    if pair is None or (org_id is not None and pair.org_id != org_id):
        raise NotFound(f"no key pair with Client ID {client_id}")
    return pair


def _check_rate_limit(rate_limit: int | None) -> None:
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise BadRequest.param("rate_limit", f"requests per second, 1 to {MAX_RATE_LIMIT}", "body")


def set_rate_limit(
    session: Session, client_id: str, rate_limit: int | None, org_id: uuid.UUID | None = None
) -> KeyPair:
    """The pair's own requests-per-second limit; ``None`` returns it to the deployment's limit for its kind.

    Every process sees the change within the credential cache's TTL, as it sees a rotation.
    """
    _check_rate_limit(rate_limit)
    pair = get_key_pair(session, client_id, org_id)
    pair.rate_limit = rate_limit
    session.flush()
    return pair


def _revoke_issued_tokens(pair: KeyPair) -> None:
    # Tokens carry whole-second ``iat``; anything issued up to this instant is now revoked. Two rotations
    # in one second share that bound, so the generation (carried by every token since) tells them apart.
    pair.tokens_valid_after = math.ceil(time.time())
    pair.generation = (pair.generation or 0) + 1


def rotate_key_pair(session: Session, client_id: str, org_id: uuid.UUID | None = None) -> IssuedKeyPair:
    pair = get_key_pair(session, client_id, org_id)
    secret = new_client_secret()
    pair.secret_hash = hash_secret(secret)
    _revoke_issued_tokens(pair)
    session.flush()
    return IssuedKeyPair(pair, secret)


def delete_key_pair(session: Session, client_id: str, org_id: uuid.UUID | None = None) -> KeyPair:
    pair = get_key_pair(session, client_id, org_id)
    session.delete(pair)
    session.flush()
    return pair


# Built once: the token endpoint runs it for every grant. The table's columns, not the entity: loading an
# entity cost more than half of a grant's database work (measured, issue 11).
_GRANT = select(KeyPair.__table__).where(KeyPair.__table__.c.client_id == bindparam("client_id"))


def authenticate_client(db: Reader, client_id: str, client_secret: str) -> CoreRow | None:
    """The pair's stored columns if the secret is right; None for an unknown ID or a wrong secret alike."""
    pair = execute_core(db, _GRANT, {"client_id": client_id}).first() if len(client_id) <= 64 else None
    matches = secret_matches(client_secret, pair.secret_hash if pair else _DUMMY_HASH)
    return pair if pair is not None and matches else None
