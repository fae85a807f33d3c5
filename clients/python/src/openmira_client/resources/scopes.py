"""Where the resources hang: ``client.org``, ``client.msp`` and ``client.msp.account(id)``.

The org and per-account MSP routes run the same handlers under another prefix (the server's tenant scope),
so the same resource classes serve both; only what exists under one scope alone differs.
"""

from __future__ import annotations

from typing import Any

from openmira_client._envelope import ListResponse
from openmira_client._models import Account, AccountDetail
from openmira_client._pager import SyncPager
from openmira_client._resource import ID, SyncResource, operation, paging
from openmira_client.resources.agents import Actions, Devices, Keys, OrgActions
from openmira_client.resources.findings import AllAccountsFindings, Findings, OrgFindings
from openmira_client.resources.rules import BasisRules, DetectionRules
from openmira_client.resources.users import Users
from openmira_client.resources.webhooks import Webhooks


class OrgScope(SyncResource):
    """The key pair's own organization (``/org/...``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.findings = OrgFindings(c, p, t)
        self.devices = Devices(c, p, t)
        self.actions = OrgActions(c, p, t)
        self.keys = Keys(c, p, t)
        self.detection_rules = DetectionRules(c, p, t)
        self.users = Users(c, p, t)
        self.webhooks = Webhooks(c, p, t)


class AccountScope(SyncResource):
    """One sub-account of the MSP (``/msp/accounts/{account_id}/...``); other accounts are 404."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.findings = Findings(c, p, t)
        self.devices = Devices(c, p, t)
        self.actions = Actions(c, p, t)
        self.keys = Keys(c, p, t)
        self.detection_rules = DetectionRules(c, p, t)
        self.users = Users(c, p, t)


class Accounts(SyncResource):
    @operation("GET", "/accounts")
    def list(
        self, *, page: int | None = None, page_size: int | None = None, limit: int | None = None,
        order_by: str | None = None,
    ) -> ListResponse[Account]:
        params = self._params(paging(page, page_size, limit, order_by))
        return self._list(self._path("/accounts"), ListResponse[Account], params)

    def iter(self, *, page_size: int | None = None, order_by: str | None = None) -> SyncPager[Account]:
        params = self._params(paging(None, page_size, None, order_by))
        return self._iter(self._path("/accounts"), ListResponse[Account], params)

    @operation("GET", "/accounts/{account_id}")
    def get(self, account_id: ID) -> AccountDetail:
        return self._one("GET", self._path("/accounts/{account_id}", account_id=account_id), AccountDetail)


class MspScope(SyncResource):
    """An MSP key pair's operations (``/msp/...``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c, p, t = self._client, self._prefix, self._prefix_template
        self.accounts = Accounts(c, p, t)
        self.findings = AllAccountsFindings(c, p, t)
        self.basis_rules = BasisRules(c, p, t)
        self.webhooks = Webhooks(c, p, t)

    def account(self, account_id: ID) -> AccountScope:
        """The resources of one sub-account: ``client.msp.account(id).findings.list(...)``."""
        prefix = self._path("/accounts/{account_id}", account_id=account_id)
        return AccountScope(self._client, prefix, self._prefix_template + "/accounts/{account_id}")
