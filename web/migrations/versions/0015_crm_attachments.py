"""CRM: files attached to a customer (the bytes in a private folder under var, named by us).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'crm_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=128), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=64), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.Column('deleted_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['crm_customers.id'],
                                name=op.f('fk_crm_attachments_customer_id_crm_customers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_attachments')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_crm_attachments_stored_name')),
    )
    op.create_index(op.f('ix_crm_attachments_customer_id'), 'crm_attachments',
                    ['customer_id'])


def downgrade():
    op.drop_table('crm_attachments')
