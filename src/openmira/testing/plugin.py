"""The pytest plugin (entry point ``pytest11: openmira``): a live OpenMira server for the whole session.

Fixtures:
- ``openmira_server`` (session): the running server (``base_url``, ``token_url``, factories, ``reset()``);
- ``openmira``: the same server, emptied before the test, for tests that must start from nothing;
- ``openmira_server_env`` (session): extra ``OPENMIRA_*`` settings for the server; override it in a
  conftest.py, e.g. ``return {"OPENMIRA_RATE_LIMIT": "1000"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the server package is imported only by a session that asks for a server
    from openmira.testing.server import OpenMiraServer


@pytest.fixture(scope="session")
def openmira_server_env() -> dict[str, str]:
    return {}


@pytest.fixture(scope="session")
def openmira_server(
    tmp_path_factory: pytest.TempPathFactory, openmira_server_env: dict[str, str]
) -> Iterator[OpenMiraServer]:
    from openmira.testing.server import run_server

    with run_server(data_dir=tmp_path_factory.mktemp("openmira"), env=openmira_server_env) as server:
        yield server


@pytest.fixture
def openmira(openmira_server: OpenMiraServer) -> OpenMiraServer:
    openmira_server.reset()
    return openmira_server
