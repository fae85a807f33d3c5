"""detection rules: the basis catalog and each organization's rules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openmira.db.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('basis_detection_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('type', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created', openmira.db.base.UTCDateTime(), nullable=False),
    sa.Column('modified', openmira.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_basis_detection_rules'))
    )
    with op.batch_alter_table('basis_detection_rules', schema=None) as batch_op:
        batch_op.create_index('ix_basis_detection_rules_created', ['created', 'id'], unique=False)

    op.create_table('detection_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('basis_rule_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('type', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created', openmira.db.base.UTCDateTime(), nullable=False),
    sa.Column('modified', openmira.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['basis_rule_id'], ['basis_detection_rules.id'], name=op.f('fk_detection_rules_basis_rule_id_basis_detection_rules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_detection_rules_org_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detection_rules'))
    )
    with op.batch_alter_table('detection_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_detection_rules_basis_rule_id'), ['basis_rule_id'], unique=False)
        batch_op.create_index('ix_detection_rules_org_created', ['org_id', 'created', 'id'], unique=False)
        batch_op.create_index('ix_detection_rules_org_status', ['org_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('detection_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_detection_rules_org_status')
        batch_op.drop_index('ix_detection_rules_org_created')
        batch_op.drop_index(batch_op.f('ix_detection_rules_basis_rule_id'))

    op.drop_table('detection_rules')
    with op.batch_alter_table('basis_detection_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_basis_detection_rules_created')

    op.drop_table('basis_detection_rules')
