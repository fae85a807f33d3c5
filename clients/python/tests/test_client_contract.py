"""The client cannot drift from the server: every operation of the server's OpenAPI document has a client
method (sync and async), and the committed generated modules equal what the generators make now."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from openmira_client import AsyncClient, Client
from openmira_client._resource import _Resource

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
PACKAGE = Path(__file__).resolve().parent.parent / "src" / "openmira_client"

pytest.importorskip("openmira", reason="the server package is needed for its OpenAPI document")


def _script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _script("generate_models").server_document()  # type: ignore[no-any-return]


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _resources(root: Any) -> list[_Resource]:
    found: list[_Resource] = []
    pending = [root.meta, root.org, root.msp, root.msp.account("any")]
    while pending:
        resource = pending.pop()
        found.append(resource)
        pending.extend(v for v in vars(resource).values() if isinstance(v, _Resource))
    return found


def _client_operations(root: Any) -> set[tuple[str, str]]:
    operations = set()
    for resource in _resources(root):
        for name in dir(type(resource)):
            marked = getattr(getattr(type(resource), name), "__openmira_operation__", None)
            if marked:
                method, path = marked
                operations.add((method, _normal(resource._prefix_template + path)))
    return operations


def _server_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), _normal(path)) for path, item in document["paths"].items() for method in item}


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_every_server_operation_has_a_client_method(document: dict[str, Any], cls: type) -> None:
    server = _server_operations(document)
    client = _client_operations(cls("id", "secret"))
    assert len(server) == 59
    assert sorted(server - client) == [], "server operations without a client method"
    assert sorted(client - server) == [], "client methods for operations the server does not have"


def test_models_are_generated_from_the_current_document(document: dict[str, Any]) -> None:
    rendered = _script("generate_models").render(document)
    assert (PACKAGE / "_models.py").read_text() == rendered, (
        "the server's schemas changed: run scripts/generate_models.py > src/openmira_client/_models.py"
    )


def test_async_resources_are_generated_from_the_sync_ones() -> None:
    expected = _script("generate_async").outputs()
    actual = {p: p.read_text() for p in (PACKAGE / "resources_async").glob("*.py")}
    assert actual == expected, "run scripts/generate_async.py"
