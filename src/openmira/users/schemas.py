from __future__ import annotations

import uuid

from pydantic import BaseModel

from openmira.users.models import Role, User


class OrgRole(BaseModel):
    role_id: int
    role_name: str


class Person(BaseModel):
    """A user as it appears inside other resources (owners, comment senders, modified_by)."""

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str


class UserOut(Person):
    org_roles: list[OrgRole]


def person(user: User | None) -> Person | None:
    if user is None:
        return None
    return Person(id=user.id, email=user.email, first_name=user.first_name, last_name=user.last_name)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        org_roles=[OrgRole(role_id=r, role_name=Role(r).label) for r in user.role_ids],
    )
