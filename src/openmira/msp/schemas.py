from __future__ import annotations

import uuid

from pydantic import BaseModel


class AccountOut(BaseModel):
    account_id: uuid.UUID
    name: str
    open_findings: int


class AccountDetailOut(AccountOut):
    license: str
    # The seats the account's license allows, and the devices enrolled against them.
    agent_count_available: int
    agent_count_used: int
    user_count: int
