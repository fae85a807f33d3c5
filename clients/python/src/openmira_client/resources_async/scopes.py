# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Where the resources hang: ``client.org``, ``client.msp`` and ``client.msp.account(id)``.

The org and per-account MSP routes run the same handlers under another prefix (the server's tenant scope),
so the same resource classes serve both; only what exists under one scope alone differs.
"""

from __future__ import annotations

from typing import Any

from openmira_client._envelope import ListResponse
from openmira_client._models import Account, AccountDetail
from openmira_client._pager import AsyncPager
from openmira_client._resource import ID, AsyncResource, operation, paging
from openmira_client.resources_async.agents import AsyncActions, AsyncDevices, AsyncKeys, AsyncOrgActions
from openmira_client.resources_async.findings import AsyncAllAccountsFindings, AsyncFindings, AsyncOrgFindings
from openmira_client.resources_async.rules import AsyncBasisRules, AsyncDetectionRules
from openmira_client.resources_async.users import AsyncUsers
from openmira_client.resources_async.webhooks import AsyncWebhooks


class AsyncOrgScope(AsyncResource):
    """The key pair's own organization (``/org/...``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.findings = AsyncOrgFindings(c, p, t)
        self.devices = AsyncDevices(c, p, t)
        self.actions = AsyncOrgActions(c, p, t)
        self.keys = AsyncKeys(c, p, t)
        self.detection_rules = AsyncDetectionRules(c, p, t)
        self.users = AsyncUsers(c, p, t)
        self.webhooks = AsyncWebhooks(c, p, t)


class AsyncAccountScope(AsyncResource):
    """One sub-account of the MSP (``/msp/accounts/{account_id}/...``); other accounts are 404."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.findings = AsyncFindings(c, p, t)
        self.devices = AsyncDevices(c, p, t)
        self.actions = AsyncActions(c, p, t)
        self.keys = AsyncKeys(c, p, t)
        self.detection_rules = AsyncDetectionRules(c, p, t)
        self.users = AsyncUsers(c, p, t)


class AsyncAccounts(AsyncResource):
    @operation("GET", "/accounts")
    async def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[Account]:
        params = self._params(paging(page, page_size, limit, order_by))
        return await self._list(self._path("/accounts"), ListResponse[Account], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> AsyncPager[Account]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/accounts"), ListResponse[Account], params)

    @operation("GET", "/accounts/{account_id}")
    async def get(self, account_id: ID) -> AccountDetail:
        return await self._one("GET", self._path("/accounts/{account_id}", account_id=account_id), AccountDetail)


class AsyncMspScope(AsyncResource):
    """An MSP key pair's operations (``/msp/...``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.accounts = AsyncAccounts(c, p, t)
        self.findings = AsyncAllAccountsFindings(c, p, t)
        self.basis_rules = AsyncBasisRules(c, p, t)
        self.webhooks = AsyncWebhooks(c, p, t)

    def account(self, account_id: ID) -> AsyncAccountScope:
        """The resources of one sub-account: ``client.msp.account(id).findings.list(...)``."""
        prefix = self._path("/accounts/{account_id}", account_id=account_id)
        return AsyncAccountScope(self._client, prefix, self._prefix_template + "/accounts/{account_id}")
