"""documents and workflows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Seeds the document types of Decree 30 (data, not code: admins may add more).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


DOCUMENT_TYPES = [
    ("NQ", "Nghị quyết"), ("QĐ", "Quyết định"), ("CT", "Chỉ thị"), ("QC", "Quy chế"), ("QyĐ", "Quy định"),
    ("TB", "Thông báo"), ("HD", "Hướng dẫn"), ("CTr", "Chương trình"), ("KH", "Kế hoạch"), ("PA", "Phương án"),
    ("ĐA", "Đề án"), ("DA", "Dự án"), ("BC", "Báo cáo"), ("BB", "Biên bản"), ("TTr", "Tờ trình"),
    ("HĐ", "Hợp đồng"), ("CĐ", "Công điện"), ("GM", "Giấy mời"), ("GGT", "Giấy giới thiệu"),
    ("GUQ", "Giấy ủy quyền"), ("GNP", "Giấy nghỉ phép"), ("PG", "Phiếu gửi"), ("PC", "Phiếu chuyển"),
    ("PB", "Phiếu báo"),
]
COPY_TYPES = [("SY", "Bản sao y"), ("SL", "Bản sao lục"), ("TrS", "Bản trích sao")]


def _seed_document_types() -> None:
    table = sa.table("document_types", sa.column("id", sa.Integer), sa.column("code", sa.String),
                     sa.column("name", sa.String), sa.column("kind", sa.String), sa.column("active", sa.Boolean),
                     sa.column("sort_order", sa.Integer))
    rows = [{"code": None, "name": "Công văn", "kind": "cong_van", "active": True, "sort_order": 0}]
    rows += [{"code": c, "name": n, "kind": "typed", "active": True, "sort_order": i + 1}
             for i, (c, n) in enumerate(DOCUMENT_TYPES)]
    rows += [{"code": c, "name": n, "kind": "copy", "active": True, "sort_order": 100 + i}
             for i, (c, n) in enumerate(COPY_TYPES)]
    op.bulk_insert(table, rows)


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('document_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind in ('typed','cong_van','copy')", name=op.f('ck_document_types_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_types')),
    sa.UniqueConstraint('code', name=op.f('uq_document_types_code')),
    sa.UniqueConstraint('name', name=op.f('uq_document_types_name'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['done_at', 'next_attempt_at'], unique=False)

    op.create_table('register_counters',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('register', sa.String(length=10), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_register_counters_agency_id_organisations')),
    sa.PrimaryKeyConstraint('agency_id', 'register', 'series', 'year', name=op.f('pk_register_counters'))
    )
    op.create_table('chain_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_chain_templates_agency_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_chain_templates_created_by_users')),
    sa.ForeignKeyConstraint(['type_id'], ['document_types.id'], name=op.f('fk_chain_templates_type_id_document_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_templates'))
    )
    with op.batch_alter_table('chain_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_templates_agency_id'), ['agency_id'], unique=False)

    op.create_table('delegations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('delegator_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=4), nullable=False),
    sa.Column('type_codes', sa.JSON(), nullable=True),
    sa.Column('authorisation_ref', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("form in ('KT','TL','TUQ','Q','TM')", name=op.f('ck_delegations_form')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_delegations_agency_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_delegations_created_by_users')),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], name=op.f('fk_delegations_delegate_id_users')),
    sa.ForeignKeyConstraint(['delegator_id'], ['users.id'], name=op.f('fk_delegations_delegator_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['delegations.id'], name=op.f('fk_delegations_parent_id_delegations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegations'))
    )
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegations_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_delegate_id'), ['delegate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delegations_delegator_id'), ['delegator_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('code_number', sa.String(length=11), nullable=True),
    sa.Column('code_notation', sa.String(length=30), nullable=True),
    sa.Column('issued_date', sa.Date(), nullable=True),
    sa.Column('issuing_body', sa.String(length=200), nullable=False),
    sa.Column('issuing_organ_id', sa.String(length=13), nullable=True),
    sa.Column('dup_key', sa.String(length=300), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('signer_position', sa.String(length=200), nullable=True),
    sa.Column('authority_form', sa.String(length=8), nullable=True),
    sa.Column('urgency', sa.Integer(), nullable=False),
    sa.Column('secrecy', sa.Integer(), nullable=False),
    sa.Column('classified_on', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('page_amount', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('arrival_at', sa.DateTime(), nullable=True),
    sa.Column('arrival_number', sa.Integer(), nullable=True),
    sa.Column('received_via', sa.String(length=16), nullable=True),
    sa.Column('drafting_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('content_offline', sa.Boolean(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('register_series', sa.String(length=16), nullable=True),
    sa.Column('register_year', sa.Integer(), nullable=True),
    sa.Column('source_document_id', sa.Integer(), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("direction in ('incoming','outgoing','internal')", name=op.f('ck_documents_direction')),
    sa.CheckConstraint('secrecy between 0 and 3', name=op.f('ck_documents_secrecy')),
    sa.CheckConstraint('urgency between 0 and 3', name=op.f('ck_documents_urgency')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_documents_agency_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_documents_created_by_users')),
    sa.ForeignKeyConstraint(['drafting_unit_id'], ['organisations.id'], name=op.f('fk_documents_drafting_unit_id_organisations')),
    sa.ForeignKeyConstraint(['source_document_id'], ['documents.id'], name=op.f('fk_documents_source_document_id_documents')),
    sa.ForeignKeyConstraint(['type_id'], ['document_types.id'], name=op.f('fk_documents_type_id_document_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_agency_direction_status', ['agency_id', 'direction', 'status'], unique=False)
        batch_op.create_index('ix_documents_dup_key', ['agency_id', 'dup_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_status'), ['status'], unique=False)

    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('cert_serial', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('not_after', sa.DateTime(), nullable=False),
    sa.Column('signature_image', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind in ('pkcs12','pkcs11')", name=op.f('ck_signing_keys_kind')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_signing_keys_agency_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signing_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys'))
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_keys_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signing_keys_user_id'), ['user_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('instruction', sa.Text(), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.CheckConstraint("role in ('lead','co','info')", name=op.f('ck_assignments_role')),
    sa.CheckConstraint("status in ('open','done','reassigned','cancelled')", name=op.f('ck_assignments_status')),
    sa.CheckConstraint('user_id is not null or unit_id is not null', name=op.f('ck_assignments_target')),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_assignments_assigned_by_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_assignments_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['assignments.id'], name=op.f('fk_assignments_parent_id_assignments')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_assignments_unit_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignments_document_id'), ['document_id'], unique=False)
        batch_op.create_index('ix_assignments_unit_status', ['unit_id', 'status'], unique=False)
        batch_op.create_index('ix_assignments_user_status', ['user_id', 'status'], unique=False)

    op.create_table('chain_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status in ('active','completed','rejected','returned','superseded')", name=op.f('ck_chain_instances_status')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_chain_instances_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_chain_instances_submitted_by_users')),
    sa.ForeignKeyConstraint(['template_id'], ['chain_templates.id'], name=op.f('fk_chain_instances_template_id_chain_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_instances'))
    )
    with op.batch_alter_table('chain_instances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_instances_document_id'), ['document_id'], unique=False)

    op.create_table('document_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('base_file_id', sa.Integer(), nullable=True),
    sa.Column('validation', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role in ('main','attachment','signed','issued','issued_att','text','ocr_text','copy')", name=op.f('ck_document_files_role')),
    sa.ForeignKeyConstraint(['base_file_id'], ['document_files.id'], name=op.f('fk_document_files_base_file_id_document_files')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_document_files_created_by_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_files_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_files'))
    )
    with op.batch_alter_table('document_files', schema=None) as batch_op:
        batch_op.create_index('ix_document_files_doc_version', ['document_id', 'version'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_files_object_key'), ['object_key'], unique=False)

    op.create_table('document_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_grants_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by'], ['users.id'], name=op.f('fk_document_grants_granted_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_document_grants_unit_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_document_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_grants'))
    )
    with op.batch_alter_table('document_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_grants_document_id'), ['document_id'], unique=False)

    op.create_table('document_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('linked_document_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_document_links_created_by_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_links_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_document_id'], ['documents.id'], name=op.f('fk_document_links_linked_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_links')),
    sa.UniqueConstraint('document_id', 'linked_document_id', 'kind', name=op.f('uq_document_links_document_id_linked_document_id_kind'))
    )
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_links_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_links_linked_document_id'), ['linked_document_id'], unique=False)

    op.create_table('document_readers',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_readers_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'token', name=op.f('pk_document_readers'))
    )
    with op.batch_alter_table('document_readers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_readers_token'), ['token'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_notifications_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organ_id', sa.String(length=13), nullable=True),
    sa.Column('status_code', sa.String(length=2), nullable=True),
    sa.Column('incoming_document_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_recipients_agency_id_organisations')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_recipients_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incoming_document_id'], ['documents.id'], name=op.f('fk_recipients_incoming_document_id_documents')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_recipients_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients'))
    )
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipients_document_id'), ['document_id'], unique=False)

    op.create_table('register_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('register', sa.String(length=10), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('registered_by', sa.Integer(), nullable=True),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_register_entries_agency_id_organisations')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_register_entries_document_id_documents')),
    sa.ForeignKeyConstraint(['registered_by'], ['users.id'], name=op.f('fk_register_entries_registered_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_entries')),
    sa.UniqueConstraint('agency_id', 'register', 'series', 'year', 'number', name='uq_register_entries_number'),
    sa.UniqueConstraint('register', 'document_id', name='uq_register_entries_document')
    )
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_entries_document_id'), ['document_id'], unique=False)

    op.create_table('chain_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.CheckConstraint("kind in ('review','approve','sign','issue')", name=op.f('ck_chain_steps_kind')),
    sa.CheckConstraint("mode in ('all','any')", name=op.f('ck_chain_steps_mode')),
    sa.CheckConstraint("status in ('waiting','active','done','rejected','returned','superseded')", name=op.f('ck_chain_steps_status')),
    sa.ForeignKeyConstraint(['instance_id'], ['chain_instances.id'], name=op.f('fk_chain_steps_instance_id_chain_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_steps'))
    )
    with op.batch_alter_table('chain_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_steps_instance_id'), ['instance_id'], unique=False)

    op.create_table('progress_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_progress_updates_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_progress_updates_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_progress_updates_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_updates'))
    )
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_updates_document_id'), ['document_id'], unique=False)

    op.create_table('chain_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('delegation_id', sa.Integer(), nullable=True),
    sa.Column('authority_form', sa.String(length=8), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("decision is null or decision in ('approved','rejected','returned','signed','issued')", name=op.f('ck_chain_decisions_decision')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_chain_decisions_decided_by_users')),
    sa.ForeignKeyConstraint(['delegation_id'], ['delegations.id'], name=op.f('fk_chain_decisions_delegation_id_delegations')),
    sa.ForeignKeyConstraint(['step_id'], ['chain_steps.id'], name=op.f('fk_chain_decisions_step_id_chain_steps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chain_decisions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_decisions'))
    )
    with op.batch_alter_table('chain_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chain_decisions_step_id'), ['step_id'], unique=False)
        batch_op.create_index('ix_chain_decisions_user_pending', ['user_id', 'decision'], unique=False)

    _seed_document_types()


def downgrade() -> None:
    with op.batch_alter_table('chain_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_chain_decisions_user_pending')
        batch_op.drop_index(batch_op.f('ix_chain_decisions_step_id'))

    op.drop_table('chain_decisions')
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_updates_document_id'))

    op.drop_table('progress_updates')
    with op.batch_alter_table('chain_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_steps_instance_id'))

    op.drop_table('chain_steps')
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_entries_document_id'))

    op.drop_table('register_entries')
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipients_document_id'))

    op.drop_table('recipients')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('document_readers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_readers_token'))

    op.drop_table('document_readers')
    with op.batch_alter_table('document_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_links_linked_document_id'))
        batch_op.drop_index(batch_op.f('ix_document_links_document_id'))

    op.drop_table('document_links')
    with op.batch_alter_table('document_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_grants_document_id'))

    op.drop_table('document_grants')
    with op.batch_alter_table('document_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_files_object_key'))
        batch_op.drop_index('ix_document_files_doc_version')

    op.drop_table('document_files')
    with op.batch_alter_table('chain_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_instances_document_id'))

    op.drop_table('chain_instances')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_user_status')
        batch_op.drop_index('ix_assignments_unit_status')
        batch_op.drop_index(batch_op.f('ix_assignments_document_id'))

    op.drop_table('assignments')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_keys_user_id'))
        batch_op.drop_index(batch_op.f('ix_signing_keys_agency_id'))

    op.drop_table('signing_keys')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_status'))
        batch_op.drop_index('ix_documents_dup_key')
        batch_op.drop_index('ix_documents_agency_direction_status')

    op.drop_table('documents')
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delegations_delegator_id'))
        batch_op.drop_index(batch_op.f('ix_delegations_delegate_id'))
        batch_op.drop_index(batch_op.f('ix_delegations_agency_id'))

    op.drop_table('delegations')
    with op.batch_alter_table('chain_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chain_templates_agency_id'))

    op.drop_table('chain_templates')
    op.drop_table('register_counters')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    op.drop_table('document_types')
    op.drop_table('calendar_days')
