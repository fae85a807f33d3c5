"""Derive ``openmira_client/resources_async/`` from the sync ``resources/`` (a dev tool).

    python clients/python/scripts/generate_async.py

The resource modules are written once, in a fixed style: a method that calls the API ends in
``return self._one(...)`` or ``return self._list(...)`` and becomes ``async def`` with ``await``; a method
returning ``self._iter(...)`` stays a plain method and returns an ``AsyncPager``; every resource class gets an
``Async`` prefix. ``tests/test_generated.py`` fails when the committed async modules differ from this output.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "openmira_client"
SYNC = PACKAGE / "resources"
ASYNC = PACKAGE / "resources_async"
NOTICE = "# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.\n"


def _class_names() -> list[str]:
    names = {"SyncResource", "SyncPager"}
    for path in SYNC.glob("*.py"):
        names.update(re.findall(r"^class (\w+)\(", path.read_text(), flags=re.M))
    return sorted(names, key=len, reverse=True)


def _rename(name: str) -> str:
    return {"SyncResource": "AsyncResource", "SyncPager": "AsyncPager"}.get(name, "Async" + name)


def _asyncify_methods(source: str) -> str:
    # Split into top-level "blocks" at each method definition and rewrite the ones that call the API.
    parts = re.split(r"(?m)^(?=    (?:@operation\(|def ))", source)
    out = []
    for part in parts:
        if re.search(r"return self\._(?:one|list)\(", part):
            part = re.sub(r"(?m)^    def ", "    async def ", part, count=1)
            part = re.sub(r"return self\._(one|list)\(", r"return await self._\1(", part)
        out.append(part)
    return "".join(out)


def render(source: str, names: list[str]) -> str:
    # The module docstring is kept as written; only the code below it is rewritten.
    docstring, sep, code = source.partition('"""\n\n')
    if not sep:  # a docstring-only module
        return NOTICE + source
    text = _asyncify_methods(code)
    text = text.replace("openmira_client.resources.", "openmira_client.resources_async.")
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    text = pattern.sub(lambda m: _rename(m.group(1)), text)
    return NOTICE + docstring + '"""\n\n' + text


def outputs() -> dict[Path, str]:
    names = _class_names()
    return {ASYNC / path.name: render(path.read_text(), names) for path in sorted(SYNC.glob("*.py"))}


if __name__ == "__main__":
    ASYNC.mkdir(exist_ok=True)
    for target, text in outputs().items():
        target.write_text(text)
        print(f"wrote {target.relative_to(PACKAGE.parent)}", file=sys.stderr)
