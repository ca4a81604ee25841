"""registered certificates and split-signing preparations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Issue 20: leaders sign with their own keys (USB token through docsvc-signer, or a remote-signing
provider). The server keeps the certificates users registered as theirs, and the documents it
prepared for a signature made on the signer's side (single use, bound to the document version and
content, expiring).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('serial', sa.String(length=64), nullable=False),
        sa.Column('not_after', sa.DateTime(), nullable=False),
        sa.Column('der', sa.LargeBinary(), nullable=False),
        sa.Column('csc_credential_id', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_certificates_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_certificates')),
        sa.UniqueConstraint('user_id', 'sha256', name=op.f('uq_user_certificates_user_id_sha256')),
    )
    op.create_index(op.f('ix_user_certificates_user_id'), 'user_certificates', ['user_id'], unique=False)
    op.create_table(
        'signing_preparations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=64), nullable=False),
        sa.Column('batch_id', sa.String(length=64), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=8), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('base_file_id', sa.Integer(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('object_key', sa.String(length=300), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("mode in ('token','remote')", name=op.f('ck_signing_preparations_mode')),
        sa.ForeignKeyConstraint(['base_file_id'], ['document_files.id'],
                                name=op.f('fk_signing_preparations_base_file_id_document_files')),
        sa.ForeignKeyConstraint(['certificate_id'], ['user_certificates.id'],
                                name=op.f('fk_signing_preparations_certificate_id_user_certificates')),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_signing_preparations_document_id_documents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signing_preparations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_preparations')),
        sa.UniqueConstraint('public_id', name=op.f('uq_signing_preparations_public_id')),
    )
    op.create_index(op.f('ix_signing_preparations_batch_id'), 'signing_preparations', ['batch_id'], unique=False)
    op.create_index(op.f('ix_signing_preparations_document_id'), 'signing_preparations', ['document_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_signing_preparations_document_id'), table_name='signing_preparations')
    op.drop_index(op.f('ix_signing_preparations_batch_id'), table_name='signing_preparations')
    op.drop_table('signing_preparations')
    op.drop_index(op.f('ix_user_certificates_user_id'), table_name='user_certificates')
    op.drop_table('user_certificates')
