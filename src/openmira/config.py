"""Deployment settings, read from ``OPENMIRA_*`` environment variables (and CLI flags)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

API_PREFIX = "/public-api/v1"
# The highest requests-per-second limit, of the deployment's settings and of one key pair's own.
MAX_RATE_LIMIT = 100_000
# Where the repository's quick start kept its data before the default became a per-user directory.
LEGACY_DATA_DIR = Path("data")


def default_data_dir() -> Path:
    """The per-user data directory (XDG): the same wherever a command is run from."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "openmira"


def legacy_data_dir() -> Path | None:
    """``./data`` if it holds a database from before the per-user default and the default holds none.

    That database keeps being used (with a notice from ``data_dir_notice``) rather than silently
    replaced by an empty one; see docs/decisions.md.
    """
    if (LEGACY_DATA_DIR / "openmira.db").is_file() and not (default_data_dir() / "openmira.db").exists():
        return LEGACY_DATA_DIR.resolve()
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENMIRA_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: legacy_data_dir() or default_data_dir(),
        description="Where the default SQLite file and demo files live; default: $XDG_DATA_HOME/openmira.",
        validate_default=True,
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    redis_url: str | None = Field(default=None, description="Redis URL for a rate-limit budget shared by processes.")
    public_url: str = Field(default="http://127.0.0.1:8000", description="The server's public base URL.")
    issuer: str | None = Field(default=None, description="Token issuer; default: public_url with a trailing slash.")
    token_lifetime: int = Field(default=2_592_000, ge=60, le=31_536_000)
    rate_limit: int = Field(
        default=10, ge=1, le=MAX_RATE_LIMIT,
        description="Requests per second per organization key pair (unless the pair has its own limit).",
    )
    msp_rate_limit: int = Field(
        default=100, ge=1, le=MAX_RATE_LIMIT,
        description="Requests per second per MSP key pair (unless the pair has its own limit).",
    )
    token_failure_limit: int = Field(default=10, ge=1, description="Failed token requests per minute before 429.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    db_threads: int = Field(
        default=8, ge=1, le=256,
        description="Database work a process runs at once, in worker threads or on the loop (more wait their turn).",
    )
    agent_command_delay: float = Field(
        default=2.0, ge=0, le=86_400,
        description="Seconds the simulated agents take for each step of a command (queued → sent → completed).",
    )
    agent_command_interval: float = Field(
        default=1.0, ge=0, le=3600,
        description="Seconds between each process's sweeps of due agent commands; 0 turns the sweep off.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"
    commit_hash: str = "unknown"
    build_time: str = "unknown"
    console_secret: str | None = Field(
        default=None,
        description="Signs console cookies; default: a random secret created once and kept in the database.",
        repr=False,
    )
    cors_origins: str = Field(
        default="",
        description=(
            "Browser origins (`https://app.example.com`, comma-separated, or `*`) that may call the API and the "
            "token endpoint from JavaScript. Empty: no CORS headers at all."
        ),
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description=(
            "Where webhooks may be delivered: a comma list of host names (`hooks.example.com`, `*.example.com`), "
            "IP addresses and CIDRs (`10.1.0.0/16`), or `*` for anywhere, each with an optional port "
            "(`hooks.example.com:8443`, `[::1]:8080`, `:*` for any; 80 and 443 without one). Empty: nowhere."
        ),
    )
    webhook_secret_key: str | None = Field(
        default=None,
        description="Encrypts webhook signing secrets at rest; default: a random key created once in the database.",
        repr=False,
    )
    webhook_worker: bool = Field(default=True, description="Run the webhook delivery worker in this process.")
    webhook_max_attempts: int = Field(default=5, ge=1, le=20, description="Delivery attempts before `failed`.")
    webhook_backoff_seconds: float = Field(
        default=30.0, gt=0, le=86_400, description="Wait before the first retry; doubled after each attempt."
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Per-attempt HTTP timeout.")
    fault_check_interval: float = Field(
        default=1.0, ge=0, le=60,
        description="How often each process looks for new injected faults (one cheap read); 0: on every request.",
    )
    admin_token: str | None = Field(
        default=None, repr=False,
        description="Enables the admin HTTP endpoints (/admin/...) for callers presenting it as a bearer token.",
    )
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="How often the worker looks for work.")

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _allowlist(cls, value: str) -> str:
        from openmira.webhooks.addresses import HostPolicy

        HostPolicy.parse(value)  # a typo fails at start-up, not silently at the first delivery
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Resolved once, so that what start-up prints is what every later step opens.
        return value.expanduser().resolve()

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split(value):
            if origin != "*" and (not origin.startswith(("http://", "https://")) or origin.count("/") != 2):
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com (no path)")
        return value

    @property
    def cors_origin_list(self) -> list[str]:
        return _split(self.cors_origins)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'openmira.db').resolve()}"

    @property
    def database_label(self) -> str:
        """The database URL to show a person: any password is masked."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.effective_database_url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(an invalid URL)"

    @property
    def effective_issuer(self) -> str:
        issuer = self.issuer or self.public_url
        return issuer.rstrip("/") + "/"

    @property
    def api_base_url(self) -> str:
        return self.public_url + API_PREFIX

    @property
    def accepted_audiences(self) -> tuple[str, ...]:
        # Blumira's own code sends "public-api"; other clients send the full API base URL.
        return ("public-api", "https://api.blumira.com/public-api/v1", self.api_base_url)


def data_dir_notice(settings: Settings) -> str | None:
    """What to tell an operator whose database is still in ``./data`` (see ``legacy_data_dir``)."""
    if settings.database_url or "OPENMIRA_DATA_DIR" in os.environ or settings.data_dir != legacy_data_dir():
        return None
    return (
        f"note: using the database in {settings.data_dir} (the old default). The default is now "
        f"{default_data_dir()}: move the directory there, or set OPENMIRA_DATA_DIR={settings.data_dir} to keep it."
    )


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
