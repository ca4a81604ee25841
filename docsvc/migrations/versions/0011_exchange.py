"""exchange with other systems (edXML)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

The agency directory (exchange_agencies), the outbound queue of edXML packages and status
messages (exchange_messages), what arrived (exchange_inbound, unique by message id), and users'
notification e-mail preferences (notification_mail_prefs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organ_id', sa.String(length=13), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('transport', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_agencies')),
    sa.UniqueConstraint('organ_id', name=op.f('uq_exchange_agencies_organ_id'))
    )
    op.create_table('exchange_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('document_ref', sa.String(length=100), nullable=False),
    sa.Column('to_organ_id', sa.String(length=13), nullable=True),
    sa.Column('to_email', sa.String(length=254), nullable=True),
    sa.Column('transport', sa.String(length=16), nullable=True),
    sa.Column('business', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.String(length=2), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('receipt', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                            name=op.f('fk_exchange_messages_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'],
                            name=op.f('fk_exchange_messages_recipient_id_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_exchange_messages_message_id'))
    )
    op.create_index(op.f('ix_exchange_messages_document_id'), 'exchange_messages', ['document_id'], unique=False)
    op.create_index(op.f('ix_exchange_messages_recipient_id'), 'exchange_messages', ['recipient_id'], unique=False)
    op.create_index(op.f('ix_exchange_messages_state'), 'exchange_messages', ['state'], unique=False)
    op.create_table('exchange_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('from_organ_id', sa.String(length=13), nullable=True),
    sa.Column('to_organ_id', sa.String(length=13), nullable=True),
    sa.Column('document_ref', sa.String(length=100), nullable=True),
    sa.Column('business', sa.Integer(), nullable=True),
    sa.Column('status_code', sa.String(length=2), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('quarantine', sa.String(length=500), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                            name=op.f('fk_exchange_inbound_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'],
                            name=op.f('fk_exchange_inbound_recipient_id_recipients'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_inbound')),
    sa.UniqueConstraint('message_id', name=op.f('uq_exchange_inbound_message_id'))
    )
    op.create_index(op.f('ix_exchange_inbound_document_id'), 'exchange_inbound', ['document_id'], unique=False)
    op.create_index(op.f('ix_exchange_inbound_recipient_id'), 'exchange_inbound', ['recipient_id'], unique=False)
    op.create_table('notification_mail_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('last_notification_id', sa.Integer(), nullable=False),
    sa.Column('last_digest_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_notification_mail_prefs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_mail_prefs'))
    )


def downgrade() -> None:
    op.drop_table('notification_mail_prefs')
    op.drop_index(op.f('ix_exchange_inbound_recipient_id'), table_name='exchange_inbound')
    op.drop_index(op.f('ix_exchange_inbound_document_id'), table_name='exchange_inbound')
    op.drop_table('exchange_inbound')
    op.drop_index(op.f('ix_exchange_messages_state'), table_name='exchange_messages')
    op.drop_index(op.f('ix_exchange_messages_recipient_id'), table_name='exchange_messages')
    op.drop_index(op.f('ix_exchange_messages_document_id'), table_name='exchange_messages')
    op.drop_table('exchange_messages')
    op.drop_table('exchange_agencies')
