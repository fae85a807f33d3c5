"""The findings list (contract section 5): one page of a scope's findings, filtered, ordered, with an exact
``total_items``.

A request is first *planned* (its filters, order and page parsed and checked: every 400 comes from here),
then *run*. Statements are built once per shape (number of accounts, which filters with which operators,
the order) and reused with the request's values bound by name: building and hashing a statement of this
size costs more than running it on an index, so a shape seen before costs only its execution. The cache is
bounded, so odd shapes cost a build but never memory.

The total comes from the cheapest exact source: the page itself when it is the last one, the counts the
database keeps per organization (``finding_counts``) for an unfiltered list, the counts it keeps per group
of the low-cardinality columns (``finding_group_counts``) for filters on those columns only, and a count of
the matching rows otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fastapi import Request
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from openmira.auth.scope import in_scope
from openmira.core.errors import BadRequest
from openmira.core.paging import OrderSpec, PageRequest, known_total, order_clauses, paged, parse_order
from openmira.db.reads import execute_core
from openmira.db.session import ensure_transaction
from openmira.findings.filters import FIELDS, Clause, FindingFilters, condition, parse_filters
from openmira.findings.models import FindingCount, finding_group_counts
from openmira.findings.view import FINDINGS, finding_json, select_findings

DEFAULT_ORDER = "created;desc"
# Sort fields of ``order_by`` and the findings columns they sort by; the finding ID breaks ties.
ORDER_FIELDS: dict[str, str] = {
    "created": "created",
    "modified": "modified",
    "status_modified": "status_modified",
    "matched": "matched",
    "priority": "priority",
    "status": "status",
    "type": "type",
    "category": "category",
    "resolution": "resolution",
    "blocked": "blocked",
    "name": "name",
    "short_id": "short_id",
    "finding_id": "id",
}
_DEFAULT_ORDER = parse_order(None, ORDER_FIELDS, default=DEFAULT_ORDER)

# PostgreSQL runs regex filters under this statement timeout; a query that hits it is a 400.
REGEX_STATEMENT_TIMEOUT_MS = 3000
_PG_INVALID_REGEX = "2201B"
_PG_QUERY_CANCELED = "57014"
_STATEMENT_CACHE_SIZE = 256


def _page_bound(name: str, clauses: tuple[Clause, ...]) -> BindParameter[int]:
    """A page's size, offset or depth: written into the SQL text when there are no filters, else bound.

    PostgreSQL plans a prepared statement again at every execution unless a generic plan (planned once, for
    any parameter values) costs no more than the custom ones; with an unknown LIMIT or OFFSET a generic
    plan is costed as if it read a tenth of the rows, so every list was planned anew: about half of the
    statement's time in the database, and at 1M findings the MSP all-accounts list's p99 (measured, issue
    11). With the numbers in the text, an unfiltered list, whose plan does not depend on the values, gets
    its generic plan after five executions. A filtered one keeps them bound, so it is planned for its
    values every time: a generic plan chosen on common values (a broad status) would then serve a rare one
    too, by the wrong index. Each page size and offset of an unfiltered list is its own statement text (the
    drivers keep the most used ones prepared); the values are the page's validated integers."""
    return bindparam(name) if clauses else bindparam(name, type_=Integer(), literal_execute=True)


_COUNTS: Table = FindingCount.__table__  # type: ignore[assignment]
# Filters on only these columns get their total from ``finding_group_counts``.
GROUP_FIELDS = frozenset({"status", "priority", "type", "category", "blocked", "resolution"})


@dataclass(frozen=True)
class ListQuery:
    """A checked list request: what to read, ready to run."""

    org_ids: tuple[uuid.UUID, ...]
    filters: FindingFilters
    order: OrderSpec
    page: PageRequest
    dialect: str

    @property
    def scans(self) -> bool:
        """Whether the query may read many rows (text matching inside names, which no index serves)."""
        return self.filters.scans


def plan(
    request: Request, page: PageRequest, org_ids: Iterable[uuid.UUID], order_by: str | None, dialect: str
) -> ListQuery:
    filters = parse_filters(request.query_params.multi_items(), dialect)
    order = parse_order(order_by, ORDER_FIELDS, default=DEFAULT_ORDER)
    return ListQuery(tuple(sorted(org_ids)), filters, order, page, dialect)


def run(session: Session, request: Request, query: ListQuery) -> dict[str, Any]:
    """The list envelope of ``query``'s page."""
    page, filters = query.page, query.filters
    accounts = len(query.org_ids)
    values: dict[str, Any] = {
        **filters.values,
        **{f"org_{i}": org for i, org in enumerate(query.org_ids)},
        "limit": page.size,
        "offset": page.offset,
        "depth": page.offset + page.size,
        "org_ids": list(query.org_ids),
    }
    if filters.regex_params and query.dialect == "postgresql":
        ensure_transaction(session)  # SET LOCAL lasts until the transaction's end, and does nothing without one
        session.connection().execute(text(f"SET LOCAL statement_timeout = {REGEX_STATEMENT_TIMEOUT_MS}"))
    try:
        rows = execute_core(session, _page_statement(accounts, filters.clauses, query.order), values).all()
        total = known_total(page, len(rows))
        if total is None:
            carried = rows and _counts_kept(filters.clauses)  # read with the page (see _page_statement)
            total = int(rows[0][-1]) if carried else _count(session, accounts, filters.clauses, values)
    except DBAPIError as exc:
        raise _regex_failure(exc, filters) from None
    return paged(request, page, [finding_json(row) for row in rows], total)


