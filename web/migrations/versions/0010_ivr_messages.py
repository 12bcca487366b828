"""IVR messages: voice messages (voicemail, record nodes), SMS requests, survey answers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000
"""
from alembic import op
import sqlalchemy as sa



revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

KINDS = ('voicemail', 'recording')
STATUSES = ('queued', 'sent', 'logged', 'failed', 'skipped')


def upgrade():
    op.create_table('voice_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='message_kind', native_enum=False, length=16),
              nullable=False),
    sa.Column('box', sa.String(length=80), nullable=True),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('caller_number', sa.String(length=64), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('email_to', sa.String(length=255), nullable=True),
    sa.Column('notice_status', sa.Enum(*STATUSES, name='notice_status', native_enum=False,
                                       length=16), nullable=True),
    sa.Column('notice_attempts', sa.Integer(), nullable=False),
    sa.Column('notice_error', sa.Text(), nullable=True),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.Column('notice_next_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_messages')),
    sa.UniqueConstraint('path', name=op.f('uq_voice_messages_path'))
    )
    with op.batch_alter_table('voice_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_messages_box'), ['box'], unique=False)
        batch_op.create_index(batch_op.f('ix_voice_messages_call_uuid'), ['call_uuid'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_voice_messages_left_at'), ['left_at'], unique=False)
    op.create_table('sms_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='sms_status', native_enum=False, length=16),
              nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('gateway', sa.String(length=32), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_requests'))
    )
    with op.batch_alter_table('sms_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_requests_call_uuid'), ['call_uuid'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_sms_requests_requested_at'), ['requested_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_sms_requests_status'), ['status'], unique=False)
    op.create_table('survey_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('call_uuid', sa.String(length=64), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=32), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('engine', 'seq', name='uq_survey_answers_engine_seq')
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_answered_at'), ['answered_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_call_uuid'), ['call_uuid'],
                              unique=False)


def downgrade():
    for table, indexes in (('survey_answers', ('answered_at', 'agent', 'call_uuid')),
                           ('sms_requests', ('status', 'requested_at', 'call_uuid')),
                           ('voice_messages', ('left_at', 'call_uuid', 'box'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
        op.drop_table(table)
