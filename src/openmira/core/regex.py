r"""User-supplied regular expressions, made safe: RE2 (linear time) validates and, on SQLite, matches.

Filters such as ``name.regex`` take a pattern from the query string. A backtracking engine given
``(a+)+$`` can spin for minutes, so every pattern is first compiled by RE2, which has no
backtracking and rejects the constructs that need it (back-references, look-around). A pattern
RE2 cannot compile, or longer than ``MAX_PATTERN_LENGTH``, or whose compiled program is larger than
``MAX_PROGRAM_SIZE``, is refused before any query runs.

* SQLite has no regex function of its own: :func:`sqlite_regexp` is registered as ``REGEXP`` on
  every connection and matches with RE2 (a partial, ``search`` match), so it can never hang.
* PostgreSQL evaluates the pattern with its own ``~`` operator (so the filter runs in the
  database, next to the index scan). Its engine is automata-based too; what RE2 spells differently
  is translated (:func:`to_postgres`), what it cannot express (``\p{..}``, ``\C``, octal escapes,
  flags after the start, counts above 255) is refused on every backend, and the query is also run
  under a statement timeout so that nothing the engine finds costly can hold a worker.

Both engines use the same options: case-sensitive, ``.`` matches a newline, ``^``/``$`` anchor the
whole value.
"""

from __future__ import annotations

import re
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


# One dialect on both databases: RE2's syntax, less what PostgreSQL's engine cannot express, with RE2's
# meaning. :func:`to_postgres` translates where the two spell a thing differently and refuses (the same
# patterns on every backend, being called on every backend) what PostgreSQL cannot do.
PG_MAX_REPEAT = 255  # PostgreSQL's DUPMAX; RE2 allows 1000

# RE2's character classes are ASCII; PostgreSQL's follow the database's locale (``\w`` matches "é" there).
# They are spelled out as code point ranges, so both engines match the same characters.
_CLASS_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "ascii": ((0x01, 0x7F),),  # NUL never reaches a query (core.nul)
    "blank": ((0x09, 0x09), (0x20, 0x20)),
    "cntrl": ((0x01, 0x1F), (0x7F, 0x7F)),
    "digit": ((0x30, 0x39),),
    "graph": ((0x21, 0x7E),),
    "lower": ((0x61, 0x7A),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((0x09, 0x0D), (0x20, 0x20)),
    "upper": ((0x41, 0x5A),),
    "word": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), (0x5F, 0x5F)),
    "xdigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}
_PERL = {"d": "digit", "w": "word"}
_PERL_SPACE = ((0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20))  # RE2's \s: no vertical tab
_ANCHORS = {"b": r"\y", "B": r"\Y", "A": r"\A", "z": r"\Z"}
_SAME_ESCAPES = set("aftnrv")
_LEADING_FLAGS = re.compile(r"\(\?([imsU]+)\)")
_NAMED_GROUP = re.compile(r"\(\?P?<[A-Za-z0-9_]+>")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_HEX = re.compile(r"x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))")
_POSIX = re.compile(r"\[:(\^?)([a-z]+):\]")


