"""First run: where the data lives, one-line setup errors, help texts, --json and --version everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openmira import __version__
from openmira.cli import app
from tests.core.test_cli import as_json, openmira
from tests.live import server_env

LONG_NAMES = "x" * 150


def _leaf_commands() -> dict[str, Any]:
    # Typer ships its own copy of click, so groups are recognised by their commands, not their class.
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = command

    walk(typer.main.get_command(app), "")
    return found


def test_every_command_has_a_description_and_json() -> None:
    commands = _leaf_commands()
    assert {"serve", "demo", "seed", "orgs delete", "users disable", "keys list", "db current"} <= set(commands)
    for path, command in commands.items():
        assert (command.help or "").strip(), f"`openmira {path}` has no description"
        assert any("--json" in p.opts for p in command.params), f"`openmira {path}` has no --json"
    groups: Any = typer.main.get_command(app)
    assert all((g.help or "").strip() for g in groups.commands.values())


def test_serve_help_keeps_its_defaults() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[default: 127.0.0.1]" in result.output and "[default: 8000]" in result.output
    assert "OPENMIRA_PORT" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"openmira {__version__}"


def _run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in server_env("unused").items() if not k.startswith("OPENMIRA_")}
    return subprocess.run([sys.executable, "-m", "openmira.cli", *args], env={**clean, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def _one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"OPENMIRA_RATE_LIMIT": "abc"}, ["OPENMIRA_RATE_LIMIT=abc", "valid integer", "correct it or unset it"]),
        ({"OPENMIRA_CORS_ORIGINS": "app.example.com"}, ["OPENMIRA_CORS_ORIGINS", "not an origin"]),
        ({"OPENMIRA_DATABASE_URL": "postgresql://nobody:hunter2@127.0.0.1:1/x"},
         ["cannot open the database", "127.0.0.1:1", "check OPENMIRA_DATABASE_URL"]),
        ({"OPENMIRA_DATABASE_URL": "no such thing"}, ["not a usable database URL", "postgresql://"]),
        ({"OPENMIRA_DATABASE_URL": "mysql://x/y"}, ["not a usable database URL"]),
        ({"OPENMIRA_DATA_DIR": "/proc/openmira"}, ["cannot create the data directory", "OPENMIRA_DATA_DIR"]),
    ],
)
def test_setup_errors_are_one_line(tmp_path: Path, env: dict[str, str], words: list[str]) -> None:
    result = _run("orgs", "list", cwd=tmp_path, **env)
    _one_clear_line(result, *words)
    assert "hunter2" not in result.stderr


def test_unreachable_redis_stops_serve_with_one_line(tmp_path: Path) -> None:
    result = _run("serve", "--port", "1", cwd=tmp_path, OPENMIRA_DATA_DIR=str(tmp_path),
                  OPENMIRA_REDIS_URL="redis://127.0.0.1:1/0")
    _one_clear_line(result, "cannot reach Redis", "OPENMIRA_REDIS_URL")


def test_the_default_database_does_not_depend_on_the_directory(tmp_path: Path) -> None:
    home, one, two = tmp_path / "xdg", tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    nothing_yet = _run("db", "current", "--json", cwd=one, XDG_DATA_HOME=str(home))
    assert json.loads(nothing_yet.stdout)["revision"] is None and not home.exists()  # asking creates nothing
    created = _run("orgs", "create", "--name", "Somewhere", "--json", cwd=one, XDG_DATA_HOME=str(home))
    assert created.returncode == 0, created.stderr
    listed = _run("orgs", "list", "--json", cwd=two, XDG_DATA_HOME=str(home))
    assert "Somewhere" in listed.stdout
    assert (home / "openmira" / "openmira.db").is_file() and not (one / "data").exists()
    where = _run("db", "current", cwd=two, XDG_DATA_HOME=str(home))
    # Rich wraps at 80 columns when the output is not a terminal; a long temporary path may be wrapped.
    assert str(home / "openmira" / "openmira.db") in where.stdout.replace("\n", "")


def test_an_earlier_data_directory_is_kept_with_a_notice(tmp_path: Path) -> None:
    home, repo = tmp_path / "xdg", tmp_path / "repo"
    repo.mkdir()
    old = _run("orgs", "create", "--name", "Earlier", cwd=repo, OPENMIRA_DATA_DIR="data", XDG_DATA_HOME=str(home))
    assert old.returncode == 0 and (repo / "data" / "openmira.db").is_file()

    listed = _run("orgs", "list", "--json", cwd=repo, XDG_DATA_HOME=str(home))
    assert "Earlier" in listed.stdout
    assert "note: using the database in" in listed.stderr and "OPENMIRA_DATA_DIR=" in listed.stderr
    assert not (home / "openmira").exists()


def test_tables_never_cut_ids(database_url: str, db: Session) -> None:
    org = as_json(database_url, "orgs", "create", "--name", LONG_NAMES)
    narrow = openmira(database_url, "orgs", "list", COLUMNS="80").stdout
    assert org["id"] in narrow and LONG_NAMES in narrow and "…" not in narrow
    wide = openmira(database_url, "orgs", "list", COLUMNS="400").stdout
    assert org["id"] in wide and "┃ ID" in wide  # a table where it fits


def test_serve_says_where_it_listens_and_which_database(tmp_path: Path) -> None:
    from tests.live import free_port

    port = free_port()
    clean = {k: v for k, v in server_env("unused").items() if not k.startswith("OPENMIRA_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "openmira.cli", "serve", "--port", str(port), "--json"],
        env={**clean, "OPENMIRA_DATA_DIR": str(tmp_path), "OPENMIRA_LOG_LEVEL": "warning"},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        first = json.loads("".join(iter(process.stdout.readline, "}\n")) + "}")
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert first["url"] == f"http://127.0.0.1:{port}" and first["data_dir"] == str(tmp_path.resolve())
    assert first["database"] == f"sqlite:///{tmp_path.resolve() / 'openmira.db'}"
