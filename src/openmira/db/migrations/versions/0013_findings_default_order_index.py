"""findings: an index in the default order's own directions, for unfiltered lists only

``created DESC, id`` (the list's default order, ties by ID) cannot be read from ``ix_findings_org_created``
in one direction, so SQLite sorted each page's ties again (a temporary B-tree, cleared and refilled for every
row: a sixth of the page's statement). An index in those directions serves it; but a full one made SQLite
walk it for selective filtered lists too (a status filter with no match: 29 µs to 2.7 ms at 10k findings;
docs/decisions.md, rounds 15 and 16). This one is partial, on a condition every row meets (``created`` is
NOT NULL) that only the unfiltered lists' statement states (``findings.listing``): a planner uses a partial
index only for a statement that implies its condition. On SQLite every other statement's plan is unchanged;
PostgreSQL also reads it for a ``created`` window (``created.gt``), which implies the condition, in place of
the other index read backwards and an incremental sort (the same time or less, in review).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WHERE = sa.text("created IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_findings_org_created_desc", "findings", ["org_id", sa.text("created DESC"), "id"],
        sqlite_where=_WHERE, postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_findings_org_created_desc", table_name="findings")
