"""Users of an organization, with their roles."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openmira.db.base import Base, Timestamped


class Role(enum.IntEnum):
    ADMINISTRATOR = 10
    MANAGER = 20
    ANALYST = 30
    RESPONDER = 40

    @property
    def label(self) -> str:
        return self.name.lower()


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # Unique across the server: it is the console sign-in name.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A disabled user cannot sign in to the console (their sessions end), but stays the author of what
    # they did: comments, owners and key-pair attribution are kept.
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())

    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role_id"
    )

    @property
    def role_ids(self) -> list[int]:
        return [r.role_id for r in self.roles]


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(Integer, primary_key=True)
