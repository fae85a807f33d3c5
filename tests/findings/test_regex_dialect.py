"""One regex dialect on every backend (issue 13, item 13): each pattern of the table either matches the same
findings on SQLite and PostgreSQL, namely those RE2 itself matches, or is the same 400 on both."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openmira.core.regex import compile_pattern
from tests.findings.factory import make_finding
from tests.helpers import API, Tenant, assert_problem

NAMES = [
    "aB 12", "a.b", "axb", "S", "SSH login", "sshd", "é accent", "Ünïcode ÄÖ", "tab\there", "vtab\x0bhere",
    "line one\nline two", "a{,3}", "aaa", "[x]", "x]", "K kelvin", "under_score", "price $5", "C2 (beacon)",
    "ab" * 30,
]

# Supported: RE2's syntax and meaning, whatever the backend (ASCII classes, (?m) lines, \Q...\E, \x{..}).
SUPPORTED = [
    r"\x{53}", r"(?U)a+", r"\Qa.b\E", r"(?P<x>a)B", r"(?<x>a)", r"[\d\s]+", r"\Aa", r"\x41", r"\x61b",
    r"[[.a.]]", r"a{,3}", r"\w", r"^\w+$", r"[[:alpha:]]+$", r"[[:upper:]]{3}", r"(?i)[[:upper:]]{3}", r"\W",
    r"(?m)^line two$", r"^line two$", r"(?s)one.line", r"one.line", r"(?i)ssh", r"(?i)ÉCCENT|é", r"\bSSH\b",
    r"[^]a]", r"[]x]", r"x]", r"\s", r"\S+\s\S+", r"[^\s]", r"(?i)k", r"a{2}", r"(ab){30}", r"(ab){2,3}?$",
    r"\$\d", r"\(C2\)", r"^[a-c\x{64}]", r"[^[:ascii:]]", r"[[:punct:]]", r"\v", r"[\w-]+_", r"\z", r"a\z",
    r"[\[\]]", r"(?ims)^LINE", r"x|", r"(|z)S$", r"\.", r"ü|Ü", r"[[:word:]]{5}", r"[[:space:]]",
]

# Refused: what PostgreSQL's engine cannot express is refused on SQLite too, saying what.
REFUSED = {
    r"\pL": "Unicode classes", r"\p{Lu}": "Unicode classes", r"\PL": "Unicode classes", r"[\pL]": "Unicode classes",
    r"a(?i:B)": "flags", r"a(?i)b": "flags", r"(?-i)a": "flags", r"\C": r"\C", r"\101": "octal",
    r"[[:^alpha:]]": "[:^alpha:]", r"[\D]": r"\D inside", r"a{2,300}": "above 255", r"a{256}": "above 255",
    r"^*": "repetition of an anchor", r"\b+": "repetition of an anchor",
}


@pytest.fixture
def named(db: Session, tenant: Tenant) -> Tenant:
    for name in NAMES:
        make_finding(db, tenant.org_id, name=name)
    db.commit()
    return tenant


def _names(client: TestClient, tenant: Tenant, param: str, pattern: str) -> set[str]:
    response = client.get(f"{API}/org/findings", params={param: pattern, "limit": 500}, headers=tenant.rw.headers)
    assert response.status_code == 200, (pattern, response.text)
    return {f["name"] for f in response.json()["data"]}


@pytest.mark.parametrize("pattern", SUPPORTED)
def test_a_supported_pattern_matches_what_re2_matches(client: TestClient, named: Tenant, pattern: str) -> None:
    compiled = compile_pattern(pattern)
    expected = {n for n in NAMES if compiled.search(n)}
    assert _names(client, named, "name.regex", pattern) == expected
    assert _names(client, named, "name.!regex", pattern) == set(NAMES) - expected


@pytest.mark.parametrize("pattern", sorted(REFUSED))
def test_an_unsupported_pattern_is_the_same_400_on_every_backend(
    client: TestClient, named: Tenant, pattern: str
) -> None:
    compile_pattern(pattern)  # RE2 itself accepts it
    response = client.get(f"{API}/org/findings", params={"name.regex": pattern}, headers=named.rw.headers)
    body = assert_problem(response, 400, "name.regex")
    assert REFUSED[pattern] in body["detail"] and "not supported" in body["detail"]
