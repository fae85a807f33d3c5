"""Findings, their comments, evidence, resolution and owners; the same under /org and an MSP account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Unpack

from openmira_client._envelope import EvidencePage, ListResponse
from openmira_client._models import Comment, Finding, FindingDetails, FindingFilters
from openmira_client._pager import SyncPager
from openmira_client._resource import ID, FilterValue, SyncResource, operation, paging

OwnerType = Literal["responder", "analyst", "manager"]


class Comments(SyncResource):
    @operation("GET", "/findings/{finding_id}/comments")
    def list(
        self, finding_id: ID, *, page: int | None = None, page_size: int | None = None, limit: int | None = None
    ) -> ListResponse[Comment]:
        path = self._path("/findings/{finding_id}/comments", finding_id=finding_id)
        return self._list(path, ListResponse[Comment], self._params(paging(page, page_size, limit, None)))

    def iter(self, finding_id: ID, *, page_size: int | None = None) -> SyncPager[Comment]:
        path = self._path("/findings/{finding_id}/comments", finding_id=finding_id)
        return self._iter(path, ListResponse[Comment], self._params(paging(None, page_size, None, None)))

    @operation("POST", "/findings/{finding_id}/comments")
    def create(
        self, finding_id: ID, *, body: str, sender: ID, subject: str | None = None, retry_writes: bool | None = None
    ) -> Comment:
        """Post a comment (HTML ``body``) as ``sender``, a user of the finding's organization."""
        payload: dict[str, Any] = {"body": body, "sender": str(sender)}
        if subject is not None:
            payload["subject"] = subject
        path = self._path("/findings/{finding_id}/comments", finding_id=finding_id)
        return self._one("POST", path, Comment, body=payload, retry_writes=retry_writes)


class Findings(SyncResource):
    """``list``/``iter`` take the filter grammar as keywords: ``status=10``, ``priority__in=[1, 2]``,
    ``name__contains="login"``, ``status__not_eq=40`` (``status.!eq``), ``created__gt=datetime(...)``; or
    ``filters={"status.!eq": 40}`` in wire form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comments = Comments(self._client, self._prefix, self._prefix_template)

    @operation("GET", "/findings")
    def list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        limit: int | None = None,
        order_by: str | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        **where: Unpack[FindingFilters],
    ) -> ListResponse[Finding]:
        params = self._params(paging(page, page_size, limit, order_by, **where), filters)
        return self._list(self._path("/findings"), ListResponse[Finding], params)

    def iter(
        self,
        *,
        page_size: int | None = None,
        order_by: str | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        **where: Unpack[FindingFilters],
    ) -> SyncPager[Finding]:
        """Every matching finding, fetched page by page as the iteration goes."""
        params = self._params(paging(None, page_size, None, order_by, **where), filters)
        return self._iter(self._path("/findings"), ListResponse[Finding], params)

    @operation("GET", "/findings/{finding_id}")
    def get(self, finding_id: ID) -> Finding:
        return self._one("GET", self._path("/findings/{finding_id}", finding_id=finding_id), Finding)

    @operation("POST", "/findings/{finding_id}/resolve")
    def resolve(
        self, finding_id: ID, *, resolution: int, resolution_notes: str | None = None,
        retry_writes: bool | None = None,
    ) -> FindingDetails:
        """Resolve (status 40) with 10 Valid, 20 False Positive, 30 No Action Needed or 40 Risk Accepted."""
        payload: dict[str, Any] = {"resolution": resolution}
        if resolution_notes is not None:
            payload["resolution_notes"] = resolution_notes
        path = self._path("/findings/{finding_id}/resolve", finding_id=finding_id)
        return self._one("POST", path, FindingDetails, body=payload, retry_writes=retry_writes)

    @operation("POST", "/findings/{finding_id}/assign")
    def assign(
        self, finding_id: ID, *, owner_type: OwnerType, owners: Sequence[ID], retry_writes: bool | None = None
    ) -> FindingDetails:
        """Replace the finding's ``owner_type`` list with ``owners`` (user IDs); ``[]`` clears it."""
        payload = {"owner_type": owner_type, "owners": [str(o) for o in owners]}
        path = self._path("/findings/{finding_id}/assign", finding_id=finding_id)
        return self._one("POST", path, FindingDetails, body=payload, retry_writes=retry_writes)

    @operation("GET", "/findings/{finding_id}/evidence")
    def evidence(
        self,
        finding_id: ID,
        *,
        page: int | None = None,
        page_size: int | None = None,
        limit: int | None = None,
        order_by: str | None = None,
    ) -> EvidencePage:
        path = self._path("/findings/{finding_id}/evidence", finding_id=finding_id)
        return self._list(path, EvidencePage, self._params(paging(page, page_size, limit, order_by)))

    def iter_evidence(
        self, finding_id: ID, *, page_size: int | None = None, order_by: str | None = None
    ) -> SyncPager[dict[str, Any]]:
        path = self._path("/findings/{finding_id}/evidence", finding_id=finding_id)
        return self._iter(path, EvidencePage, self._params(paging(None, page_size, None, order_by)))


class OrgFindings(Findings):
    @operation("GET", "/findings/{finding_id}/details")
    def details(self, finding_id: ID) -> FindingDetails:
        """The finding with owners, summary, console ``url`` and resolution notes."""
        path = self._path("/findings/{finding_id}/details", finding_id=finding_id)
        return self._one("GET", path, FindingDetails)


class AllAccountsFindings(SyncResource):
    """``/msp/accounts/findings``: the findings of every licensed sub-account, with the same filters."""

    @operation("GET", "/accounts/findings")
    def list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        limit: int | None = None,
        order_by: str | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        **where: Unpack[FindingFilters],
    ) -> ListResponse[Finding]:
        params = self._params(paging(page, page_size, limit, order_by, **where), filters)
        return self._list(self._path("/accounts/findings"), ListResponse[Finding], params)

    def iter(
        self,
        *,
        page_size: int | None = None,
        order_by: str | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        **where: Unpack[FindingFilters],
    ) -> SyncPager[Finding]:
        params = self._params(paging(None, page_size, None, order_by, **where), filters)
        return self._iter(self._path("/accounts/findings"), ListResponse[Finding], params)
