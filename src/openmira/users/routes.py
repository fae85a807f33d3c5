from __future__ import annotations

from fastapi import APIRouter, Request

from openmira.auth.scope import Scoped
from openmira.core.envelope import ListEnvelope
from openmira.core.paging import Paging, paginate
from openmira.core.routing import DbSession, TransactionalRoute
from openmira.users.models import User
from openmira.users.schemas import UserOut, user_out
from openmira.users.service import users_query

router = APIRouter(route_class=TransactionalRoute, tags=["users"])


@router.get("/users", response_model=ListEnvelope[UserOut], summary="List the organization's users")
def get_users(
    request: Request, session: DbSession, scope: Scoped, page: Paging
) -> dict[str, object]:
    return paginate(session, request, page, users_query(scope.org_ids), [User.email, User.id], user_out)
