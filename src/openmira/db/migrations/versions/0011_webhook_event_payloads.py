"""webhook event payloads: an event's data stored once, however many endpoints hear it

Each delivery pointed at its own copy of the payload, so one large event to an organization with many
endpoints was written once per endpoint. Existing deliveries keep their exact body: each gets an event row
of its own (the body is that event plus the delivery's ID, which is what it held).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import openmira.db.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_payloads = sa.table(
    'webhook_event_payloads',
    sa.column('id', sa.Uuid()), sa.column('event', sa.String()), sa.column('org_id', sa.Uuid()),
    sa.column('data', sa.JSON()), sa.column('created', openmira.db.base.UTCDateTime()),
)
_deliveries = sa.table(
    'webhook_deliveries',
    sa.column('id', sa.Uuid()), sa.column('payload', sa.JSON()), sa.column('payload_id', sa.Uuid()),
)
_BATCH = 500


def _created(value: str) -> datetime:
    return datetime.fromisoformat(value.replace('Z', '+00:00'))


def upgrade() -> None:
    op.create_table('webhook_event_payloads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created', openmira.db.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_event_payloads'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_id', sa.Uuid(), nullable=True))

    bind = op.get_bind()
    last: uuid.UUID | None = None
    while True:  # in batches, so a long outbox is never held in memory at once
        query = sa.select(_deliveries.c.id, _deliveries.c.payload).order_by(_deliveries.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(_deliveries.c.id > last)
        rows = bind.execute(query).all()
        if not rows:
            break
        bind.execute(_payloads.insert(), [
            {'id': delivery_id, 'event': body['event'], 'org_id': uuid.UUID(body['org_id']), 'data': body['data'],
             'created': _created(body['created'])}
            for delivery_id, body in rows
        ])
        for delivery_id, _ in rows:
            bind.execute(_deliveries.update().where(_deliveries.c.id == delivery_id).values(payload_id=delivery_id))
        last = rows[-1][0]

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.alter_column('payload_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_payload_id'), ['payload_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_webhook_deliveries_payload_id_webhook_event_payloads'), 'webhook_event_payloads',
            ['payload_id'], ['id'], ondelete='CASCADE',
        )
        batch_op.drop_column('payload')


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))

    bind = op.get_bind()
    joined = sa.select(
        _deliveries.c.id, _payloads.c.event, _payloads.c.org_id, _payloads.c.data, _payloads.c.created
    ).join(_payloads, _payloads.c.id == _deliveries.c.payload_id)
    for row in bind.execute(joined).mappings().all():
        body = {
            'id': str(row['id']), 'event': row['event'],
            'created': row['created'].isoformat().replace('+00:00', 'Z'), 'org_id': str(row['org_id']),
            'data': row['data'],
        }
        bind.execute(_deliveries.update().where(_deliveries.c.id == row['id']).values(payload=body))

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f('fk_webhook_deliveries_payload_id_webhook_event_payloads'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_payload_id'))
        batch_op.drop_column('payload_id')
    op.drop_table('webhook_event_payloads')
