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

from sqlalchemy import BigInteger, ColumnElement, and_, literal, not_, or_

from openmira.core.errors import BadRequest
from openmira.core.regex import UnsafePattern, compile_pattern, to_postgres
from openmira.findings.models import Finding

EQ_OPS = ("eq", "!eq")
IN_OPS = ("in", "!in")
ORDER_OPS = ("lt", "!lt", "gt", "!gt")
TEXT_OPS = ("contains", "!contains", "regex", "!regex")
MAX_IN_VALUES = 500


# Integers beyond 64 bits are clamped to this bound: no stored value equals it and the comparisons keep
# their answer (status < 10**30 is true of every row, as status < 2**63-1 is), while the driver is never
# handed a number it cannot bind (SQLite stops at 64 bits). Values are bound as BIGINT, so a number
# beyond the 32-bit columns is compared, not cast into the column's type (PostgreSQL: out of range).
_INT_BOUND = 2**63 - 1


def _parse_int(raw: str) -> int:
    value = raw.strip(" ")
    if not value.isascii() or not value.lstrip("-").isdigit():
        raise ValueError("must be an integer")
    return max(-_INT_BOUND, min(_INT_BOUND, int(value)))


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
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # An instant before year 1 or after year 9999 in UTC (0001-01-01T00:00:00+01:00): the nearest
        # representable one compares the same with every stored time.
        return (datetime.min if parsed.year == 1 else datetime.max).replace(tzinfo=UTC)


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


def _value(spec: FieldSpec, raw: str) -> Any:
    value = spec.parse(raw)
    return literal(value, BigInteger) if spec.type_name == _INT else value


def _condition(spec: FieldSpec, op: str, raw: str, dialect: str) -> ColumnElement[bool]:
    col = spec.column
    negated = op.startswith("!")
    base = op.lstrip("!")
    if base == "in":
        parts = raw.split(",")
        if spec.type_name != "string":
            parts = [p.strip(" ") for p in parts]
        if not raw or any(p == "" for p in parts):
            raise ValueError("must be a comma-separated list of values, none empty")
        if len(parts) > MAX_IN_VALUES:
            raise ValueError(f"at most {MAX_IN_VALUES} values")
        positive: ColumnElement[bool] = col.in_([_value(spec, p) for p in parts])
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
        value = _value(spec, raw)
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


_UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# One value of an in/!in list, as the parser accepts it (spaces around non-text values are ignored).
_LIST_ITEM = {
    _INT: " *-?[0-9]+ *",
    _UUID: f" *{_UUID_PATTERN} *",
    _DT: " *[^, ][^,]* *",
    "boolean": " *[A-Za-z]+ *",
    "string": "[^,]+",
}


def _list_pattern(item: str) -> str:
    return f"^{item}(?:,{item}){{0,{MAX_IN_VALUES - 1}}}$"


def _value_schema(field: str, spec: FieldSpec, op: str) -> dict[str, Any]:
    """The schema of one filter parameter: exactly what the parser accepts, where a schema can say it."""
    base = op.lstrip("!")
    if base == "in":
        item = " *0*[1-5] *" if field == "priority" else _LIST_ITEM[spec.type_name]
        return {"type": "string", "pattern": _list_pattern(item), "description": "comma-separated values"}
    if base in ("contains", "regex"):
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if base == "regex":
            schema["format"] = "regex"
        return schema
    if field == "priority":
        return {"type": "integer", "minimum": 1, "maximum": 5}
    return {
        "boolean": {"type": "boolean"},
        _INT: {"type": "integer"},
        _DT: {"type": "string", "format": "date-time"},
        _UUID: {"type": "string", "format": "uuid"},
        "string": {"type": "string"},
    }[spec.type_name]


def openapi_parameters() -> list[dict[str, Any]]:
    """Every filter parameter, for the OpenAPI document (the handler reads them from the query)."""
    params: list[dict[str, Any]] = []
    for field, spec in FIELDS.items():
        names = [(field, "eq")] + ([] if spec.plain else [(f"{field}.{op}", op) for op in spec.ops])
        for name, op in names:
            schema = _value_schema(field, spec, op)
            if spec.window:
                desc = f"{spec.column.key} {'after' if spec.window == 'gt' else 'before'} (exclusive)"
            else:
                desc = f"{field} {op}"
            params.append({"name": name, "in": "query", "required": False, "schema": schema, "description": desc})
    return params