def _count(session: Session, accounts: int, clauses: tuple[Clause, ...], values: dict[str, Any]) -> int:
    return int(execute_core(session, _count_statement(accounts, clauses), values).scalar_one() or 0)


def _columns(source: FromClause) -> dict[str, ColumnElement[Any]]:
    return {name: source.c[key] for name, key in ORDER_FIELDS.items()}


@lru_cache(maxsize=_STATEMENT_CACHE_SIZE)
def _page_statement(accounts: int, clauses: tuple[Clause, ...], order: OrderSpec) -> Select[Any]:
    if accounts == 1:
        source: FromClause = FINDINGS
        where = [
            FINDINGS.c.org_id == bindparam("org_0"), *_filtered(clauses, FINDINGS), *_in_default_order(clauses, order),
        ]
    else:
        source, where = _merged_accounts(accounts, clauses, order), []
    stmt = (
        select_findings(source)
        .where(*where)
        .order_by(*order_clauses(order, _columns(source), source.c.id))
        .limit(_page_bound("limit", clauses))
        .offset(_page_bound("offset", clauses))
    )
    kept = _kept_total(accounts, clauses)
    # A total the database keeps costs a few rows: read it with the page, one statement instead of two.
    return stmt if kept is None else stmt.add_columns(kept.scalar_subquery().label("total_items"))


def _in_default_order(clauses: tuple[Clause, ...], order: OrderSpec) -> list[ColumnElement[bool]]:
    """For an unfiltered list in the default order, the condition (true of every finding) that lets the database
    read the index made for it (``ix_findings_org_created_desc``, migration 0013): the page in index order, no
    sort of its ties. Stated by no other statement, so that no filtered list reads that index instead of its
    filter's (a status with no match took 100 times longer through a full one; decisions.md, round 15)."""
    return [FINDINGS.c.created.is_not(None)] if not clauses and order == _DEFAULT_ORDER else []


def _filtered(clauses: tuple[Clause, ...], source: FromClause) -> list[ColumnElement[bool]]:
    where = condition(clauses, source.c)
    return [] if where is None else [where]


def _merged_accounts(accounts: int, clauses: tuple[Clause, ...], order: OrderSpec) -> FromClause:
    """Several accounts' findings (the MSP all-accounts list) as a merge of each account's leading rows.

    ``org_id IN (...) ORDER BY created DESC`` cannot walk one index in order, so the database would read
    every row of every account to keep the top of the page. The page's rows are among each account's
    first ``offset + size`` rows (``depth``) in the same order, and each of those is one index range
    (``ix_findings_org_*``): the page costs accounts x (offset + size) rows instead of all of them.
    """
    leading = [
        select(
            select(FINDINGS)
            .where(
                FINDINGS.c.org_id == bindparam(f"org_{i}"),
                *_filtered(clauses, FINDINGS),
                *_in_default_order(clauses, order),
            )
            .order_by(*order_clauses(order, _columns(FINDINGS), FINDINGS.c.id))
            .limit(_page_bound("depth", clauses))
            .subquery()
        )
        for i in range(accounts)
    ]
    return union_all(*leading).subquery("merged")


@lru_cache(maxsize=_STATEMENT_CACHE_SIZE)
def _counts_kept(clauses: tuple[Clause, ...]) -> bool:
    """Whether the database keeps the total of these filters: none (``finding_counts``, migration 0004), or
    only the low-cardinality columns (``finding_group_counts``, migration 0010), both exact by triggers."""
    return {FIELDS[field].column for field, _, _ in clauses} <= GROUP_FIELDS


def _kept_total(accounts: int, clauses: tuple[Clause, ...]) -> Select[Any] | None:
    if not clauses:
        return select(func.coalesce(func.sum(_COUNTS.c.total), 0)).where(in_scope(_COUNTS.c.org_id, accounts == 1))
    if _counts_kept(clauses):
        # The same filters over the per-group counts: the tables share the column names and meanings.
        groups = finding_group_counts
        return select(func.coalesce(func.sum(groups.c.total), 0)).where(
            in_scope(groups.c.org_id, accounts == 1), *_filtered(clauses, groups)
        )
    return None


@lru_cache(maxsize=_STATEMENT_CACHE_SIZE)
def _count_statement(accounts: int, clauses: tuple[Clause, ...]) -> Select[Any]:
    kept = _kept_total(accounts, clauses)
    if kept is not None:
        return kept
    where = [in_scope(FINDINGS.c.org_id, accounts == 1), *_filtered(clauses, FINDINGS)]
    return select(func.count()).select_from(FINDINGS).where(*where)


def _regex_failure(exc: DBAPIError, filters: FindingFilters) -> Exception:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    reasons = {
        _PG_INVALID_REGEX: "the database cannot run this regular expression",
        _PG_QUERY_CANCELED: "the regular expression is too costly to run",
    }
    if not filters.regex_params or sqlstate not in reasons:
        return exc
    reason = reasons[sqlstate]
    names = ", ".join(filters.regex_params)
    invalid = [{"name": n, "in": "query", "reason": reason} for n in filters.regex_params]
    return BadRequest(f"{names}: {reason}", invalid_params=invalid)
