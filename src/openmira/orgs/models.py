"""Organizations: regular organizations, MSPs, and MSP sub-accounts."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openmira.db.base import Base, Timestamped


class OrgKind(enum.StrEnum):
    ORG = "org"
    MSP = "msp"


class License(enum.StrEnum):
    """Sub-account licenses. FREE accounts are left out of MSP all-accounts findings."""

    FREE = "FREE"
    M365 = "M365"
    SIEM_STARTER = "SIEM_STARTER"
    ADVANCED = "ADVANCED"


class Organization(Timestamped, Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8), default=OrgKind.ORG)
    # Set on an MSP's sub-accounts; the MSP itself and standalone organizations have none.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    license: Mapped[str] = mapped_column(String(32), default=License.ADVANCED)
    agent_seat_count: Mapped[int] = mapped_column(default=100)

    @property
    def is_msp(self) -> bool:
        return self.kind == OrgKind.MSP
