"""Tenant scope: the one place where a principal becomes the set of organizations it may touch.

Scopes are async dependencies, each a route's own (its prefix's): ``core.routing`` calls them itself, before
the handler's request-local parameters and the handler, and answers as FastAPI did when it solved them before
everything but the body (see :func:`request_local`). Their one indexed look-up runs where ``core.routing``
runs reads (on the event loop for SQLite; for PostgreSQL, whose round trip must not hold the loop, in a
greenlet on the loop or in a worker thread).

Org routes run with the token's own organization; ``/msp/accounts/{account_id}/...`` with that
account if it is a sub-account of the caller's MSP (else 404, exactly as for an account that does
not exist); ``/msp/accounts/findings`` with every licensed sub-account. Repositories start every
query from ``TenantScope.org_ids`` and never compare organization IDs by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy import ColumnElement, bindparam, or_, select

from openmira.auth.principal import Principal, ReadPrincipal, principal_of
from openmira.core.errors import Forbidden, NotFound
from openmira.core.request_local import request_local
from openmira.core.routing import get_reader, run_query
from openmira.db.reads import execute_core
from openmira.db.session import Reader
from openmira.orgs.models import License, Organization


@dataclass(frozen=True)
class TenantScope:
    principal: Principal
    org_ids: frozenset[uuid.UUID]

    @property
    def single_org(self) -> uuid.UUID | None:
        return next(iter(self.org_ids)) if len(self.org_ids) == 1 else None


def _require_msp(principal: Principal) -> None:
    if not principal.is_msp:
        raise Forbidden("this operation needs an MSP key pair")


@request_local
async def org_scope(request: Request) -> TenantScope:
    principal = principal_of(request)
    scope = TenantScope(principal, frozenset({principal.org_id}))
    request.state.tenant_scope = scope
    return scope


@request_local
async def msp_account_scope(
    request: Request, account_id: Annotated[uuid.UUID, Path(description="A sub-account of the caller's MSP.")]
) -> TenantScope:
    principal = principal_of(request)
    _require_msp(principal)
    db = await get_reader(request)
    values = {"account_id": account_id, "msp_id": principal.org_id}
    found = await run_query(db, lambda: execute_core(db, _ACCOUNT, values).scalar())
    if found is None:
        raise NotFound(f"account {account_id} not found")
    scope = TenantScope(principal, frozenset({found}))
    request.state.tenant_scope = scope
    return scope


# Built once and run with bound values (building a statement costs more than running it).
_ORGS = Organization.__table__
_ACCOUNT = select(_ORGS.c.id).where(_ORGS.c.id == bindparam("account_id"), _ORGS.c.parent_id == bindparam("msp_id"))
_SUB_ACCOUNTS = select(_ORGS.c.id).where(_ORGS.c.parent_id == bindparam("msp_id"))
_LICENSED_SUB_ACCOUNTS = _SUB_ACCOUNTS.where(_ORGS.c.license != License.FREE)


def sub_accounts(db: Reader, msp_id: uuid.UUID, *, licensed_only: bool) -> frozenset[uuid.UUID]:
    """The sub-accounts of ``msp_id`` (only the licensed ones with ``licensed_only``: the all-accounts findings
    leave free accounts out). The API's MSP scopes and the console's all-accounts findings both read it."""
    query = _LICENSED_SUB_ACCOUNTS if licensed_only else _SUB_ACCOUNTS
    return frozenset(execute_core(db, query, {"msp_id": msp_id}).scalars())


async def _sub_accounts(request: Request, *, licensed_only: bool) -> TenantScope:
    principal = principal_of(request)
    _require_msp(principal)
    db = await get_reader(request)
    ids = await run_query(db, lambda: sub_accounts(db, principal.org_id, licensed_only=licensed_only))
    scope = TenantScope(principal, ids)
    request.state.tenant_scope = scope
    return scope


@request_local
async def msp_accounts_scope(request: Request) -> TenantScope:
    """Every sub-account of the caller's MSP (the accounts list)."""
    return await _sub_accounts(request, licensed_only=False)


@request_local
async def msp_licensed_scope(request: Request) -> TenantScope:
    """Every licensed sub-account: the all-accounts findings leave free accounts out."""
    return await _sub_accounts(request, licensed_only=True)


@request_local
async def msp_self_scope(request: Request) -> TenantScope:
    """The MSP itself (``/msp/webhooks``): what the MSP owns, not its sub-accounts'."""
    principal = principal_of(request)
    _require_msp(principal)
    scope = TenantScope(principal, frozenset({principal.org_id}))
    request.state.tenant_scope = scope
    return scope


def in_scope(column: ColumnElement[uuid.UUID], single: bool) -> ColumnElement[bool]:
    """``column`` (an organization ID) within the scope bound by :func:`scope_values`: an equality for a
    single organization, the common case (an expanding ``IN`` is rewritten on every execution, a third of a
    one-row look-up's SQL cost), an expanding ``IN`` otherwise. Statements are built once per shape, never
    per request."""
    if single:
        return column == bindparam("org_0")
    return column.in_(bindparam("org_ids", expanding=True))


def scope_values(org_ids: Collection[uuid.UUID]) -> dict[str, Any]:
    """The bound values of :func:`in_scope` for ``org_ids``."""
    return {"org_0": next(iter(org_ids))} if len(org_ids) == 1 else {"org_ids": list(org_ids)}


def hears_events_of(owner: ColumnElement[uuid.UUID], org_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """Whether organization ``owner`` hears the events of ``org_id``: it is that organization or, when
    ``org_id`` is a licensed sub-account, its MSP (free accounts are left out, as in the all-accounts
    findings). A clause, so an event's listeners are found in the same query as the rule."""
    msp = select(Organization.parent_id).where(
        Organization.id == org_id, Organization.parent_id.is_not(None), Organization.license != License.FREE
    )
    return or_(owner == org_id, owner.in_(msp.scalar_subquery()))


async def msp_principal(principal: ReadPrincipal) -> Principal:
    _require_msp(principal)
    return principal


@request_local
async def current_scope(request: Request) -> TenantScope:
    """The scope resolved by the route's own dependency (the prefix it is mounted under), which the route
    calls before the handler's request-local parameters (``core.routing``)."""
    return request.state.tenant_scope  # type: ignore[no-any-return]


Scoped = Annotated[TenantScope, Depends(current_scope)]
MspPrincipal = Annotated[Principal, Depends(msp_principal)]
