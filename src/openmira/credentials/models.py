"""API key pairs (Client ID + hashed Client Secret)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openmira.db.base import Base, utcnow


class AccessLevel(enum.StrEnum):
    READ_WRITE = "rw"
    READ_ONLY = "ro"


class KeyPair(Base):
    __tablename__ = "key_pairs"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    access: Mapped[str] = mapped_column(String(2), default=AccessLevel.READ_WRITE)
    secret_hash: Mapped[str] = mapped_column(String(128))
    # The person API writes made with this pair are attributed to.
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # Tokens whose ``iat`` (whole seconds) is below this were issued before the last rotation.
    tokens_valid_after: Mapped[int] = mapped_column(BigInteger, default=0)
    # Bumped by every rotation and carried in the pair's tokens (claim ``omg``): a token of an earlier
    # generation is refused even when its whole-second ``iat`` equals the rotation's second (issue 13).
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    last_used: Mapped[datetime | None] = mapped_column()
    # Per-pair override of the deployment's requests-per-second limit.
    rate_limit: Mapped[int | None] = mapped_column()
