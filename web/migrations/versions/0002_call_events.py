"""Fact tables: the engines' call events and agent state changes (naive UTC times).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_events')),
    sa.UniqueConstraint('engine', 'seq', name=op.f('uq_call_events_engine_seq'))
    )
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_events_call_uuid'), ['call_uuid'], unique=False)

    op.create_table('agent_state_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('agent', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('status', 'login', 'logout', name='agent_change_kind', native_enum=False, length=16), nullable=False),
    sa.Column('old', sa.String(length=16), nullable=True),
    sa.Column('new', sa.String(length=16), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_changes')),
    sa.UniqueConstraint('engine', 'seq', name=op.f('uq_agent_state_changes_engine_seq'))
    )
    with op.batch_alter_table('agent_state_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_changes_agent'), ['agent'], unique=False)


def downgrade():
    with op.batch_alter_table('agent_state_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_state_changes_agent'))

    op.drop_table('agent_state_changes')
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_events_call_uuid'))

    op.drop_table('call_events')
