"""agent commands: actions dispatched to devices and their progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openmira.db.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_commands',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('created', openmira.db.base.UTCDateTime(), nullable=False),
    sa.Column('modified', openmira.db.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['agent_devices.id'], name=op.f('fk_agent_commands_device_id_agent_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_agent_commands_org_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_agent_commands_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_commands'))
    )
    with op.batch_alter_table('agent_commands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_commands_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_commands_requested_by'), ['requested_by'], unique=False)
        batch_op.create_index('ix_agent_commands_org_created', ['org_id', 'created', 'id'], unique=False)
        batch_op.create_index('ix_agent_commands_status_modified', ['status', 'modified'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agent_commands', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_commands_status_modified')
        batch_op.drop_index('ix_agent_commands_org_created')
        batch_op.drop_index(batch_op.f('ix_agent_commands_requested_by'))
        batch_op.drop_index(batch_op.f('ix_agent_commands_device_id'))

    op.drop_table('agent_commands')
