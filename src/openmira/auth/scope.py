"""Tenant scope: the one place where a principal becomes the set of organizations it may touch.

Org routes run with the token's own organization; ``/msp/accounts/{account_id}/...`` with that
account if it is a sub-account of the caller's MSP (else 404, exactly as for an account that does
not exist); ``/msp/accounts/findings`` with every licensed sub-account. Repositories start every
query from ``TenantScope.org_ids`` and never compare organization IDs by hand.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import select

from openmira.auth.principal import Principal, ReadPrincipal
from openmira.core.errors import Forbidden, NotFound
from openmira.core.routing import DbSession
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


async def org_scope(request: Request, principal: ReadPrincipal) -> TenantScope:
    scope = TenantScope(principal, frozenset({principal.org_id}))
    request.state.tenant_scope = scope
    return scope


def msp_account_scope(
    request: Request,
    principal: ReadPrincipal,
    session: DbSession,
    account_id: Annotated[uuid.UUID, Path(description="A sub-account of the caller's MSP.")],
) -> TenantScope:
    _require_msp(principal)
    found = session.scalar(
        select(Organization.id).where(Organization.id == account_id, Organization.parent_id == principal.org_id)
    )
    if found is None:
        raise NotFound(f"account {account_id} not found")
    scope = TenantScope(principal, frozenset({found}))
    request.state.tenant_scope = scope
    return scope


def msp_licensed_scope(request: Request, principal: ReadPrincipal, session: DbSession) -> TenantScope:
    _require_msp(principal)
    ids = session.scalars(
        select(Organization.id).where(
            Organization.parent_id == principal.org_id, Organization.license != License.FREE
        )
    ).all()
    scope = TenantScope(principal, frozenset(ids))
    request.state.tenant_scope = scope
    return scope


def msp_principal(principal: ReadPrincipal) -> Principal:
    _require_msp(principal)
    return principal


async def current_scope(request: Request) -> TenantScope:
    """The scope resolved by the router-level dependency of the prefix the route is mounted under."""
    return request.state.tenant_scope


Scoped = Annotated[TenantScope, Depends(current_scope)]
MspPrincipal = Annotated[Principal, Depends(msp_principal)]
