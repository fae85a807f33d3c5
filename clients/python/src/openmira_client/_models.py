"""Response models, generated from the server's OpenAPI document by scripts/generate_models.py.

Do not edit by hand: change the server, then regenerate. Unknown fields are kept (``extra="allow"``), so a
newer server does not break an older client.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from openmira_client._base_model import BaseModel


class Person(BaseModel):
    """A user as it appears inside other resources (owners, comment senders, modified_by)."""

    id: str
    email: str
    first_name: str
    last_name: str


class OrgRole(BaseModel):
    role_id: int
    role_name: str


class Owners(BaseModel):
    responders: list[Person]
    analysts: list[Person]
    managers: list[Person]


class Meta(BaseModel):
    page: int
    page_size: int
    total_items: int
    total_pages: int


class Links(BaseModel):
    self: str
    next: str | None
    prev: str | None


class Health(BaseModel):
    api_name: str
    api_version: str
    build_time: str
    commit_hash: str


class Resolution(BaseModel):
    id: int
    name: str


class Finding(BaseModel):
    finding_id: str
    short_id: str
    name: str
    analysis: str
    status: int
    status_name: str
    priority: int
    type: int
    type_name: str
    category: int
    blocked: bool
    resolution: int | None
    resolution_name: str | None
    org_id: str
    org_name: str
    created: datetime.datetime
    modified: datetime.datetime
    status_modified: datetime.datetime | None
    matched: datetime.datetime | None
    modified_by: Person | None
    status_modified_by: Person | None


class FindingDetails(BaseModel):
    finding_id: str
    short_id: str
    name: str
    analysis: str
    status: int
    status_name: str
    priority: int
    type: int
    type_name: str
    category: int
    blocked: bool
    resolution: int | None
    resolution_name: str | None
    org_id: str
    org_name: str
    created: datetime.datetime
    modified: datetime.datetime
    status_modified: datetime.datetime | None
    matched: datetime.datetime | None
    modified_by: Person | None
    status_modified_by: Person | None
    category_name: str
    jurisdiction_name: str
    summary: str
    url: str
    resolution_notes: str | None
    owners: Owners


class Comment(BaseModel):
    id: str
    subject: str
    body: str
    age: int
    sender: Person | None


class User(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    org_roles: list[OrgRole]


class Device(BaseModel):
    device_id: str
    hostname: str
    arch: str
    plat: str
    description: str
    is_domain_controller: bool
    is_excluded: bool
    is_isolated: bool
    is_sleeping: bool
    isolation_requested: bool
    key_id: str | None
    keyname: str | None
    org_id: str
    alive: datetime.datetime | None
    created: datetime.datetime
    modified: datetime.datetime


class AgentKey(BaseModel):
    key_id: str
    description: str
    agent_count: int
    agent_seat_count: int
    org_id: str
    created: datetime.datetime
    modified: datetime.datetime


class Action(BaseModel):
    name: str
    description: str
    params: dict[str, Any]


class ActionCatalog(BaseModel):
    actions: list[Action]


class Command(BaseModel):
    command_id: str
    device_id: str
    action: str
    status: Literal['queued', 'sent', 'completed', 'failed']
    reason: str | None
    requested_by: Person | None
    created: datetime.datetime
    modified: datetime.datetime


class DetectionRule(BaseModel):
    id: str
    name: str
    org_id: str
    status: int
    status_label: str
    priority: int
    type_name: str
    description: str
    basis_rule_id: str | None
    created: datetime.datetime
    modified: datetime.datetime


class BasisRule(BaseModel):
    id: str
    name: str
    status: int
    status_label: str
    priority: int
    type_name: str
    description: str
    basis_rule_id: str | None
    created: datetime.datetime
    modified: datetime.datetime


class Account(BaseModel):
    account_id: str
    name: str
    open_findings: int


class AccountDetail(BaseModel):
    account_id: str
    name: str
    open_findings: int
    license: str
    agent_count_available: int
    agent_count_used: int
    user_count: int


class Webhook(BaseModel):
    id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    created: datetime.datetime
    modified: datetime.datetime


class WebhookWithSecret(BaseModel):
    id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    created: datetime.datetime
    modified: datetime.datetime
    secret: str


class Delivery(BaseModel):
    delivery_id: str
    endpoint_id: str
    event: str
    status: Literal['pending', 'succeeded', 'failed']
    attempts: int
    response_status: int | None
    error: str | None
    created: datetime.datetime
    last_attempt: datetime.datetime | None
    next_attempt: datetime.datetime | None


class DeliveryDetail(BaseModel):
    delivery_id: str
    endpoint_id: str
    event: str
    status: Literal['pending', 'succeeded', 'failed']
    attempts: int
    response_status: int | None
    error: str | None
    created: datetime.datetime
    last_attempt: datetime.datetime | None
    next_attempt: datetime.datetime | None
    payload: dict[str, Any]


__all__ = [
    'Account',
    'AccountDetail',
    'Action',
    'ActionCatalog',
    'AgentKey',
    'BasisRule',
    'Command',
    'Comment',
    'Delivery',
    'DeliveryDetail',
    'DetectionRule',
    'Device',
    'Finding',
    'FindingDetails',
    'Health',
    'Links',
    'Meta',
    'OrgRole',
    'Owners',
    'Person',
    'Resolution',
    'User',
    'Webhook',
    'WebhookWithSecret',
]
