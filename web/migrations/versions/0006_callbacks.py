"""Callback requests (遇忙回拨) and their attempts.

``callback_events`` stores the engines' callback events once per (engine, seq);
``callback_requests`` and ``callback_attempts`` are folded from them (web.callbacks.fold).
Times are naive UTC, as in the other tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

STATES = ('pending', 'in_progress', 'completed', 'failed', 'cancelled')
OUTCOMES = ('connected', 'no_answer', 'busy', 'failed', 'agent_no_answer', 'agent_failed')


def upgrade():
    op.create_table('callback_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('callback_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_events')),
    sa.UniqueConstraint('engine', 'seq', name=op.f('uq_callback_events_engine_seq'))
    )
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_events_callback_id'), ['callback_id'],
                              unique=False)

    op.create_table('callback_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('caller_number', sa.String(length=64), nullable=False),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum(*STATES, name='callback_state', native_enum=False, length=16),
              nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=32), nullable=True),
    sa.Column('result_call_uuid', sa.String(length=64), nullable=True),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_requests'))
    )
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_requests_queue'), ['queue'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_requests_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_requests_requested_at'), ['requested_at'],
                              unique=False)

    op.create_table('callback_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('agent', sa.String(length=32), nullable=False),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Enum(*OUTCOMES, name='callback_attempt_outcome', native_enum=False,
                                 length=16), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('retry_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callback_requests.id'],
                            name=op.f('fk_callback_attempts_callback_id_callback_requests'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts')),
    sa.UniqueConstraint('callback_id', 'number', name=op.f('uq_callback_attempts_callback_id'))
    )


def downgrade():
    op.drop_table('callback_attempts')
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_requests_requested_at'))
        batch_op.drop_index(batch_op.f('ix_callback_requests_state'))
        batch_op.drop_index(batch_op.f('ix_callback_requests_queue'))

    op.drop_table('callback_requests')
    with op.batch_alter_table('callback_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_events_callback_id'))

    op.drop_table('callback_events')
