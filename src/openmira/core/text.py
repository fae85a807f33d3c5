"""Constraints on free text that callers store."""

from __future__ import annotations

# PostgreSQL text cannot hold NUL characters; a field with this pattern documents that and refuses them
# with a 400 naming the field, on SQLite as on PostgreSQL, instead of a database error.
NO_NUL = r"^[^\x00]*$"
