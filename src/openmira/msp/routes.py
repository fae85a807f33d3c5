"""MSP accounts: ``GET /msp/accounts`` and ``GET /msp/accounts/{account_id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from openmira.auth.scope import Scoped, msp_account_scope, msp_accounts_scope
from openmira.core.envelope import Envelope, ListEnvelope
from openmira.core.paging import Paging, order_by_query, paged, parse_order_by
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.msp.schemas import AccountDetailOut, AccountOut
from openmira.msp.service import account_detail, account_items, accounts_query
from openmira.orgs.models import Organization

SORTABLE = {"name": Organization.name, "created": Organization.created}

accounts_router = APIRouter(route_class=TransactionalRoute, tags=["msp"], dependencies=[Depends(msp_accounts_scope)])
account_router = APIRouter(route_class=TransactionalRoute, tags=["msp"], dependencies=[Depends(msp_account_scope)])


@accounts_router.get("/msp/accounts", response_model=ListEnvelope[AccountOut], summary="List the MSP's sub-accounts")
def get_accounts(
    request: Request,
    session: DbSession,
    scope: Scoped,
    page: Paging,
    order_by: Annotated[str | None, order_by_query(SORTABLE, "name;asc")] = None,
) -> dict[str, Any]:
    order = parse_order_by(order_by, SORTABLE, default="name;asc", tie_break=Organization.id)
    stmt = accounts_query(scope)
    total = len(scope.org_ids)
    accounts = session.scalars(stmt.order_by(*order).offset(page.offset).limit(page.size)).all()
    return paged(request, page, account_items(session, accounts), total)


@account_router.get(
    "/msp/accounts/{account_id}", response_model=Envelope[AccountDetailOut], summary="Get one sub-account"
)
def get_account(session: DbSession, scope: Scoped) -> dict[str, Any]:
    account = session.get(Organization, next(iter(scope.org_ids)))
    assert account is not None  # the scope dependency has just found it
    return {"status": "OK", "data": account_detail(session, account)}
