"""API tokens: several named tokens per user, with an expiry, last use and revocation.

Each user's single ``users.api_token_hash`` becomes a row of ``api_tokens`` named "API token"
(the same hash of the same secret, so a token in use goes on working), and the column goes.
Going down, each user gets back the hash of their newest token still in force.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:00:00.000000
"""
import datetime

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

MIGRATED_NAME = 'API token'


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_addr', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    # naive UTC, as web.types.UTCDateTime stores times
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    op.get_bind().execute(sa.text(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at, created_by) "
        "SELECT id, :name, api_token_hash, :now, 'migration 0008' FROM users "
        "WHERE api_token_hash IS NOT NULL"), {"name": MIGRATED_NAME, "now": now})
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_api_token_hash', type_='unique')
        batch_op.drop_column('api_token_hash')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_api_token_hash', ['api_token_hash'])
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    # the newest token in force of each user: no newer one, neither revoked nor expired
    op.get_bind().execute(sa.text(
        "UPDATE users SET api_token_hash = (SELECT t.token_hash FROM api_tokens t "
        "WHERE t.user_id = users.id AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > :now) "
        "ORDER BY t.created_at DESC, t.id DESC LIMIT 1)"), {"now": now})
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
