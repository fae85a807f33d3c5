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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, not_, or_

from openmira.core.errors import BadRequest
from openmira.core.regex import UnsafePattern, compile_pattern, to_postgres
from openmira.core.text import NO_NUL

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
    column: str  # a column of the findings table (and of any relation with the same column names)
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
    "blocked": FieldSpec("blocked", _parse_bool, EQ_OPS, "boolean"),
    "category": FieldSpec("category", _parse_int, EQ_OPS + IN_OPS, _INT),
    "resolution": FieldSpec("resolution", _parse_int, EQ_OPS + IN_OPS, _INT, nullable=True),
    "status": FieldSpec("status", _parse_int, EQ_OPS + IN_OPS, _INT),
    "type": FieldSpec("type", _parse_int, EQ_OPS + IN_OPS, _INT),
    "created": FieldSpec("created", parse_datetime, EQ_OPS + ORDER_OPS, _DT),
    "modified": FieldSpec("modified", parse_datetime, EQ_OPS + ORDER_OPS, _DT),
    "created_after": FieldSpec("created", parse_datetime, ("eq",), _DT, plain=True, window="gt"),
    "created_before": FieldSpec("created", parse_datetime, ("eq",), _DT, plain=True, window="lt"),
    "modified_after": FieldSpec("modified", parse_datetime, ("eq",), _DT, plain=True, window="gt"),
    "modified_before": FieldSpec("modified", parse_datetime, ("eq",), _DT, plain=True, window="lt"),
    "created_by": FieldSpec("created_by", _parse_uuid, ("eq",), _UUID, nullable=True, plain=True),
    "modified_by": FieldSpec("modified_by", _parse_uuid, EQ_OPS + IN_OPS, _UUID, nullable=True),
    "status_modified_by": FieldSpec("status_modified_by", _parse_uuid, EQ_OPS + IN_OPS, _UUID, nullable=True),
    "name": FieldSpec("name", _parse_text, EQ_OPS + IN_OPS + TEXT_OPS, "string"),
    "priority": FieldSpec("priority", _parse_priority, EQ_OPS + IN_OPS + ORDER_OPS, _INT),
}

# ``contains`` is LIKE with this escape character; the value's own wildcards are escaped with it.
_LIKE_ESCAPE = "/"

# One filter: its field, its operator, and the name of the bound parameter that carries its value.
Clause = tuple[str, str, str]


@dataclass(frozen=True)
class FindingFilters:
    """Parsed filters: their shape (``clauses``, hashable, so statements can be built once per shape and
    reused) and their values, bound by name when the statement runs."""

    clauses: tuple[Clause, ...]
    values: dict[str, Any]
    regex_params: tuple[str, ...]

    @property
    def scans(self) -> bool:
        """Whether a filter matches text inside names, which no index serves (the rows are scanned)."""
        return any(op.lstrip("!") in ("contains", "regex") for _, op, _ in self.clauses)


def _negate(spec: FieldSpec, column: Any, positive: ColumnElement[bool]) -> ColumnElement[bool]:
    if spec.nullable:
        return or_(not_(positive), column.is_(None))
    return not_(positive)


def _bind(spec: FieldSpec, name: str, *, expanding: bool = False) -> Any:
    # Integers are bound as BIGINT, so a number beyond the 32-bit columns is compared, not cast into the
    # column's type (PostgreSQL: out of range); other values take their column's type.
    return bindparam(name, type_=BigInteger() if spec.type_name == _INT else None, expanding=expanding)


def _condition(spec: FieldSpec, op: str, name: str, columns: Mapping[str, Any]) -> ColumnElement[bool]:
    col = columns[spec.column]
    base = op.lstrip("!")
    if base == "in":
        positive: ColumnElement[bool] = col.in_(_bind(spec, name, expanding=True))
    elif base == "contains":
        positive = col.icontains(bindparam(name), escape=_LIKE_ESCAPE)
    elif base == "regex":
        positive = col.regexp_match(bindparam(name))
    elif spec.window is not None:
        return col > _bind(spec, name) if spec.window == "gt" else col < _bind(spec, name)
    else:
        value = _bind(spec, name)
        positive = col == value if base == "eq" else (col < value if base == "lt" else col > value)
    return _negate(spec, col, positive) if op.startswith("!") else positive


