"""Webhook endpoint and delivery shapes, and the endpoint body of POST and PUT."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from openmira.core.text import NO_NUL, WEBHOOK_DESCRIPTION_MAX
from openmira.core.wire import Timestamp
from openmira.webhooks.addresses import URL_MAX_LENGTH, URL_PATTERN, url_problem
from openmira.webhooks.events import EVENTS

DeliveryState = Literal["pending", "succeeded", "failed"]


class WebhookIn(BaseModel):
    """The whole endpoint: PUT replaces every field, and an omitted optional field takes its default."""

    url: str = Field(
        description=(
            "Where deliveries are POSTed: http or https, no user name or password. Its host must be allowed by "
            "the server's `OPENMIRA_WEBHOOK_ALLOWED_HOSTS`, else 400."
        ),
        max_length=URL_MAX_LENGTH,
        json_schema_extra={"pattern": URL_PATTERN},
    )
    description: str = Field(default="", max_length=WEBHOOK_DESCRIPTION_MAX, pattern=NO_NUL)
    events: list[str] = Field(
        min_length=1,
        max_length=len(EVENTS),
        description="The events to receive: " + ", ".join(f"`{e}`" for e in EVENTS) + ". Repeats are ignored.",
        json_schema_extra={"items": {"type": "string", "enum": list(EVENTS)}},
    )
    enabled: bool = Field(default=True, strict=True)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in EVENTS]
        if unknown:
            raise ValueError(f"unknown events {', '.join(map(repr, unknown))}; known: {', '.join(EVENTS)}")
        return list(dict.fromkeys(value))


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    enabled: bool
    created: Timestamp
    modified: Timestamp


class WebhookWithSecret(WebhookOut):
    secret: str = Field(
        description="The signing secret. Shown only here: on creation and on rotation. Keep it safe."
    )


class DeliveryOut(BaseModel):
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    event: str
    status: DeliveryState
    attempts: int
    response_status: int | None = Field(description="The HTTP status of the last attempt; null if none answered.")
    error: str | None = Field(description="Why the last attempt failed, when it did.")
    created: Timestamp
    last_attempt: Timestamp | None
    next_attempt: Timestamp | None = Field(description="When the next attempt is due; null once final.")


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any] = Field(description="The JSON body sent: `{id, event, created, org_id, data}`.")
