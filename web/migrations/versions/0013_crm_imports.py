"""CRM imports: the jobs, their rows' problems, the saved column mappings.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _count(name):
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade():
    op.create_table(
        'crm_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_path', sa.String(length=255), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('encoding', sa.String(length=16), nullable=True),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('policy', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        *(_count(name) for name in ('total_rows', 'batches_done', 'processed', 'created',
                                    'updated', 'skipped', 'failed')),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_imports')),
    )
    op.create_index(op.f('ix_crm_imports_status'), 'crm_imports', ['status'])
    op.create_table(
        'crm_import_errors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('column', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['crm_imports.id'],
                                name=op.f('fk_crm_import_errors_import_id_crm_imports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_import_errors')),
    )
    op.create_index('ix_crm_import_errors_import_row', 'crm_import_errors',
                    ['import_id', 'row_number'])
    op.create_table(
        'crm_import_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_import_templates')),
        sa.UniqueConstraint('owner', 'name', name='uq_crm_import_templates_owner_name'),
    )


def downgrade():
    for table in ('crm_import_templates', 'crm_import_errors', 'crm_imports'):
        op.drop_table(table)
