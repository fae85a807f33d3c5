"""Turn Python keyword arguments into the API's query parameters.

The finding filter grammar is ``field.op=value`` with negation inside the operator (``status.!eq=40``).
Python names cannot hold a dot or ``!``, so ``field__op`` maps to ``field.op`` and ``field__not_op`` to
``field.!op``: ``priority__in=[1, 2]`` -> ``priority.in=1,2``, ``status__not_eq=40`` -> ``status.!eq=40``.
Lists are comma-joined, booleans are ``true``/``false``, datetimes ISO 8601 (naive means UTC), and None
means "not sent".
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

OPERATORS = frozenset({"eq", "in", "contains", "regex", "lt", "gt"})


def param_name(key: str) -> str:
    field, sep, op = key.partition("__")
    if not sep:
        return key
    negated = op.startswith("not_")
    bare = op[4:] if negated else op
    if bare not in OPERATORS:
        raise TypeError(f"unknown filter operator {op!r} in {key!r}; use one of {sorted(OPERATORS)} or not_<op>")
    return f"{field}.{'!' if negated else ''}{bare}"


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return format_value(value.value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, datetime.date | uuid.UUID | int | float):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return ",".join(format_value(v) for v in value)
    return str(value)


def build_params(values: Mapping[str, Any], filters: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``values``: Python-style names; ``filters``: parameters already in wire form (``{"status.!eq": 40}``)."""
    params = {param_name(k): format_value(v) for k, v in values.items() if v is not None}
    if filters:
        params.update({k: format_value(v) for k, v in filters.items() if v is not None})
    return params
