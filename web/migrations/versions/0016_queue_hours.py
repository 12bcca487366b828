"""Queue opening: ``closed`` (an admin closed it) and ``hours`` (opening hours, NULL: always).

A caller sent to a closed queue, or to one outside its hours, leaves it at once with the
outcome ``closed`` (fs_cc.acd.queue_def). Queues made before stay open as they were.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('hours', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('hours')
        batch_op.drop_column('closed')
