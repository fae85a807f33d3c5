"""Throw-away databases: a SQLite file in a temporary folder, or a new PostgreSQL database.

PostgreSQL is reached through an admin URL (trust auth, like the tests' ``OPENMIRA_TEST_POSTGRES_URL``);
the benchmark creates ``openmira_bench_<pid>_<random>`` there and drops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BACKENDS = ("sqlite", "postgres")


def _pg_url(admin_url: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{dbname}"


@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="openmira-bench-sqlite-"))
    try:
        yield f"sqlite:///{folder / 'openmira.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"openmira_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(backend: str, pg_admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with sqlite_database() as url:
            yield url
    elif backend == "postgres":
        with postgres_database(pg_admin_url) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
