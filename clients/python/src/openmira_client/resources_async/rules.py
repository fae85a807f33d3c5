# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Detection rules of a tenant, and the MSP's basis-rule catalog."""

from __future__ import annotations

from openmira_client._envelope import ListResponse
from openmira_client._models import BasisRule, DetectionRule
from openmira_client._pager import AsyncPager
from openmira_client._resource import ID, AsyncResource, operation, paging


class AsyncDetectionRules(AsyncResource):
    @operation("GET", "/detection-rules")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None, status: int | None = None, priority: int | None = None,
        type_name: str | None = None,
    ) -> ListResponse[DetectionRule]:
        params = self._params(paging(page, page_size, limit, order_by, status=status, priority=priority,
                                     type_name=type_name))
        return await self._list(self._path("/detection-rules"), ListResponse[DetectionRule], params)

    def iter(
        self, *, page_size: int | None = None, order_by: str | None = None, status: int | None = None,
        priority: int | None = None, type_name: str | None = None,
    ) -> AsyncPager[DetectionRule]:
        params = self._params(paging(None, page_size, None, order_by, status=status, priority=priority,
                                     type_name=type_name))
        return self._iter(self._path("/detection-rules"), ListResponse[DetectionRule], params)

    @operation("GET", "/detection-rules/{rule_id}")
    async def get(self, rule_id: ID) -> DetectionRule:
        return await self._one("GET", self._path("/detection-rules/{rule_id}", rule_id=rule_id), DetectionRule)


class AsyncBasisRules(AsyncResource):
    @operation("GET", "/basis-detection-rules")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[BasisRule]:
        params = self._params(paging(page, page_size, limit, order_by))
        return await self._list(self._path("/basis-detection-rules"), ListResponse[BasisRule], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> AsyncPager[BasisRule]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/basis-detection-rules"), ListResponse[BasisRule], params)

    @operation("GET", "/basis-detection-rules/{rule_id}")
    async def get(self, rule_id: ID) -> BasisRule:
        return await self._one("GET", self._path("/basis-detection-rules/{rule_id}", rule_id=rule_id), BasisRule)
