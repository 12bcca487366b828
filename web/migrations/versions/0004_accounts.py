"""Accounts: roles from permissions, custom roles, users' new columns, the audit log.

Each user's ``role`` (admin, manager, supervisor, agent) becomes a link to the built-in role of
that name; going down, a user of a custom role becomes an agent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 19:00:00.000000
"""
import datetime

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BUILTIN = (
    ('admin', 'Everything, including users, roles and the audit log'),
    ('manager', 'Runs the call center: every call, agents, recordings, exports, campaigns; '
                'reads the catalog'),
    ('supervisor', 'Leads a team (班长): every call, the agents\' board, supervision, '
                   'recordings; reads the catalog'),
    ('agent', 'Answers calls: sees their own calls only'),
)


def upgrade():
    roles = op.create_table('roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roles')),
    sa.UniqueConstraint('name', name=op.f('uq_roles_name'))
    )
    op.create_table('role_permissions',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('permission', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['roles.id'],
                            name=op.f('fk_role_permissions_role_id_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission', name=op.f('pk_role_permissions'))
    )
    # naive UTC, as web.types.UTCDateTime stores times; ids from the database's own sequence
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(roles, [{'name': name, 'description': description, 'builtin': True,
                            'created_at': now, 'updated_at': now}
                           for name, description in BUILTIN])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('password_changed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET role_id = (SELECT roles.id FROM roles "
               "WHERE roles.name = users.role)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('role_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_role_id_roles'), 'roles',
                                    ['role_id'], ['id'])
        batch_op.drop_column('role')

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_user_id_at', ['user_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_user_id_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))
    op.drop_table('audit_log')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'role', sa.Enum('admin', 'manager', 'supervisor', 'agent', name='user_role',
                            native_enum=False, length=16), nullable=True))
    op.execute("UPDATE users SET role = COALESCE((SELECT roles.name FROM roles "
               "WHERE roles.id = users.role_id AND roles.builtin), 'agent')")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_users_role_id_roles'), type_='foreignkey')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('role_id')
    op.drop_table('role_permissions')
    op.drop_table('roles')
