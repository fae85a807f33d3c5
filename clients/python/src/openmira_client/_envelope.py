"""The API's success envelopes, generic over the item model."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from openmira_client._base_model import BaseModel
from openmira_client._models import Links, Meta

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    status: str
    data: T


class ListResponse(BaseModel, Generic[T]):
    """One page: ``data`` (the items), ``meta`` (page, page_size, total_items, total_pages), ``links``."""

    status: str
    data: list[T]
    meta: Meta
    links: Links

    @property
    def has_next_page(self) -> bool:
        return self.links.next is not None


class EvidencePage(ListResponse[dict[str, Any]]):
    """A page of evidence rows: flat dicts whose keys are listed in ``evidence_keys``."""

    evidence_keys: list[str]
