"""Configuration and infrastructure problems, told in one line: what is wrong and what to do.

A bad ``OPENMIRA_*`` value or an unreachable database is the operator's to fix, not a bug, so it gets
a sentence instead of a traceback. Anything else still raises: a bug should show where it is.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from openmira.config import Settings
from openmira.db.session import make_engine

# Settings whose values must not be echoed: secrets, and URLs that may carry a password.
_SECRET_SETTINGS = {"console_secret", "webhook_secret_key", "database_url", "redis_url"}


class SetupError(Exception):
    """The deployment cannot run as configured; the message says why and what to do."""


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per invalid setting of a failed ``Settings()``."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        shown = "" if field in _SECRET_SETTINGS else f"={error.get('input')!s}"
        reason = error["msg"].removeprefix("Value error, ")
        lines.append(f"OPENMIRA_{field.upper()}{shown} is not valid: {reason}; correct it or unset it")
    return lines


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def open_engine(settings: Settings) -> Engine:
    """An engine on the configured database, checked to be reachable."""
    where = settings.database_label
    try:
        engine = make_engine(settings.effective_database_url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        raise SetupError(
            f"OPENMIRA_DATABASE_URL is not a usable database URL ({_first_line(exc)}); "
            "use sqlite:///path/to/file.db or postgresql://user@host:5432/db"
        ) from None
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise SetupError(
            f"cannot open the database {where}: {_first_line(exc)}; check OPENMIRA_DATABASE_URL and that the "
            "database server is running and reachable"
        ) from None
    return engine


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except (redis.RedisError, ValueError) as exc:
        raise SetupError(
            f"cannot reach Redis at OPENMIRA_REDIS_URL ({exc}); start it, correct the URL, or unset it to use "
            "the in-process rate limiter"
        ) from None

