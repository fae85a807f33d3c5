"""Finding, finding details, comment and evidence shapes (contract section 6), and request bodies."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from openmira.core.envelope import ListEnvelope
from openmira.core.text import COMMENT_BODY_MAX, COMMENT_SUBJECT_MAX, NO_NUL, RESOLUTION_NOTES_MAX
from openmira.core.wire import Timestamp
from openmira.meta.enums import RESOLUTIONS
from openmira.users.schemas import Person


class FindingOut(BaseModel):
    finding_id: uuid.UUID
    short_id: str
    name: str
    analysis: str
    status: int
    status_name: str
    priority: int
    type: int
    type_name: str
    category: int
    blocked: bool
    resolution: int | None
    resolution_name: str | None
    org_id: uuid.UUID
    org_name: str
    created: Timestamp
    modified: Timestamp
    status_modified: Timestamp | None
    matched: Timestamp | None
    modified_by: Person | None
    status_modified_by: Person | None


class Owners(BaseModel):
    responders: list[Person]
    analysts: list[Person]
    managers: list[Person]


class FindingDetails(FindingOut):
    category_name: str
    jurisdiction_name: str
    summary: str
    url: str
    resolution_notes: str | None
    owners: Owners


class CommentOut(BaseModel):
    id: uuid.UUID
    subject: str
    body: str
    age: int = Field(description="Seconds since the comment was posted.")
    sender: Person | None


class EvidenceEnvelope(ListEnvelope[dict[str, Any]]):
    evidence_keys: list[str]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class CommentIn(BaseModel):
    body: str = Field(
        min_length=1, max_length=COMMENT_BODY_MAX, pattern=NO_NUL,
        description=f"HTML, stored as given; at most {COMMENT_BODY_MAX:,} characters, no NUL characters.",
    )
    sender: uuid.UUID = Field(description="The user posting the comment; a user of the finding's organization.")
    subject: str = Field(default="", max_length=COMMENT_SUBJECT_MAX, pattern=NO_NUL)

    _body = field_validator("body")(_not_blank)


class ResolveIn(BaseModel):
    # The enum documents the accepted values; the handler checks them, naming them in its 400.
    resolution: int = Field(
        description="10 Valid, 20 False Positive, 30 No Action Needed, 40 Risk Accepted.",
        json_schema_extra={"enum": sorted(RESOLUTIONS)},
    )
    resolution_notes: str | None = Field(
        default=None, max_length=RESOLUTION_NOTES_MAX, pattern=NO_NUL,
        description=f"At most {RESOLUTION_NOTES_MAX:,} characters, no NUL characters.",
    )


OwnerType = Literal["responder", "analyst", "manager"]


class AssignIn(BaseModel):
    owner_type: OwnerType
    owners: list[uuid.UUID] = Field(max_length=200, description="Replaces this owner type's list; [] clears it.")
