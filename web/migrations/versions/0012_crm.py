"""CRM: customers, their phones, tags, custom fields and values, notes and change history.

On PostgreSQL the pg_trgm extension is created first: the customers' ``name_search`` and the
phones' ``digits`` get trigram GIN indexes, so a fragment of a name or of a number is found by
index (SQLite gets plain indexes there and searches with LIKE).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _id():
    return sa.Column('id', sa.Integer(), nullable=False)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_table(
        'crm_customers', _id(),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('name_search', sa.String(length=600), nullable=False),
        sa.Column('gender', sa.String(length=8), nullable=False),
        sa.Column('birthday', sa.Date(), nullable=True),
        sa.Column('province', sa.String(length=64), nullable=False),
        sa.Column('city', sa.String(length=64), nullable=False),
        sa.Column('district', sa.String(length=64), nullable=False),
        sa.Column('street', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=255), nullable=False),
        sa.Column('company', sa.String(length=255), nullable=False),
        sa.Column('card_number', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('consent_mail', sa.Boolean(), nullable=False),
        sa.Column('consent_gifts', sa.Boolean(), nullable=False),
        sa.Column('level', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('custom', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.Column('deleted_by', sa.String(length=64), nullable=True),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'],
                                name=op.f('fk_crm_customers_owner_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merged_into_id'], ['crm_customers.id'],
                                name=op.f('fk_crm_customers_merged_into_id_crm_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_customers')),
        sa.UniqueConstraint('card_number', name=op.f('uq_crm_customers_card_number')),
    )
    for column in ('source', 'level', 'owner_id', 'created_at'):
        op.create_index(op.f(f'ix_crm_customers_{column}'), 'crm_customers', [column])
    op.create_index('ix_crm_customers_name_search', 'crm_customers', ['name_search'],
                    postgresql_using='gin', postgresql_ops={'name_search': 'gin_trgm_ops'})
    op.create_table(
        'crm_phones', _id(),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('e164', sa.String(length=20), nullable=False),
        sa.Column('digits', sa.String(length=24), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=32), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        _fk('crm_phones'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_phones')),
        sa.UniqueConstraint('customer_id', 'e164', name='uq_crm_phones_customer_id_e164'),
    )
    op.create_index(op.f('ix_crm_phones_customer_id'), 'crm_phones', ['customer_id'])
    op.create_index(op.f('ix_crm_phones_e164'), 'crm_phones', ['e164'])
    op.create_index('ix_crm_phones_digits', 'crm_phones', ['digits'],
                    postgresql_using='gin', postgresql_ops={'digits': 'gin_trgm_ops'})
    op.create_table(
        'crm_customer_tags',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=64), nullable=False),
        _fk('crm_customer_tags'),
        sa.PrimaryKeyConstraint('customer_id', 'tag', name=op.f('pk_crm_customer_tags')),
    )
    op.create_index('ix_crm_customer_tags_tag', 'crm_customer_tags', ['tag', 'customer_id'])
    op.create_table(
        'crm_custom_fields', _id(),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_custom_fields')),
        sa.UniqueConstraint('key', name=op.f('uq_crm_custom_fields_key')),
    )
    op.create_table(
        'crm_custom_values', _id(),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('field_id', sa.Integer(), nullable=False),
        sa.Column('text_value', sa.String(length=255), nullable=True),
        sa.Column('number_value', sa.Float(), nullable=True),
        sa.Column('date_value', sa.Date(), nullable=True),
        _fk('crm_custom_values'),
        sa.ForeignKeyConstraint(['field_id'], ['crm_custom_fields.id'],
                                name=op.f('fk_crm_custom_values_field_id_crm_custom_fields'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_custom_values')),
    )
    op.create_index(op.f('ix_crm_custom_values_customer_id'), 'crm_custom_values',
                    ['customer_id'])
    for kind in ('text', 'number', 'date'):
        op.create_index(f'ix_crm_custom_values_field_{kind}', 'crm_custom_values',
                        ['field_id', f'{kind}_value'])
    op.create_table(
        'crm_notes', _id(),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        _fk('crm_notes'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_notes')),
    )
    op.create_index(op.f('ix_crm_notes_customer_id'), 'crm_notes', ['customer_id'])
    op.create_table(
        'crm_history', _id(),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('field', sa.String(length=64), nullable=True),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        _fk('crm_history'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_history')),
    )
    op.create_index('ix_crm_history_customer_at', 'crm_history', ['customer_id', 'at'])


def _fk(table):
    return sa.ForeignKeyConstraint(['customer_id'], ['crm_customers.id'],
                                   name=op.f(f'fk_{table}_customer_id_crm_customers'),
                                   ondelete='CASCADE')


def downgrade():
    for table in ('crm_history', 'crm_notes', 'crm_custom_values', 'crm_custom_fields',
                  'crm_customer_tags', 'crm_phones', 'crm_customers'):
        op.drop_table(table)
