"""Imports every model module, so ``Base.metadata`` describes the whole schema."""

from openmira.auth.signing import SigningKey
from openmira.credentials.models import KeyPair
from openmira.db.base import Base
from openmira.orgs.models import Organization
from openmira.users.models import User, UserRole

__all__ = ["Base", "KeyPair", "Organization", "SigningKey", "User", "UserRole"]
