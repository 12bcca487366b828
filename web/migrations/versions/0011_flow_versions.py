"""IVR flow versions: every saved text of a flow, its current version, and the version a call ran.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ivr_flows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_flows')),
    sa.UniqueConstraint('name', name=op.f('uq_ivr_flows_name'))
    )
    op.create_table('ivr_flow_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('yaml', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_flow_versions')),
    sa.UniqueConstraint('flow', 'version', name=op.f('uq_ivr_flow_versions_flow'))
    )
    with op.batch_alter_table('ivr_flow_versions', schema=None) as batch_op:
        batch_op.create_index('ix_ivr_flow_versions_flow_sha256', ['flow', 'sha256'],
                              unique=False)
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('flow_version', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.drop_column('flow_version')
        batch_op.drop_column('flow')
    with op.batch_alter_table('ivr_flow_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_ivr_flow_versions_flow_sha256')
    op.drop_table('ivr_flow_versions')
    op.drop_table('ivr_flows')
