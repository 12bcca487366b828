"""Teams, messages between users and notices to teams.

``teams`` with their supervisors (``team_supervisors``, one or more a team) and members
(``team_members``, keyed by the user: a user works in one team at most); ``chat_messages``
from a user to a user with the read receipt; ``chat_notices`` to a team (NULL: everyone) with
an optional expiry, and ``chat_notice_acks``, who acknowledged which.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09 09:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_teams'),
        sa.UniqueConstraint('name', name='uq_teams_name'),
    )
    op.create_table(
        'team_members',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_team_members_user_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name='fk_team_members_team_id_teams', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name='pk_team_members'),
    )
    op.create_index('ix_team_members_team_id', 'team_members', ['team_id'])
    op.create_table(
        'team_supervisors',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name='fk_team_supervisors_team_id_teams', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_team_supervisors_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'user_id', name='pk_team_supervisors'),
    )
    op.create_table(
        'chat_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['sender_id'], ['users.id'],
                                name='fk_chat_messages_sender_id_users', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
                                name='fk_chat_messages_recipient_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_chat_messages'),
    )
    op.create_index('ix_chat_messages_recipient_id_id', 'chat_messages', ['recipient_id', 'id'])
    op.create_index('ix_chat_messages_sender_id_id', 'chat_messages', ['sender_id', 'id'])
    op.create_table(
        'chat_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name='fk_chat_notices_author_id_users', ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name='fk_chat_notices_team_id_teams', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_chat_notices'),
    )
    op.create_index('ix_chat_notices_team_id', 'chat_notices', ['team_id'])
    op.create_table(
        'chat_notice_acks',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('acked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['chat_notices.id'],
                                name='fk_chat_notice_acks_notice_id_chat_notices',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name='fk_chat_notice_acks_user_id_users', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('notice_id', 'user_id', name='pk_chat_notice_acks'),
    )


def downgrade():
    op.drop_table('chat_notice_acks')
    op.drop_index('ix_chat_notices_team_id', table_name='chat_notices')
    op.drop_table('chat_notices')
    op.drop_index('ix_chat_messages_sender_id_id', table_name='chat_messages')
    op.drop_index('ix_chat_messages_recipient_id_id', table_name='chat_messages')
    op.drop_table('chat_messages')
    op.drop_table('team_supervisors')
    op.drop_index('ix_team_members_team_id', table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('teams')
