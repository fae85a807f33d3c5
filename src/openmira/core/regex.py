"""User-supplied regular expressions, made safe: RE2 (linear time) validates and, on SQLite, matches.

Filters such as ``name.regex`` take a pattern from the query string. A backtracking engine given
``(a+)+$`` can spin for minutes, so every pattern is first compiled by RE2, which has no
backtracking and rejects the constructs that need it (back-references, look-around). A pattern
RE2 cannot compile, or longer than ``MAX_PATTERN_LENGTH``, or whose compiled program is larger than
``MAX_PROGRAM_SIZE``, is refused before any query runs.

* SQLite has no regex function of its own: :func:`sqlite_regexp` is registered as ``REGEXP`` on
  every connection and matches with RE2 (a partial, ``search`` match), so it can never hang.
* PostgreSQL evaluates the pattern with its own ``~`` operator (so the filter runs in the
  database, next to the index scan). Its engine is automata-based too; the few escapes whose
  meaning differs are translated (:func:`to_postgres`), and the query is also run under a
  statement timeout so that nothing the engine finds costly can hold a worker.

Both engines use the same options: case-sensitive, ``.`` matches a newline, ``^``/``$`` anchor the
whole value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 512
MAX_PROGRAM_SIZE = 5000

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.dot_nl = True
_OPTIONS.max_mem = 8 << 20


class UnsafePattern(ValueError):
    """The pattern is invalid, or too long or too large to run safely."""


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise UnsafePattern(f"not a valid regular expression: {reason}") from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise UnsafePattern("the pattern is too complex")
    return compiled


def sqlite_regexp(pattern: str | None, value: str | None) -> int | None:
    """SQLite's ``value REGEXP pattern`` calls ``regexp(pattern, value)``."""
    if pattern is None or value is None:
        return None
    try:
        compiled = compile_pattern(pattern)
    except UnsafePattern:
        return 0
    return 1 if compiled.search(value) is not None else 0


# RE2 escapes that PostgreSQL's ARE engine spells differently (outside bracket expressions).
_PG_ESCAPES = {"b": r"\y", "B": r"\Y", "z": r"\Z"}


def to_postgres(pattern: str) -> str:
    """Translate an RE2-valid pattern to PostgreSQL ARE syntax where the two differ."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(_PG_ESCAPES[nxt] if not in_class and nxt in _PG_ESCAPES else ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            # A ']' (optionally after '^') right after '[' is a literal member.
            j = i + 1
            if j < len(pattern) and pattern[j] == "^":
                out.append("^")
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                out.append("]")
                j += 1
            i = j
            continue
        if in_class and ch == "[" and i + 1 < len(pattern) and pattern[i + 1] == ":":
            end = pattern.find(":]", i + 2)
            if end != -1:
                out.append(pattern[i : end + 2])
                i = end + 2
                continue
        if in_class and ch == "]":
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)
