"""Export jobs run by the worker: kind, parameters, format, progress and the file kept.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

STATUSES = ('queued', 'running', 'done', 'failed')


def upgrade():
    op.create_table(
        'export_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='export_status', native_enum=False,
                                    length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('done_rows', sa.Integer(), nullable=False),
        sa.Column('file_path', sa.String(length=512), nullable=True),
        sa.Column('file_size', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_export_jobs_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    )
    for column in ('user_id', 'created_at', 'expires_at'):
        op.create_index(op.f(f'ix_export_jobs_{column}'), 'export_jobs', [column])


def downgrade():
    for column in ('user_id', 'created_at', 'expires_at'):
        op.drop_index(op.f(f'ix_export_jobs_{column}'), table_name='export_jobs')
    op.drop_table('export_jobs')
