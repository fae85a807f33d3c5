"""File modes of the embedded (SQLite) database: it holds the token signing keys, the console session
secret and the webhook encryption key, so nobody but the server's user may read it.

The data directory is created 0700 and the database file 0600 before SQLite first opens it; SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode. Files that already exist are left as they are
(they are the operator's), and :func:`exposure_warnings` names the ones that are wider.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # a URI filename: leave it to SQLite
        return None
    return Path(parsed.database)


def make_private_directory(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by its owner only; an existing one is left alone."""
    if path.is_dir():
        return
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIRECTORY_MODE)  # mkdir's mode is narrowed by the umask, never widened: set it exactly


def create_private_file(path: Path) -> None:
    """Create an empty ``path`` with mode 0600 if it does not exist (SQLite then uses it as it is)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _wider(path: Path, allowed: int) -> int | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & ~allowed else None


def exposure_warnings(url: str, *, data_dir: bool) -> list[str]:
    """One line for each of the database's files (and, when ``data_dir``, its directory: the server's own,
    not a shared one such as /tmp that a custom URL may name) that users other than its owner may read or
    write; empty for PostgreSQL."""
    db = sqlite_path(url)
    if db is None:
        return []
    found = []
    directory_mode = _wider(db.parent, DIRECTORY_MODE) if data_dir else None
    if directory_mode is not None:
        found.append((db.parent, directory_mode, f"chmod 700 {db.parent}"))
    for path in (db, *(db.with_name(db.name + suffix) for suffix in _SIDE_FILES)):
        mode = _wider(path, FILE_MODE)
        if mode is not None:
            found.append((path, mode, f"chmod 600 {path}"))
    return [
        f"warning: {path} has mode {mode:04o}: other local users can read the token signing keys and server "
        f"secrets it holds (and mint tokens for every tenant); run `{fix}`"
        for path, mode, fix in found
    ]
