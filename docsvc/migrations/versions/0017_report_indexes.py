"""indexes for the reports dashboard

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Issue 16: the dashboard computed fresh at 100,000 documents. Covering indexes for what it counts
(incoming by arrival, issued by date, lead assignments by state and deadline), and reader tokens
indexed with their document, so the set of documents a reader reads is read from the index alone
(it replaces the index on the token only, which it starts with).
"""

from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_documents_report_arrival', 'documents', ['agency_id', 'direction', 'arrival_at', 'type_id',
                                                                 'secrecy', 'arrival_number', 'completed_at', 'id'])
    op.create_index('ix_documents_report_issued', 'documents', ['agency_id', 'issued_date', 'direction', 'status',
                                                                'type_id', 'secrecy', 'id'])
    op.create_index('ix_assignments_report', 'assignments', ['role', 'status', 'deadline', 'assigned_at',
                                                             'completed_at', 'unit_id', 'user_id', 'document_id'])
    op.create_index('ix_document_readers_token_document', 'document_readers', ['token', 'document_id'])
    op.drop_index('ix_document_readers_token', table_name='document_readers')


def downgrade() -> None:
    op.create_index('ix_document_readers_token', 'document_readers', ['token'])
    op.drop_index('ix_document_readers_token_document', table_name='document_readers')
    op.drop_index('ix_assignments_report', table_name='assignments')
    op.drop_index('ix_documents_report_issued', table_name='documents')
    op.drop_index('ix_documents_report_arrival', table_name='documents')
