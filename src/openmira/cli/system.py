"""``openmira keys`` and ``openmira db``: token signing keys and the database schema."""

from __future__ import annotations

from datetime import datetime, timedelta

import typer
from alembic.script import ScriptDirectory
from sqlalchemy import select

from openmira.auth.signing import SigningKey, UnknownSigningKey, revoke_signing_key, rotate_signing_key
from openmira.cli.context import JsonFlag, admin_session, fail, prepare_database, report, report_rows
from openmira.cli.errors import open_engine
from openmira.config import Settings, get_settings
from openmira.db.migrate import alembic_config, current

keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _key_json(key: SigningKey, lifetime: timedelta, now: datetime) -> dict[str, object]:
    # A retired key stays published (in the JWKS) until the last token it signed has expired.
    # A revoked key is published no more, and none of its tokens is accepted.
    until = key.retired + lifetime if key.retired and not key.revoked else None
    state = "signing" if until is None else "published" if until > now else "expired"
    state = "revoked" if key.revoked else state
    return {
        "kid": key.kid,
        "state": state,
        "created": key.created.isoformat(),
        "retired": key.retired.isoformat() if key.retired else None,
        "revoked": key.revoked.isoformat() if key.revoked else None,
        "published_until": until.isoformat() if until else None,
    }


@keys_app.command("list")
def keys_list(as_json: JsonFlag = False) -> None:
    """List signing keys: the one signing now, retired ones still published for verification, revoked ones."""
    from openmira.db.base import utcnow

    lifetime = timedelta(seconds=get_settings().token_lifetime)
    with admin_session() as session:
        keys = session.scalars(select(SigningKey).order_by(SigningKey.created.desc(), SigningKey.kid))
        rows = [_key_json(k, lifetime, utcnow()) for k in keys]
    report_rows(
        as_json, rows, ["Key ID", "State", "Created", "Retired", "Revoked", "Published until"],
        lambda r: [r["kid"], r["state"], r["created"], r["retired"], r["revoked"], r["published_until"]],
    )


@keys_app.command("rotate")
def keys_rotate(as_json: JsonFlag = False) -> None:
    """A new key signs tokens from now on; earlier keys stay published until their tokens expire."""
    with admin_session() as session:
        kid = rotate_signing_key(session)
    report(as_json, {"kid": kid}, f"New signing key {kid}")


# Keys made before kids were letters and digits only may start with "-": read it as the KID, not an option.
@keys_app.command("revoke", context_settings={"ignore_unknown_options": True})
def keys_revoke(kid: str, as_json: JsonFlag = False) -> None:
    """Refuse every token KID signed, at once (within 2 s on every server). A new key takes over signing
    if KID was signing; clients then fetch new tokens."""
    with admin_session() as session:
        try:
            new_kid = revoke_signing_key(session, kid)
        except UnknownSigningKey:
            fail(f"no signing key {kid}; see `openmira keys list`")
    message = f"Revoked signing key {kid}" + (f"; new signing key {new_kid}" if new_kid else "")
    report(as_json, {"kid": kid, "revoked": True, "new_kid": new_kid}, message)


def _revisions(settings: Settings) -> tuple[str | None, str | None]:
    """The database's schema revision and the newest this version knows; never creates a database."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if settings.database_url is None and not (settings.data_dir / "openmira.db").exists():
        return None, head
    engine = open_engine(settings)
    try:
        return current(engine), head
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(as_json: JsonFlag = False) -> None:
    """Apply every pending migration (safe to run while servers are running)."""
    settings = get_settings()
    prepare_database(settings)
    revision, _ = _revisions(settings)
    data = {"database": settings.database_label, "revision": revision}
    report(as_json, data, f"Database is up to date (revision {revision}): {settings.database_label}")


@db_app.command("current")
def db_current(as_json: JsonFlag = False) -> None:
    """Show the database in use and its schema revision, without changing anything."""
    settings = get_settings()
    revision, head = _revisions(settings)
    data = {"database": settings.database_label, "revision": revision, "head": head, "up_to_date": revision == head}
    state = "up to date" if revision == head else f"behind {head}: run `openmira db upgrade`"
    report(as_json, data, f"{settings.database_label}: revision {revision or 'none (no schema yet)'}, {state}")