def condition(clauses: tuple[Clause, ...], columns: Mapping[str, Any]) -> ColumnElement[bool] | None:
    """The SQL of ``clauses`` over ``columns`` (the findings table's, a subquery's, or a counts table's)."""
    parts = [_condition(FIELDS[field], op, name, columns) for field, op, name in clauses]
    return and_(*parts) if parts else None


def _parse_value(spec: FieldSpec, op: str, raw: str, dialect: str) -> Any:
    base = op.lstrip("!")
    if base == "in":
        parts = raw.split(",")
        if spec.type_name != "string":
            parts = [p.strip(" ") for p in parts]
        if not raw or any(p == "" for p in parts):
            raise ValueError("must be a comma-separated list of values, none empty")
        if len(parts) > MAX_IN_VALUES:
            raise ValueError(f"at most {MAX_IN_VALUES} values")
        return [spec.parse(p) for p in parts]
    if base == "contains":
        if raw == "":
            raise ValueError("must not be empty")
        escaped = raw.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        return escaped.replace("%", _LIKE_ESCAPE + "%").replace("_", _LIKE_ESCAPE + "_")
    if base == "regex":
        if raw == "":
            raise ValueError("must not be empty")
        try:
            compile_pattern(raw)
            # Translated on every backend, so a pattern PostgreSQL cannot run is refused on SQLite too.
            translated = to_postgres(raw)
        except UnsafePattern as exc:
            raise ValueError(str(exc)) from None
        return translated if dialect == "postgresql" else raw
    return spec.parse(raw)


def parse_filters(params: Iterable[tuple[str, str]], dialect: str) -> FindingFilters:
    """Turn query parameters into filter clauses and values; raises BadRequest naming the parameter."""
    clauses: list[Clause] = []
    values: dict[str, Any] = {}
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
            value = _parse_value(spec, op, raw, dialect)
        except ValueError as exc:
            raise BadRequest.param(key, f"{exc}") from None
        name = f"filter_{len(clauses)}"
        clauses.append((field, op, name))
        values[name] = value
        if op.lstrip("!") == "regex":
            regex_params.append(key)
    return FindingFilters(tuple(clauses), values, tuple(regex_params))


_UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# One value of an in/!in list, as the parser accepts it (spaces around non-text values are ignored).
_LIST_ITEM = {
    _INT: " *-?[0-9]+ *",
    _UUID: f" *{_UUID_PATTERN} *",
    _DT: " *[^, ][^,]* *",
    "boolean": " *[A-Za-z]+ *",
    "string": "[^,\\x00]+",
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
        # A regex is documented by its format alone: a pattern beside it would make generators pair them.
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        schema.update({"format": "regex"} if base == "regex" else {"pattern": NO_NUL})
        return schema
    if field == "priority":
        return {"type": "integer", "minimum": 1, "maximum": 5}
    return {
        "boolean": {"type": "boolean"},
        _INT: {"type": "integer"},
        _DT: {"type": "string", "format": "date-time"},
        _UUID: {"type": "string", "format": "uuid"},
        "string": {"type": "string", "pattern": NO_NUL},  # NUL is refused at the edge (core/nul.py)
    }[spec.type_name]


def openapi_parameters() -> list[dict[str, Any]]:
    """Every filter parameter, for the OpenAPI document (the handler reads them from the query)."""
    params: list[dict[str, Any]] = []
    for field, spec in FIELDS.items():
        names = [(field, "eq")] + ([] if spec.plain else [(f"{field}.{op}", op) for op in spec.ops])
        for name, op in names:
            schema = _value_schema(field, spec, op)
            if spec.window:
                desc = f"{spec.column} {'after' if spec.window == 'gt' else 'before'} (exclusive)"
            else:
                desc = f"{field} {op}"
            params.append({"name": name, "in": "query", "required": False, "schema": schema, "description": desc})
    return params
