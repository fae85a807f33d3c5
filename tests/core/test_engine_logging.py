"""Database errors never carry bound values (secrets' hashes and ciphertexts, URLs, e-mails) into logs."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openmira.credentials.models import KeyPair
from tests.helpers import Tenant


def test_a_database_error_shows_the_statement_not_its_values(engine: Engine, db: Session, tenant: Tenant) -> None:
    row = {"client_id": tenant.rw.client_id, "org_id": tenant.org_id, "label": "dup", "access": "rw",
           "secret_hash": "sha256$not-to-be-logged", "tokens_valid_after": 0}
    with pytest.raises(IntegrityError) as raised:
        db.execute(insert(KeyPair), [row])  # the client ID exists: a unique-key error
    db.rollback()
    text = str(raised.value)
    assert "INSERT INTO key_pairs" in text and "hidden" in text
    # (PostgreSQL's own message names the conflicting key, a client ID: public, not a secret.)
    assert "not-to-be-logged" not in text
