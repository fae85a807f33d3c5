"""`openmira serve --workers N` without Redis says, loudly, that the rate limit is then per process."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from openmira.cli import app


@pytest.mark.parametrize(("workers", "with_redis", "warned"), [(2, False, True), (1, False, False), (2, True, False)])
def test_several_workers_without_redis_are_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
    workers: int, with_redis: bool, warned: bool,
) -> None:
    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **kw: started.append(kw["workers"]))
    redis = request.getfixturevalue("redis_url") if with_redis else ""
    env = {"OPENMIRA_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "OPENMIRA_REDIS_URL": redis}
    result = CliRunner().invoke(app, ["serve", "--workers", str(workers)], env=env)
    assert result.exit_code == 0, result.output
    assert started == [workers]
    assert ("own rate-limit budget" in " ".join(result.output.split())) is warned
