"""The agent desktop: a queue's dispositions, the disposition filed for each call, drafts.

``queues.dispositions`` (NULL: the defaults of fs_cc.acd.queue_def) lists what an agent may file
a call of the queue as; ``call_dispositions`` keeps what was filed (one per call and agent), with
the agent's notes and the customer it concerned; ``desktop_drafts`` keeps what an agent has typed
in wrap-up so far, so a reload or a lost connection loses nothing.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa



revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispositions', sa.JSON(), nullable=True))
    op.create_table(
        'call_dispositions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_uuid', sa.String(length=64), nullable=False),
        sa.Column('agent', sa.String(length=32), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('disposition', sa.String(length=64), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False, server_default=''),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['crm_customers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('call_uuid', 'agent', name='uq_call_dispositions_call_agent'),
    )
    op.create_index('ix_call_dispositions_customer', 'call_dispositions', ['customer_id'])
    op.create_table(
        'desktop_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('call_uuid', sa.String(length=64), nullable=False),
        sa.Column('disposition', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('notes', sa.Text(), nullable=False, server_default=''),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'call_uuid', name='uq_desktop_drafts_user_call'),
    )


def downgrade():
    op.drop_table('desktop_drafts')
    op.drop_index('ix_call_dispositions_customer', table_name='call_dispositions')
    op.drop_table('call_dispositions')
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('dispositions')
