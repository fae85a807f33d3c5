"""The app as a server process runs it (``openmira.app.serve_app``): what building it left alive is frozen out
of the garbage collector, so a full collection no longer walks the app's long-lived objects (it stopped every
request for about 90 ms), and the app serves as ``create_app``'s does. In a subprocess: frozen objects are
never freed, and this test process builds many apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from openmira.cli import app

PROBE = """
import gc, json
from fastapi.testclient import TestClient
from openmira.app import serve_app

app = serve_app()
frozen = gc.get_freeze_count()
with TestClient(app) as client:
    health = client.get("/public-api/v1/health").status_code
print(json.dumps({"frozen": frozen, "health": health}))
"""


def test_serve_app_freezes_what_building_the_app_left_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENMIRA_")}
    env.update(OPENMIRA_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", OPENMIRA_WEBHOOK_WORKER="false")
    upgraded = subprocess.run([sys.executable, "-m", "openmira.cli", "db", "upgrade"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    probe = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    # Modules, routes, models and schemas: well over a hundred thousand objects on this app.
    assert result["frozen"] > 50_000
    assert result["health"] == 200


def test_openmira_serve_runs_serve_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, bool]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: started.append((target, kw["factory"])))
    env = {"OPENMIRA_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "OPENMIRA_REDIS_URL": ""}
    result = CliRunner().invoke(app, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert started == [("openmira.app:serve_app", True)]
