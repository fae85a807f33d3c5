"""Constraints on free text that callers store: no NUL characters, and a documented cap per field.

The caps are in characters (what a client counts) and are refused with a 400 naming the field. They are
chosen so that the largest page a caller may ask for stays far below ~32 MB in a worker: a comment page is
at most ``COMMENT_PAGE_MAX`` comments, each at most ~42 KB even in four-byte characters (figures in
docs/reliability.md).
"""

from __future__ import annotations

from openmira.core.errors import BadRequest

# PostgreSQL text cannot hold NUL characters; a field with this pattern documents that and refuses them
# with a 400 naming the field, on SQLite as on PostgreSQL, instead of a database error. (Every request is
# also checked once at the edge: core/nul.py.)
NO_NUL = r"^[^\x00]*$"

COMMENT_BODY_MAX = 10_000
COMMENT_SUBJECT_MAX = 500
RESOLUTION_NOTES_MAX = 10_000
WEBHOOK_DESCRIPTION_MAX = 500
KEY_PAIR_LABEL_MAX = 200
AGENT_REASON_MAX = 1_000
# A comments list returns at most this many per page whatever its ``limit`` (meta.page_size says so).
COMMENT_PAGE_MAX = 200
# Each endpoint costs a delivery row and an HTTP request per event it hears.
WEBHOOK_ENDPOINTS_MAX = 20
ORG_NAME_MAX = 200
PERSON_NAME_MAX = 100


def stored_text(name: str, value: str, max_length: int, *, required: bool = False) -> str:
    """``value`` stripped, or a 400 naming the field: for text a service takes from any caller (the
    API, the console, the CLI), checked where it is stored."""
    value = value.strip()
    if "\x00" in value:
        raise BadRequest.param(name, "must not contain NUL characters", "body")
    if len(value) > max_length or (required and not value):
        bounds = f"1 to {max_length}" if required else f"at most {max_length}"
        raise BadRequest.param(name, f"must be {bounds} characters", "body")
    return value
