"""Users of a tenant."""

from __future__ import annotations

from openmira_client._envelope import ListResponse
from openmira_client._models import User
from openmira_client._pager import SyncPager
from openmira_client._resource import SyncResource, operation, paging


class Users(SyncResource):
    @operation("GET", "/users")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None
    ) -> ListResponse[User]:
        params = self._params(paging(page, page_size, limit, None))
        return self._list(self._path("/users"), ListResponse[User], params)

    def iter(self, *, page_size: int | None = None) -> SyncPager[User]:
        params = self._params(paging(None, page_size, None, None))
        return self._iter(self._path("/users"), ListResponse[User], params)
