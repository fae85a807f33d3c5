"""The response envelopes every success uses (contract section 4)."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Meta(BaseModel):
    page: int
    page_size: int
    total_items: int
    total_pages: int


class Links(BaseModel):
    self: str
    next: str | None
    prev: str | None


class Envelope(BaseModel, Generic[T]):
    status: Literal["OK"]
    data: T


class ListEnvelope(BaseModel, Generic[T]):
    status: Literal["OK"]
    data: list[T]
    meta: Meta
    links: Links


class Problem(BaseModel):
    """RFC 7807 problem document; validation errors add ``invalid_params``."""

    type: str
    title: str
    status: int
    detail: str
    invalid_params: list[dict[str, str]] | None = None


def ok(data: object) -> dict[str, object]:
    return {"status": "OK", "data": data}
