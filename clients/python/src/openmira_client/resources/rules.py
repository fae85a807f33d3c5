"""Detection rules of a tenant, and the MSP's basis-rule catalog."""

from __future__ import annotations

from openmira_client._envelope import ListResponse
from openmira_client._models import BasisRule, DetectionRule
from openmira_client._pager import SyncPager
from openmira_client._resource import ID, SyncResource, operation, paging


class DetectionRules(SyncResource):
    @operation("GET", "/detection-rules")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None, status: int | None = None, priority: int | None = None,
        type_name: str | None = None,
    ) -> ListResponse[DetectionRule]:
        params = self._params(paging(page, page_size, limit, order_by, status=status, priority=priority,
                                     type_name=type_name))
        return self._list(self._path("/detection-rules"), ListResponse[DetectionRule], params)

    def iter(
        self, *, page_size: int | None = None, order_by: str | None = None, status: int | None = None,
        priority: int | None = None, type_name: str | None = None,
    ) -> SyncPager[DetectionRule]:
        params = self._params(paging(None, page_size, None, order_by, status=status, priority=priority,
                                     type_name=type_name))
        return self._iter(self._path("/detection-rules"), ListResponse[DetectionRule], params)

    @operation("GET", "/detection-rules/{rule_id}")
    def get(self, rule_id: ID) -> DetectionRule:
        return self._one("GET", self._path("/detection-rules/{rule_id}", rule_id=rule_id), DetectionRule)


class BasisRules(SyncResource):
    @operation("GET", "/basis-detection-rules")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[BasisRule]:
        params = self._params(paging(page, page_size, limit, order_by))
        return self._list(self._path("/basis-detection-rules"), ListResponse[BasisRule], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> SyncPager[BasisRule]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/basis-detection-rules"), ListResponse[BasisRule], params)

    @operation("GET", "/basis-detection-rules/{rule_id}")
    def get(self, rule_id: ID) -> BasisRule:
        return self._one("GET", self._path("/basis-detection-rules/{rule_id}", rule_id=rule_id), BasisRule)
