"""``./dev``: the demo installs the runtime only, test and lint add the test tools, each exactly when needed.

Run in a sandbox: a copy of the script beside a copy of pyproject.toml, and a fake ``.venv`` whose
programs only write down how they were called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The test tools and the client library, which the suite tests too.
TEST_INSTALL = "-e .[test] -e ./clients/python"


def _sandbox(tmp_path: Path) -> Path:
    for name in ("dev", "pyproject.toml", "clients/python/pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "openmira", "ruff"):
        program = bin_dir / name
        program.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls.log"\n')
        program.chmod(0o755)
    return tmp_path


def _dev(sandbox: Path, *args: str, **env: str) -> list[str]:
    log = sandbox / "calls.log"
    log.unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "OPENMIRA_TEST_WORKERS"} | env
    subprocess.run(["sh", str(sandbox / "dev"), *args], check=True, capture_output=True, timeout=30, env=environment)
    return log.read_text().splitlines()


def _installs(calls: list[str]) -> list[str]:
    return [c.split("install --quiet ")[1] for c in calls if "pip install" in c]


def test_demo_installs_the_runtime_and_test_adds_the_test_tools(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)
    first = _dev(sandbox, "demo", "--port", "9000")
    assert _installs(first) == ["--upgrade pip", "-e ."] and first[-1] == "openmira demo --port 9000"
    assert _installs(_dev(sandbox, "orgs", "list")) == []

    test = _dev(sandbox, "test", "-q")
    # One pytest process per core, unless told otherwise (a later -n wins, as pytest reads it).
    assert _installs(test) == ["--upgrade pip", TEST_INSTALL]
    parallel = "--maxprocesses 4 --dist worksteal"
    assert test[-1] == f"python -m pytest -n auto {parallel} -q"
    assert _dev(sandbox, "test", "-n", "0")[-1] == f"python -m pytest -n auto {parallel} -n 0"
    assert _dev(sandbox, "test", OPENMIRA_TEST_WORKERS="3")[-1] == f"python -m pytest -n 3 {parallel}"
    assert _installs(_dev(sandbox, "lint")) == []
    assert _installs(_dev(sandbox, "demo")) == []  # the test install holds the runtime too

    # pyproject.toml changed after both installs: each kind of install happens again, once.
    now = time.time()
    for stamp in (sandbox / ".venv").glob(".openmira-installed*"):
        os.utime(stamp, (now - 100, now - 100))
    os.utime(sandbox / "pyproject.toml", (now - 50, now - 50))
    assert _installs(_dev(sandbox, "demo")) == ["--upgrade pip", "-e ."]
    assert _installs(_dev(sandbox, "lint")) == ["--upgrade pip", TEST_INSTALL]
    assert _installs(_dev(sandbox, "test")) == []

    # The client library changed: the test install (which tests it) happens again; the demo's does not.
    now = time.time()
    for stamp in (sandbox / ".venv").glob(".openmira-installed*"):
        os.utime(stamp, (now - 100, now - 100))
    os.utime(sandbox / "pyproject.toml", (now - 200, now - 200))
    os.utime(sandbox / "clients/python/pyproject.toml", (now - 50, now - 50))
    assert _installs(_dev(sandbox, "demo")) == []
    assert _installs(_dev(sandbox, "test")) == ["--upgrade pip", TEST_INSTALL]
