"""The catalog: queues, agents, queue members, DID routes and the catalog version counter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00.000000
"""
import datetime

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('strategy', sa.String(length=32), nullable=False),
    sa.Column('moh', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues')),
    sa.UniqueConstraint('name', name=op.f('uq_queues_name'))
    )
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('extension', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agents_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('extension', name=op.f('uq_agents_extension')),
    sa.UniqueConstraint('user_id', name=op.f('uq_agents_user_id'))
    )
    op.create_table('queue_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.CheckConstraint('level >= 1', name=op.f('ck_queue_members_level_positive')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'],
                            name=op.f('fk_queue_members_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'],
                            name=op.f('fk_queue_members_queue_id_queues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_members')),
    sa.UniqueConstraint('agent_id', 'queue_id', name=op.f('uq_queue_members_agent_id'))
    )
    with op.batch_alter_table('queue_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_members_queue_id'), ['queue_id'], unique=False)

    op.create_table('did_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_did_routes')),
    sa.UniqueConstraint('number', name=op.f('uq_did_routes_number'))
    )
    with op.batch_alter_table('did_routes', schema=None) as batch_op:
        batch_op.create_index('uq_did_routes_default', ['is_default'], unique=True,
                              sqlite_where=sa.text('is_default'),
                              postgresql_where=sa.text('is_default'))

    catalog_version = op.create_table('catalog_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version'))
    )
    op.bulk_insert(catalog_version, [
        # naive UTC, as web.types.UTCDateTime stores times
        {'id': 1, 'version': 0,
         'changed_at': datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)},
    ])


def downgrade():
    op.drop_table('catalog_version')
    with op.batch_alter_table('did_routes', schema=None) as batch_op:
        batch_op.drop_index('uq_did_routes_default')

    op.drop_table('did_routes')
    with op.batch_alter_table('queue_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_members_queue_id'))

    op.drop_table('queue_members')
    op.drop_table('agents')
    op.drop_table('queues')
