"""Queue settings: greeting, announcements, limits, overflow, agents' timings, recording, skills.

Every setting of fs_cc.acd.queue_def becomes a column of ``queues`` with a server default equal
to the setting's default, so queues made before keep working as they did. ``ring_timeout``,
``retry_delay`` and ``record`` are NULL for "the deployment's setting".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = (
    ('greeting', sa.String(length=255), False, ''),
    ('announce_interval', sa.Float(), False, '0'),
    ('announce_position', sa.Boolean(), False, sa.true()),
    ('announce_wait', sa.Boolean(), False, sa.true()),
    ('max_wait', sa.Float(), False, '0'),
    ('max_callers', sa.Integer(), False, '0'),
    ('exit_key', sa.String(length=1), False, ''),
    ('overflow', sa.JSON(), False, '{}'),
    ('wrap_up', sa.Float(), False, '0'),
    ('ring_timeout', sa.Float(), True, None),
    ('retry_delay', sa.Float(), True, None),
    ('max_no_answer', sa.Integer(), False, '3'),
    ('service_level', sa.Float(), False, '20'),
    ('record', sa.String(length=8), True, None),
    ('skills', sa.JSON(), False, '{}'),
    ('skill_relax', sa.JSON(), False, '[]'),
)


def upgrade():
    with op.batch_alter_table('queues', schema=None) as batch_op:
        for name, type_, nullable, default in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=nullable,
                                          server_default=default))


def downgrade():
    with op.batch_alter_table('queues', schema=None) as batch_op:
        for name, _, _, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
