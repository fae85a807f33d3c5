"""The SQLite database holds the signing keys and server secrets: its directory is 0700, its files 0600, and
start-up warns about any that are wider (issue 13, item 8). Real files in a temporary directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from typer.testing import CliRunner

from openmira.cli import app
from openmira.config import get_settings
from openmira.db.session import make_engine


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the common default, under which files are created 0644
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setattr(uvicorn, "run", lambda *_a, **_kw: None)
    env = {"OPENMIRA_DATA_DIR": str(data_dir), "OPENMIRA_DATABASE_URL": None, "OPENMIRA_REDIS_URL": None}
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args), env=env)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_new_data_directory_and_database_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "fresh" / "data"
    output = _run(data, monkeypatch, "serve")
    assert "warning" not in output
    db = data / "openmira.db"
    assert _mode(data) == 0o700
    assert _mode(db) == 0o600
    engine = make_engine(f"sqlite:///{db}")  # a writer makes SQLite create its -wal and -shm files
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
            connection.commit()
            side_files = [db.with_name(db.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in side_files)
            assert [_mode(p) for p in side_files] == [0o600, 0o600]
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", [["serve"], ["demo", "--no-serve"]])
def test_start_up_warns_when_the_database_is_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    data = tmp_path / "data"
    _run(data, monkeypatch, "db", "upgrade")
    db = data / "openmira.db"
    os.chmod(data, 0o755)
    os.chmod(db, 0o644)
    output = _run(data, monkeypatch, *command)
    assert f"warning: {data} has mode 0755" in output and f"chmod 700 {data}" in output
    assert f"warning: {db} has mode 0644" in output and f"chmod 600 {db}" in output
    assert _mode(db) == 0o644  # the operator's files: named, not changed behind their back
    os.chmod(data, 0o700)
    os.chmod(db, 0o600)
    assert "warning" not in _run(data, monkeypatch, *command)


def test_a_database_url_elsewhere_is_warned_about_for_its_file_not_its_shared_directory(tmp_path: Path) -> None:
    from openmira.db.files import exposure_warnings

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: not the server's to narrow
    db = shared / "custom.db"
    url = f"sqlite:///{db}"
    make_engine(url).dispose()
    assert _mode(db) == 0o600 and exposure_warnings(url, data_dir=False) == []
    os.chmod(db, 0o640)
    (warning,) = exposure_warnings(url, data_dir=False)
    assert f"{db} has mode 0640" in warning
    assert exposure_warnings("postgresql://localhost/x", data_dir=False) == []
