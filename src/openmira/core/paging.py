"""Paging (``page``, ``page_size``, ``limit``), ordering (``order_by``) and exact ``links``."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_plus

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from openmira.core.errors import BadRequest
from openmira.core.request_local import read_query, request_local

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_LIMIT = 5000
MAX_PAGE = 1_000_000


class PageRequest(BaseModel):
    """A page of a list, from the query parameters ``page``, ``page_size`` and ``limit``.

    The route reads it as one query model (:func:`page_request`): the three parameters in one pass, validated
    at once. The document lists the same three parameters. Other query parameters (a list's filters) are
    left to the route, which reads them from the request."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number.")
    page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE, description="Items per page (default 50).")
    limit: int | None = Field(
        None, ge=1, le=MAX_LIMIT, description="Most records to return; the page size when page_size is absent."
    )

    @classmethod
    def of(cls, page: int, size: int) -> PageRequest:
        """A page the server chose (not read from a request's query)."""
        return cls(page=page, page_size=size)

    @property
    def size(self) -> int:
        return min((s for s in (self.page_size, self.limit) if s is not None), default=DEFAULT_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@request_local(query=PageRequest)
async def page_request(request: Request) -> PageRequest:
    """The page, read by the route itself (``core.request_local``): FastAPI's solving of the three query
    parameters was a tenth of a findings page's CPU (issue 11). The route documents them as before, and a 400
    lists a paging error before the route's others, as it always has."""
    return read_query(PageRequest, request)


Paging = Annotated[PageRequest, Depends(page_request)]


# A parsed ``order_by``: (field, descending) pairs, hashable so statements can be built once per ordering.
OrderSpec = tuple[tuple[str, bool], ...]


def parse_order(value: str | None, allowed: Collection[str], *, default: str) -> OrderSpec:
    """``field[;asc|desc][,field2[;dir]...]`` into (field, descending) pairs; a 400 names what is wrong."""
    spec = value if value not in (None, "") else default
    pairs: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for part in spec.split(","):
        field, _, direction = part.strip(" ").partition(";")
        field, direction = field.strip(" "), (direction.strip(" ").lower() or "asc")
        if field not in allowed:
            raise BadRequest.param("order_by", f"unknown sort field {field!r}; allowed: {', '.join(sorted(allowed))}")
        if direction not in ("asc", "desc"):
            raise BadRequest.param("order_by", f"unknown direction {direction!r} for {field!r}; use asc or desc")
        if field not in seen:
            seen.add(field)
            pairs.append((field, direction == "desc"))
    return tuple(pairs)


def order_clauses(
    spec: OrderSpec, columns: Mapping[str, ColumnElement[Any]], tie_break: ColumnElement[Any]
) -> list[ColumnElement[Any]]:
    """ORDER BY clauses for ``spec``, always ending on a unique key."""
    clauses = [columns[field].desc() if descending else columns[field].asc() for field, descending in spec]
    return [*clauses, tie_break.asc()]


def parse_order_by(
    value: str | None,
    columns: Mapping[str, ColumnElement[Any]],
    *,
    default: str,
    tie_break: ColumnElement[Any],
) -> list[ColumnElement[Any]]:
    """``field[;asc|desc][,field2[;dir]...]`` into ORDER BY clauses, always ending on a unique key."""
    return order_clauses(parse_order(value, columns, default=default), columns, tie_break)


def order_by_pattern(columns: Iterable[str]) -> str:
    """The pattern of the ``order_by`` values ``parse_order_by`` accepts over ``columns``, for the document."""
    fields = "|".join(re.escape(c) for c in sorted(columns, key=lambda c: (-len(c), c)))
    item = f" *(?:{fields}) *(?:; *(?:[Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])? *)?"
    return f"^(?:{item}(?:,{item})*)?$"


def order_by_query(columns: Iterable[str], default: str, note: str = "") -> Any:
    """The ``order_by`` query parameter over ``columns``: described, with the pattern of what is accepted.

    The pattern is documentation only: ``parse_order_by`` checks the value and names the allowed fields.
    """
    columns = sorted(columns)
    return Query(
        description=(
            f"`field[;asc|desc][,field2[;dir]...]`, default `{default}`{note}. Fields: {', '.join(columns)}."
        ),
        json_schema_extra={"pattern": order_by_pattern(columns)},
    )


def _with_page(path: str, query: str, page: int) -> str:
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) != "page"]
    return f"{path}?{'&'.join([*kept, f'page={page}'])}"


def page_links(request: Request, page: int, total_pages: int) -> dict[str, str | None]:
    path, query = request.url.path, request.url.query
    return {
        "self": f"{path}?{query}" if query else path,
        "next": _with_page(path, query, page + 1) if page < total_pages else None,
        "prev": _with_page(path, query, min(page - 1, total_pages)) if page > 1 and total_pages else None,
    }


def paged(
    request: Request,
    page: PageRequest,
    items: Sequence[Any],
    total: int,
) -> dict[str, Any]:
    total_pages = -(-total // page.size)
    return {
        "status": "OK",
        "data": list(items),
        "meta": {"page": page.page, "page_size": page.size, "total_items": total, "total_pages": total_pages},
        "links": page_links(request, page.page, total_pages),
    }


def paginate(
    session: Session,
    request: Request,
    page: PageRequest,
    stmt: Select[Any],
    order: Sequence[ColumnElement[Any]],
    serialize: Callable[[Any], T],
    count: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Run ``stmt`` for one page, count its rows, and build the list envelope.

    ``serialize`` gets each row's first column (an ORM entity).
    A page that is neither full nor past the end is the last one, so the total is exact without
    counting; otherwise the rows are counted (a scan of the scope's rows, the costly part at scale),
    unless the caller knows a cheaper exact ``count``.
    """
    rows: Sequence[Any] = session.scalars(stmt.order_by(*order).offset(page.offset).limit(page.size)).all()
    total = known_total(page, len(rows))
    if total is None:
        total = count() if count is not None else (
            session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        )
    return paged(request, page, [serialize(r) for r in rows], total)


def known_total(page: PageRequest, fetched: int) -> int | None:
    """The total when the page itself tells it (no count needed): a page that is neither full nor past the
    end is the last one."""
    if 0 < fetched < page.size or (fetched == 0 and page.offset == 0):
        return page.offset + fetched
    return None
