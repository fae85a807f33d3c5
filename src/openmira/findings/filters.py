"""The finding filter grammar (contract section 5): query parameters into SQL conditions.

``<field>`` or ``<field>.<op>``, all ANDed; the bare name means ``eq``. Negation sits inside the
operator (``status.!eq=40``); ``!lt`` is "not less than" (>=) and ``!gt`` "not greater than" (<=).
``in``/``!in`` take comma-separated values. Parameters that name no filter field are ignored
(clients send extras such as ``account_id``); a known field with an operator it does not have, or
a value of the wrong type, is a 400 naming the parameter.

Decisions where the contract is silent:

* A negated operator is the exact complement of its positive form: ``resolution.!eq=10`` also
  returns findings with no resolution (SQL's ``!=`` alone would drop NULLs).
* ``eq``/``in`` on ``name`` are exact and case-sensitive; ``contains`` is a case-insensitive
  substring match (ASCII case folding on SQLite, full Unicode on PostgreSQL); ``regex`` is a
  case-sensitive partial (search) match, validated and run safely as described in
  :mod:`openmira.core.regex` (``(?i)`` at the start makes it case-insensitive).
* Datetimes are ISO 8601 (a date alone means its midnight); without a zone they are UTC.
  ``created_after``/``created_before`` (and the ``modified_`` pair) are exclusive bounds.
* Booleans are ``true``/``false`` in any letter case. ``priority`` values must be 1..5.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from openmira.core.errors import BadRequest
from openmira.core.regex import UnsafePattern, compile_pattern, to_postgres
from openmira.findings.models import Finding

EQ_OPS = ("eq", "!eq")
IN_OPS = ("in", "!in")
ORDER_OPS = ("lt", "!lt", "gt", "!gt")
TEXT_OPS = ("contains", "!contains", "regex", "!regex")
MAX_IN_VALUES = 500


def _parse_int(raw: str) -> int:
    value = raw.strip()
    if not value or not value.lstrip("-").isdigit():
        raise ValueError("must be an integer")
    return int(value)


def _parse_priority(raw: str) -> int:
    value = _parse_int(raw)
    if not 1 <= value <= 5:
        raise ValueError("must be an integer from 1 to 5")
    return value


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def parse_datetime(raw: str) -> datetime:
    value = raw.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise ValueError("must be a UUID") from None


def _parse_text(raw: str) -> str:
    return raw


@dataclass(frozen=True)
class FieldSpec:
    column: Any
    parse: Callable[[str], Any]
    ops: tuple[str, ...]
    type_name: str
    nullable: bool = False
    # Plain fields take only the bare name (the created/modified windows and created_by).
    plain: bool = False
    # For the windows: which column and comparison they stand for.
    window: str | None = None


_DT, _INT, _UUID = "date-time", "integer", "uuid"

FIELDS: dict[str, FieldSpec] = {
    "blocked": FieldSpec(Finding.blocked, _parse_bool, EQ_OPS, "boolean"),
    "category": FieldSpec(Finding.category, _parse_int, EQ_OPS + IN_OPS, _INT),
    "resolution": FieldSpec(Finding.resolution, _parse_int, EQ_OPS + IN_OPS, _INT, nullable=True),
    "status": FieldSpec(Finding.status, _parse_int, EQ_OPS + IN_OPS, _INT),
    "type": FieldSpec(Finding.type, _parse_int, EQ_OPS + IN_OPS, _INT),
    "created": FieldSpec(Finding.created, parse_datetime, EQ_OPS + ORDER_OPS, _DT),
    "modified": FieldSpec(Finding.modified, parse_datetime, EQ_OPS + ORDER_OPS, _DT),
    "created_after": FieldSpec(Finding.created, parse_datetime, ("eq",), _DT, plain=True, window="gt"),
    "created_before": FieldSpec(Finding.created, parse_datetime, ("eq",), _DT, plain=True, window="lt"),
    "modified_after": FieldSpec(Finding.modified, parse_datetime, ("eq",), _DT, plain=True, window="gt"),
    "modified_before": FieldSpec(Finding.modified, parse_datetime, ("eq",), _DT, plain=True, window="lt"),
    "created_by": FieldSpec(Finding.created_by, _parse_uuid, ("eq",), _UUID, nullable=True, plain=True),
    "modified_by": FieldSpec(Finding.modified_by, _parse_uuid, EQ_OPS + IN_OPS, _UUID, nullable=True),
    "status_modified_by": FieldSpec(
        Finding.status_modified_by, _parse_uuid, EQ_OPS + IN_OPS, _UUID, nullable=True
    ),
    "name": FieldSpec(Finding.name, _parse_text, EQ_OPS + IN_OPS + TEXT_OPS, "string"),
    "priority": FieldSpec(Finding.priority, _parse_priority, EQ_OPS + IN_OPS + ORDER_OPS, _INT),
}


@dataclass(frozen=True)
class FindingFilters:
    """Parsed filters: SQL conditions plus whether any runs a regex (PostgreSQL guards those)."""

    conditions: tuple[ColumnElement[bool], ...]
    regex_params: tuple[str, ...]


def _negate(spec: FieldSpec, positive: ColumnElement[bool]) -> ColumnElement[bool]:
    if spec.nullable:
        return or_(not_(positive), spec.column.is_(None))
    return not_(positive)


def _condition(spec: FieldSpec, op: str, raw: str, dialect: str) -> ColumnElement[bool]:
    col = spec.column
    negated = op.startswith("!")
    base = op.lstrip("!")
    if base == "in":
        parts = raw.split(",")
        if spec.type_name != "string":
            parts = [p.strip() for p in parts]
        if not raw or any(p == "" for p in parts):
            raise ValueError("must be a comma-separated list of values, none empty")
        if len(parts) > MAX_IN_VALUES:
            raise ValueError(f"at most {MAX_IN_VALUES} values")
        positive: ColumnElement[bool] = col.in_([spec.parse(p) for p in parts])
    elif base == "contains":
        if raw == "":
            raise ValueError("must not be empty")
        positive = col.icontains(raw, autoescape=True)
    elif base == "regex":
        if raw == "":
            raise ValueError("must not be empty")
        try:
            compile_pattern(raw)
        except UnsafePattern as exc:
            raise ValueError(str(exc)) from None
        positive = col.regexp_match(to_postgres(raw) if dialect == "postgresql" else raw)
    else:
        value = spec.parse(raw)
        if spec.window is not None:
            return col > value if spec.window == "gt" else col < value
        positive = col == value if base == "eq" else (col < value if base == "lt" else col > value)
    return _negate(spec, positive) if negated else positive


def parse_filters(params: Iterable[tuple[str, str]], dialect: str) -> FindingFilters:
    """Turn query parameters into filter conditions; raises BadRequest naming the parameter."""
    conditions: list[ColumnElement[bool]] = []
    regex_params: list[str] = []
    for key, raw in params:
        field, dot, op = key.partition(".")
        spec = FIELDS.get(field)
        if spec is None:
            continue
        if not dot:
            op = "eq"
        elif spec.plain or op not in spec.ops:
            allowed = "none (use the bare name)" if spec.plain else ", ".join(spec.ops)
            raise BadRequest.param(key, f"unknown operator {op!r} for {field}; operators: {allowed}")
        try:
            conditions.append(_condition(spec, op, raw, dialect))
        except ValueError as exc:
            raise BadRequest.param(key, f"{exc}") from None
        if op.lstrip("!") == "regex":
            regex_params.append(key)
    return FindingFilters(tuple(conditions), tuple(regex_params))


def combined(filters: FindingFilters) -> ColumnElement[bool] | None:
    return and_(*filters.conditions) if filters.conditions else None


def openapi_parameters() -> list[dict[str, Any]]:
    """Every filter parameter, for the OpenAPI document (the handler reads them from the query)."""
    schemas = {
        "boolean": {"type": "boolean"},
        _INT: {"type": "integer"},
        _DT: {"type": "string", "format": "date-time"},
        _UUID: {"type": "string", "format": "uuid"},
        "string": {"type": "string"},
    }
    params: list[dict[str, Any]] = []
    for field, spec in FIELDS.items():
        names = [(field, "eq")] + ([] if spec.plain else [(f"{field}.{op}", op) for op in spec.ops])
        for name, op in names:
            schema: dict[str, Any] = dict(schemas[spec.type_name])
            if op.lstrip("!") == "in":
                schema = {"type": "string", "description": "comma-separated values"}
            if spec.window:
                desc = f"{spec.column.key} {'after' if spec.window == 'gt' else 'before'} (exclusive)"
            else:
                desc = f"{field} {op}"
            params.append({"name": name, "in": "query", "required": False, "schema": schema, "description": desc})
    return params
