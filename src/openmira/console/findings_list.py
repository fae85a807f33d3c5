"""The console's findings lists: one organization's, and an MSP's across its accounts.

Both run the API's own list (``findings.listing``: the filter grammar, ``order_by``, the statements and
totals), over the organizations the caller may see, so the console shows what ``/org/findings`` and
``/msp/accounts/findings`` answer for the same query string. The form's fields are filter parameters of
that grammar (``status``, ``priority``, ``type``, ``name.contains``); any other filter of the grammar typed
into the URL applies too and is shown beside the form. A value the grammar refuses is shown as an error,
with no rows: the page never pretends to filter.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.core.paging import MAX_PAGE, OrderSpec, PageRequest, parse_order
from openmira.core.routing import run_read
from openmira.findings import listing
from openmira.findings.filters import FIELDS
from openmira.orgs.models import Organization

PAGE_SIZE = 25
# Filter parameters the form sets itself; other filters of the grammar are carried along as they came.
FORM_FILTERS = ("status", "priority", "type", "name.contains")
# Parameters of the page that are not filters.
ACCOUNT, PAGE, ORDER_BY = "account", "page", "order_by"
# Columns that sort, and the ``order_by`` field of each (the Account column does not: the API cannot).
SORTABLE = {"id": "short_id", "priority": "priority", "name": "name", "type": "type", "status": "status",
            "created": "created"}
DEFAULT_ORDER = parse_order(None, listing.ORDER_FIELDS, default=listing.DEFAULT_ORDER)


@dataclass(frozen=True)
class FindingList:
    """One page of findings as the API lists them (finding objects), or why the query could not run."""

    params: tuple[tuple[str, str], ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    page: int = 1
    total_items: int = 0
    total_pages: int = 0
    order: OrderSpec = DEFAULT_ORDER
    error: str = ""

    def value(self, name: str) -> str:
        """The value of a parameter as sent (the last one if repeated), or ''."""
        return next((v for k, v in reversed(self.params) if k == name), "")

    def href(self, **changes: str | None) -> str:
        """This list's query string with ``changes`` (None drops a parameter)."""
        kept = [(k, v) for k, v in self.params if k not in changes]
        kept += [(k, v) for k, v in changes.items() if v is not None]
        # ``;`` and ``,`` stay readable in the address bar (order_by=name;asc, status.in=10,20).
        return "?" + urlencode(kept, safe=";,") if kept else "?"

    @property
    def clear_href(self) -> str:
        """No filters, the same order."""
        order_by = self.value(ORDER_BY)
        return "?" + urlencode([(ORDER_BY, order_by)], safe=";,") if order_by else "?"

    def page_href(self, page: int) -> str:
        return self.href(page=str(page))

    def sort_state(self, column: str) -> str | None:
        """``ascending`` / ``descending`` when the list is sorted by this column first (for aria-sort)."""
        first_field, descending = self.order[0]
        if first_field != SORTABLE[column]:
            return None
        return "descending" if descending else "ascending"

    def sort_href(self, column: str) -> str:
        """The list sorted by this column: ascending first, the other way when it already sorts by it."""
        direction = "desc" if self.sort_state(column) == "ascending" else "asc"
        return self.href(order_by=f"{SORTABLE[column]};{direction}", page=None)

    @property
    def other_filters(self) -> list[tuple[str, str]]:
        """Filters of the grammar in the URL that the form does not show (``status.in=10,20``)."""
        return [(k, v) for k, v in self.params if k.partition(".")[0] in FIELDS and k not in FORM_FILTERS]


def without_empty(request: Request) -> str | None:
    """The page's address without empty parameters, when it has any (a form's "Any" and an empty search),
    so the address says only what filters, and the grammar never sees an empty value it would refuse."""
    items = request.query_params.multi_items()
    kept = [(k, v) for k, v in items if v != ""]
    if len(kept) == len(items):
        return None
    return request.url.path + ("?" + urlencode(kept, safe=";,") if kept else "")


def _page_number(raw: str | None) -> int:
    if raw is None:
        return 1
    # The length check first: int() of thousands of digits is refused (and slow) before any range test.
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_PAGE)) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest.param(PAGE, f"must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def _narrowed(org_ids: Collection[uuid.UUID], account: str | None) -> Collection[uuid.UUID]:
    if account is None:
        return org_ids
    try:
        chosen = uuid.UUID(account)
    except ValueError:
        chosen = None
    if chosen not in org_ids:
        raise BadRequest.param(ACCOUNT, "is not one of the accounts listed here")
    return {chosen}


async def list_findings(
    db: Session, request: Request, org_ids: Collection[uuid.UUID], *, accounts: bool = False
) -> FindingList:
    """One page of the findings of ``org_ids`` (narrowed to the ``account`` parameter with ``accounts``),
    filtered and sorted by the query string through the API's grammar."""
    params = tuple(request.query_params.multi_items())
    order_by = request.query_params.get(ORDER_BY)
    try:
        order = parse_order(order_by, listing.ORDER_FIELDS, default=listing.DEFAULT_ORDER)
    except BadRequest as exc:
        return FindingList(params, error=exc.detail)
    try:
        page = PageRequest.of(_page_number(request.query_params.get(PAGE)), PAGE_SIZE)
        scope = _narrowed(org_ids, request.query_params.get(ACCOUNT) if accounts else None)
        if not scope:
            return FindingList(params, page=page.page, order=order)
        query = listing.plan(request, page, scope, order_by, db.get_bind().dialect.name)
        # Matching text inside names reads every row of the scope: off the event loop, as in the API.
        envelope = await run_read(db, lambda: listing.run(db, request, query), long=query.scans)
    except BadRequest as exc:
        return FindingList(params, order=order, error=exc.detail)
    meta = envelope["meta"]
    return FindingList(params, envelope["data"], meta["page"], meta["total_items"], meta["total_pages"], order)


def accounts_named(db: Session, ids: Collection[uuid.UUID]) -> list[Organization]:
    """The accounts of an MSP's all-accounts list, by name (for the Account filter)."""
    if not ids:
        return []
    return list(db.scalars(select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)))
