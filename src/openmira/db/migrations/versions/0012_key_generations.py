"""key_pairs.generation and signing_keys.revoked

``generation`` counts a key pair's rotations; tokens carry it, so a rotation refuses every earlier token
even within the second it happened (``tokens_valid_after`` has whole-second resolution). ``revoked``
marks a signing key whose tokens are all refused at once (``openmira keys revoke``).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openmira.db.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('key_pairs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked', openmira.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_column('revoked')
    with op.batch_alter_table('key_pairs', schema=None) as batch_op:
        batch_op.drop_column('generation')