def _char(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _members(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


def _perl_ranges(letter: str) -> tuple[tuple[int, int], ...]:
    return _PERL_SPACE if letter == "s" else _CLASS_RANGES[_PERL[letter]]


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []

    def run(self) -> str:
        flags: set[str] = set()
        while m := _LEADING_FLAGS.match(self.p, self.i):
            flags.update(m.group(1))
            self.i = m.end()
        # (?s) is always on (dot_nl); (?U) changes only how much is matched, never whether; RE2's (?m) is
        # PostgreSQL's (?w): ^ and $ at line breaks, while . still matches a newline.
        pg_flags = "".join(f for f, on in (("i", "i" in flags), ("w", "m" in flags)) if on)
        if pg_flags:
            self.out.append(f"(?{pg_flags})")
        repeatable = False
        while self.i < len(self.p):
            repeatable = self._item(repeatable)
        return "".join(self.out)

    def _item(self, repeatable: bool) -> bool:
        """Translate one item; whether a repetition may follow it."""
        p, ch = self.p, self.p[self.i]
        if ch == "\\":
            return self._escape()
        if ch == "[":
            self._bracket()
            return True
        if ch == "(":
            if p.startswith("(?:", self.i):
                self.out.append("(?:")
                self.i += 3
            elif m := _NAMED_GROUP.match(p, self.i):
                self.out.append("(")  # a name changes nothing about what matches
                self.i = m.end()
            elif p.startswith("(?", self.i):
                raise UnsafePattern(
                    "flags anywhere but at the very start are not supported; begin with (?i), (?m), (?s) or (?U)"
                )
            else:
                self.out.append("(")
                self.i += 1
            return False
        if ch in "*+?" or (ch == "{" and _REPEAT.match(p, self.i)):
            if not repeatable:
                raise UnsafePattern("a repetition of an anchor (such as ^* or \\b+) is not supported")
            m = _REPEAT.match(p, self.i)
            if m:
                counts = [int(c) for c in m.groups() if c]
                if max(counts) > PG_MAX_REPEAT:
                    raise UnsafePattern(f"repetition counts above {PG_MAX_REPEAT} are not supported")
                self.out.append(m.group(0))
                self.i = m.end()
            else:
                self.out.append(ch)
                self.i += 1
            if p.startswith("?", self.i):  # non-greedy
                self.out.append("?")
                self.i += 1
            return False
        self.i += 1
        if ch in "|^$)":
            self.out.append(ch)
            return ch == ")"
        # RE2 reads a brace that starts no repetition, and a lone ], as themselves; PostgreSQL needs them escaped.
        self.out.append("\\" + ch if ch in "{}]" else ch)
        return True

    def _escape(self, in_class: bool = False) -> bool:
        p = self.p
        letter = p[self.i + 1] if self.i + 1 < len(p) else ""
        if m := _HEX.match(p, self.i + 1):
            self.out.append(_char(int(m.group(1) or m.group(2), 16)))
            self.i = m.end()
            return True
        self.i += 2
        if letter in "dsw":
            members = _members(_perl_ranges(letter))
            self.out.append(members if in_class else f"[{members}]")
            return True
        if letter in "DSW":
            if in_class:
                raise UnsafePattern(f"\\{letter} inside [...] is not supported; write a negated class [^...]")
            self.out.append(f"[^{_members(_perl_ranges(letter.lower()))}]")
            return True
        if letter in _ANCHORS and not in_class:
            self.out.append(_ANCHORS[letter])
            return False
        if letter == "Q" and not in_class:
            end = p.find("\\E", self.i)
            quoted = p[self.i :] if end == -1 else p[self.i : end]
            self.i = len(p) if end == -1 else end + 2
            self.out.append("".join(c if c.isalnum() else "\\" + c for c in quoted))
            return bool(quoted)
        if letter == "E" and not in_class:
            return False  # a \E with no \Q before it ends nothing
        if letter in "pP":
            raise UnsafePattern("Unicode classes (\\p, \\P) are not supported")
        if letter == "C":
            raise UnsafePattern("\\C (any byte) is not supported")
        if letter.isdigit():
            raise UnsafePattern("octal escapes are not supported; write \\x{...}")
        if letter in _SAME_ESCAPES or (letter and not letter.isalnum() and letter.isascii()):
            self.out.append("\\" + letter)
            return True
        raise UnsafePattern(f"the escape \\{letter} is not supported")

    def _bracket(self) -> None:
        p = self.p
        self.out.append("[")
        self.i += 1
        if p.startswith("^", self.i):
            self.out.append("^")
            self.i += 1
        first = True
        while self.i < len(p) and (p[self.i] != "]" or first):
            first = False
            ch = p[self.i]
            if ch == "\\":
                self._escape(in_class=True)
            elif m := _POSIX.match(p, self.i):
                if m.group(1) or m.group(2) not in _CLASS_RANGES:
                    raise UnsafePattern(f"the class {m.group(0)} is not supported")
                self.out.append(_members(_CLASS_RANGES[m.group(2)]))
                self.i = m.end()
            else:
                # Escaped, so PostgreSQL reads no collating element ([.a.]) or class where RE2 reads characters.
                self.out.append("\\" + ch if ch in "[]^" else ch)
                self.i += 1
        self.out.append("]")
        self.i += 1


def to_postgres(pattern: str) -> str:
    """The PostgreSQL ARE for an RE2-valid ``pattern``, matching what RE2 matches; ``UnsafePattern`` (saying
    what) for the few RE2 constructs PostgreSQL cannot express, refused on every backend alike."""
    return _Translator(pattern).run()
