"""Users of an organization."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest, Conflict, NotFound
from openmira.core.text import PERSON_NAME_MAX, stored_text
from openmira.orgs.models import Organization
from openmira.orgs.service import get_org
from openmira.users.models import Role, User, UserRole
from openmira.users.passwords import MIN_PASSWORD_LENGTH, hash_password

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest.param("password", f"must be at least {MIN_PASSWORD_LENGTH} characters", "body")


def create_user(
    session: Session,
    org_id: uuid.UUID,
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    roles: Iterable[Role] = (Role.ANALYST,),
    password: str | None = None,
    user_id: uuid.UUID | None = None,
) -> User:
    get_org(session, org_id)
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 320:
        raise BadRequest.param("email", "must be an email address", "body")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists")
    if password is not None:
        _check_password(password)
    user = User(
        id=user_id or uuid.uuid4(),
        org_id=org_id,
        email=email,
        first_name=stored_text("first_name", first_name, PERSON_NAME_MAX),
        last_name=stored_text("last_name", last_name, PERSON_NAME_MAX),
        password_hash=hash_password(password) if password else None,
        roles=[UserRole(role_id=int(r)) for r in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    return user


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def set_password(session: Session, email: str, password: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user with email {normalize_email(email)}")
    _check_password(password)
    user.password_hash = hash_password(password)
    session.flush()
    return user


def find_user(session: Session, ref: str) -> User:
    """A user by email address or by ID (what an operator has at hand)."""
    user: User | None
    if "@" in ref:
        user = get_user_by_email(session, ref)
    else:
        try:
            user = session.get(User, uuid.UUID(ref))
        except ValueError:
            raise BadRequest.param("user", "must be an email address or a user ID", "path") from None
    if user is None:
        raise NotFound(f"no user {ref.strip().lower()}")
    return user


def get_org_user(session: Session, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """A user of ``org_id``; a user of any other organization is as unknown as one that does not exist."""
    user = session.get(User, user_id)
    if user is None or user.org_id != org_id:
        raise NotFound(f"no user {user_id}")
    return user


def _keep_an_admin(session: Session, user: User, *, admin_after: bool) -> None:
    """Refuse a change that would leave the user's organization without an enabled administrator.

    The organization's row is locked first (PostgreSQL), so two administrators demoting each other at the
    same moment cannot both see the other as the one who remains.
    """
    if admin_after or user.disabled or Role.ADMINISTRATOR not in user.role_ids:
        return
    session.execute(select(Organization.id).where(Organization.id == user.org_id).with_for_update())
    others = session.scalar(
        select(func.count()).select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.org_id == user.org_id, User.id != user.id, User.disabled.is_(False),
               UserRole.role_id == int(Role.ADMINISTRATOR))
    )
    if not others:
        raise Conflict(f"cannot disable or demote {user.email}: the organization's last enabled administrator; "
                       "make another user an administrator first")


def set_disabled(session: Session, user: User, disabled: bool, *, keep_an_admin: bool = False) -> User:
    """Disable (their console sessions end at once) or re-enable ``user``.

    ``keep_an_admin`` refuses to disable the organization's last enabled administrator (the console, where
    that administrator would lock the organization out); the operator's CLI may, e.g. for a compromised
    account.
    """
    if disabled and keep_an_admin:
        _keep_an_admin(session, user, admin_after=False)
    if disabled:
        # Their console sessions end now, rather than pause: enabling the user again revives none of them.
        # (Imported here: the console package imports this module.)
        from openmira.console.models import ConsoleSession

        session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    user.disabled = disabled
    session.flush()
    return user


def set_roles(session: Session, user: User, roles: Iterable[Role], *, keep_an_admin: bool = False) -> User:
    """Replace ``user``'s roles (at least one); ``keep_an_admin`` as for ``set_disabled``."""
    wanted = sorted({Role(r) for r in roles})
    if not wanted:
        raise BadRequest.param("roles", "choose at least one role", "body")
    if keep_an_admin:
        _keep_an_admin(session, user, admin_after=Role.ADMINISTRATOR in wanted)
    kept = {r.role_id: r for r in user.roles}  # a role kept is not deleted and inserted again
    user.roles = [kept.get(int(r)) or UserRole(role_id=int(r)) for r in wanted]
    session.flush()
    return user


def generate_password() -> str:
    """A password for a person to type once and then keep in a password manager: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)


def reset_password(session: Session, user: User) -> str:
    """Give ``user`` a new generated password (their console sessions end); returns it, to be shown once."""
    password = generate_password()
    user.password_hash = hash_password(password)
    session.flush()
    return password


def delete_user(session: Session, user: User) -> None:
    """Delete ``user``; their comments stay (sender cleared), their finding ownerships go."""
    session.delete(user)
    session.flush()


def users_query(org_ids: Iterable[uuid.UUID]) -> Select[tuple[User]]:
    return select(User).where(User.org_id.in_(list(org_ids)))


def list_users(session: Session, org_id: uuid.UUID) -> list[User]:
    get_org(session, org_id)
    return list(session.scalars(users_query([org_id]).order_by(User.email, User.id)))


def count_users(session: Session, org_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.org_id == org_id)) or 0
