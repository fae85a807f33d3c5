"""the default findings order (newest first, the finding ID breaking ties) read straight off an index

``ix_findings_org_created`` (org_id, created, id) gave ``ORDER BY created DESC, id ASC`` its rows newest
first, but with ties in the wrong order: SQLite sorted each page's rows again (a temporary B-tree for the
right part of the order), a tenth of a served list's CPU on SQLite; PostgreSQL an incremental sort. The
index in the default order's own directions serves it as read. ``created;asc`` now reads it backwards and sorts
its ties instead, as the default did.

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


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_org_created")
        batch_op.create_index("ix_findings_org_newest", ["org_id", sa.text("created DESC"), "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_org_newest")
        batch_op.create_index("ix_findings_org_created", ["org_id", "created", "id"], unique=False)
