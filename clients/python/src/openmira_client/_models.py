"""Response models, generated from the server's OpenAPI document by scripts/generate_models.py.

Do not edit by hand: change the server, then regenerate. Unknown fields are kept (``extra="allow"``), so a
newer server does not break an older client.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

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
    state: Literal['ok', 'degraded']
    reasons: list[str]


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


class FindingFilters(TypedDict, total=False):
    """Finding filters: ``field__op`` is ``field.op``, ``field__not_op`` is ``field.!op``."""

    blocked: bool
    blocked__eq: bool
    blocked__not_eq: bool
    category: int
    category__eq: int
    category__not_eq: int
    category__in: Sequence[int] | str
    category__not_in: Sequence[int] | str
    resolution: int
    resolution__eq: int
    resolution__not_eq: int
    resolution__in: Sequence[int] | str
    resolution__not_in: Sequence[int] | str
    status: int
    status__eq: int
    status__not_eq: int
    status__in: Sequence[int] | str
    status__not_in: Sequence[int] | str
    type: int
    type__eq: int
    type__not_eq: int
    type__in: Sequence[int] | str
    type__not_in: Sequence[int] | str
    created: datetime.datetime | str
    created__eq: datetime.datetime | str
    created__not_eq: datetime.datetime | str
    created__lt: datetime.datetime | str
    created__not_lt: datetime.datetime | str
    created__gt: datetime.datetime | str
    created__not_gt: datetime.datetime | str
    modified: datetime.datetime | str
    modified__eq: datetime.datetime | str
    modified__not_eq: datetime.datetime | str
    modified__lt: datetime.datetime | str
    modified__not_lt: datetime.datetime | str
    modified__gt: datetime.datetime | str
    modified__not_gt: datetime.datetime | str
    created_after: datetime.datetime | str
    created_before: datetime.datetime | str
    modified_after: datetime.datetime | str
    modified_before: datetime.datetime | str
    created_by: uuid.UUID | str
    modified_by: uuid.UUID | str
    modified_by__eq: uuid.UUID | str
    modified_by__not_eq: uuid.UUID | str
    modified_by__in: Sequence[uuid.UUID | str] | str
    modified_by__not_in: Sequence[uuid.UUID | str] | str
    status_modified_by: uuid.UUID | str
    status_modified_by__eq: uuid.UUID | str
    status_modified_by__not_eq: uuid.UUID | str
    status_modified_by__in: Sequence[uuid.UUID | str] | str
    status_modified_by__not_in: Sequence[uuid.UUID | str] | str
    name: str
    name__eq: str
    name__not_eq: str
    name__in: Sequence[str] | str
    name__not_in: Sequence[str] | str
    name__contains: str
    name__not_contains: str
    name__regex: str
    name__not_regex: str
    priority: int
    priority__eq: int
    priority__not_eq: int
    priority__in: Sequence[int] | str
    priority__not_in: Sequence[int] | str
    priority__lt: int
    priority__not_lt: int
    priority__gt: int
    priority__not_gt: int


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
    'FindingFilters',
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
