"""dossiers and archives

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Retention catalogue (versioned; seeded with common entries), dossier plans and dossiers, archive
transfers, legal holds, disposal lists, secrecy decisions and the storage locks applied to objects.

The seeded retention entries are common examples in the spirit of Circular 10/2022/TT-BNV; their
periods are data an administrator edits (each edit is a new version), to be checked against the
Circular's table before production use.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LEGAL_BASIS = "Thông tư 10/2022/TT-BNV (đối chiếu bảng thời hạn bảo quản trước khi dùng)"
RETENTION_SEED = [
    # code, description, years (None: permanent)
    ("VV-01", "Tập lưu văn bản đi; quyết định, quy chế, quy định của cơ quan", None),
    ("VV-02", "Hồ sơ kế hoạch, báo cáo công tác năm của cơ quan", None),
    ("VV-03", "Hồ sơ xây dựng, ban hành văn bản quy phạm pháp luật, đề án, dự án do cơ quan chủ trì", None),
    ("NS-70", "Hồ sơ cán bộ, công chức, viên chức", 70),
    ("XD-50", "Hồ sơ công trình xây dựng cơ bản", 50),
    ("TC-20", "Sổ đăng ký văn bản đi, văn bản đến; hồ sơ thanh tra, kiểm tra", 20),
    ("KH-10", "Hồ sơ kế hoạch, báo cáo công tác tháng, quý, 6 tháng", 10),
    ("HN-10", "Hồ sơ hội nghị, hội thảo, tập huấn nghiệp vụ", 10),
    ("CV-05", "Công văn trao đổi về những vấn đề chung", 5),
    ("TK-02", "Văn bản gửi để biết, tài liệu tham khảo", 2),
]


def _seed_retention() -> None:
    table = sa.table("retention_periods", sa.column("code", sa.String), sa.column("version", sa.Integer),
                     sa.column("description", sa.Text), sa.column("years", sa.Integer),
                     sa.column("legal_basis", sa.String), sa.column("is_current", sa.Boolean),
                     sa.column("created_at", sa.DateTime))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(table, [{"code": c, "version": 1, "description": d, "years": y, "legal_basis": LEGAL_BASIS,
                            "is_current": True, "created_at": now} for c, d, y in RETENTION_SEED])


def upgrade() -> None:
    op.create_table('object_locks',
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('applied_retain_until', sa.DateTime(), nullable=True),
    sa.Column('applied_legal_hold', sa.Boolean(), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('object_key', name=op.f('pk_object_locks'))
    )
    with op.batch_alter_table('object_locks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_object_locks_pending'), ['pending'], unique=False)

    op.create_table('archive_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('received_by', sa.Integer(), nullable=False),
    sa.Column('delivered_by', sa.Integer(), nullable=True),
    sa.Column('transferred_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_archive_transfers_agency_id_organisations')),
    sa.ForeignKeyConstraint(['delivered_by'], ['users.id'], name=op.f('fk_archive_transfers_delivered_by_users')),
    sa.ForeignKeyConstraint(['received_by'], ['users.id'], name=op.f('fk_archive_transfers_received_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_transfers')),
    sa.UniqueConstraint('agency_id', 'year', 'number', name='uq_archive_transfers_number')
    )
    op.create_table('disposal_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('secrecy', sa.Integer(), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('council_opinion', sa.Text(), nullable=True),
    sa.Column('council_members', sa.JSON(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_ref', sa.String(length=100), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('destroyed_by', sa.Integer(), nullable=True),
    sa.Column('destroyed_at', sa.DateTime(), nullable=True),
    sa.Column('destruction_record', sa.JSON(), nullable=True),
    sa.CheckConstraint("status in ('proposed','reviewed','approved','rejected','destroyed')", name=op.f('ck_disposal_lists_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_disposal_lists_agency_id_organisations')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_disposal_lists_decided_by_users')),
    sa.ForeignKeyConstraint(['destroyed_by'], ['users.id'], name=op.f('fk_disposal_lists_destroyed_by_users')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_disposal_lists_reviewed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_lists'))
    )
    with op.batch_alter_table('disposal_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_lists_agency_id'), ['agency_id'], unique=False)

    op.create_table('dossier_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_dossier_plans_agency_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_dossier_plans_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_plans')),
    sa.UniqueConstraint('agency_id', 'year', name='uq_dossier_plans_agency_year')
    )
    op.create_table('retention_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('years', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.String(length=300), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('change_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('years is null or (years >= 1 and years <= 200)', name=op.f('ck_retention_periods_years')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_retention_periods_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_periods')),
    sa.UniqueConstraint('code', 'version', name='uq_retention_periods_code_version')
    )
    with op.batch_alter_table('retention_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_periods_code'), ['code'], unique=False)

    op.create_table('dossiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('notation', sa.String(length=20), nullable=False),
    sa.Column('file_code', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=1000), nullable=False),
    sa.Column('retention_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('secrecy', sa.Integer(), nullable=False),
    sa.Column('rights', sa.String(length=12), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('construction', sa.Boolean(), nullable=False),
    sa.Column('settlement_date', sa.Date(), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('work_ended_on', sa.Date(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('doc_total', sa.Integer(), nullable=True),
    sa.Column('page_total', sa.Integer(), nullable=True),
    sa.Column('transfer_due_on', sa.Date(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.Column('destroyed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("rights in ('public','restricted')", name=op.f('ck_dossiers_rights')),
    sa.CheckConstraint("status in ('planned','open','closed','archived','destroyed')", name=op.f('ck_dossiers_status')),
    sa.CheckConstraint('secrecy between 0 and 3', name=op.f('ck_dossiers_secrecy')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_dossiers_agency_id_organisations')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_dossiers_created_by_users')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_dossiers_owner_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['dossier_plans.id'], name=op.f('fk_dossiers_plan_id_dossier_plans')),
    sa.ForeignKeyConstraint(['retention_id'], ['retention_periods.id'], name=op.f('fk_dossiers_retention_id_retention_periods')),
    sa.ForeignKeyConstraint(['transfer_id'], ['archive_transfers.id'], name=op.f('fk_dossiers_transfer_id_archive_transfers')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_dossiers_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('file_code', name=op.f('uq_dossiers_file_code')),
    sa.UniqueConstraint('plan_id', 'notation', name='uq_dossiers_plan_notation')
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('ix_dossiers_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_plan_id'), ['plan_id'], unique=False)

    op.create_table('secrecy_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_level', sa.Integer(), nullable=False),
    sa.Column('to_level', sa.Integer(), nullable=False),
    sa.Column('protected_until_before', sa.Date(), nullable=False),
    sa.Column('protected_until_after', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decision_ref', sa.String(length=100), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action in ('extend','declassify','auto_declassify')", name=op.f('ck_secrecy_decisions_action')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_secrecy_decisions_decided_by_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_secrecy_decisions_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secrecy_decisions'))
    )
    with op.batch_alter_table('secrecy_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_secrecy_decisions_document_id'), ['document_id'], unique=False)

    op.create_table('disposal_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('retention_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("decision in ('destroy','keep','withheld','destroyed')", name=op.f('ck_disposal_items_decision')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_disposal_items_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['list_id'], ['disposal_lists.id'], name=op.f('fk_disposal_items_list_id_disposal_lists')),
    sa.ForeignKeyConstraint(['retention_id'], ['retention_periods.id'], name=op.f('fk_disposal_items_retention_id_retention_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_items')),
    sa.UniqueConstraint('list_id', 'dossier_id', name='uq_disposal_items_list_dossier')
    )
    with op.batch_alter_table('disposal_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_items_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposal_items_list_id'), ['list_id'], unique=False)

    op.create_table('dossier_documents',
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=True),
    sa.Column('filed_by', sa.Integer(), nullable=True),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_dossier_documents_document_id_documents')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_documents_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['filed_by'], ['users.id'], name=op.f('fk_dossier_documents_filed_by_users')),
    sa.PrimaryKeyConstraint('dossier_id', 'document_id', name=op.f('pk_dossier_documents'))
    )
    with op.batch_alter_table('dossier_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_documents_document_id'), ['document_id'], unique=False)

    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.Integer(), nullable=False),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('released_by', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('(document_id is null) <> (dossier_id is null)', name=op.f('ck_legal_holds_one_target')),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'], name=op.f('fk_legal_holds_agency_id_organisations')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_legal_holds_document_id_documents')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_legal_holds_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['placed_by'], ['users.id'], name=op.f('fk_legal_holds_placed_by_users')),
    sa.ForeignKeyConstraint(['released_by'], ['users.id'], name=op.f('fk_legal_holds_released_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_holds_dossier_id'), ['dossier_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_destroyed_at', sa.DateTime(), nullable=True))

    _seed_retention()


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('content_destroyed_at')

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_legal_holds_document_id'))

    op.drop_table('legal_holds')
    with op.batch_alter_table('dossier_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_documents_document_id'))

    op.drop_table('dossier_documents')
    with op.batch_alter_table('disposal_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_items_list_id'))
        batch_op.drop_index(batch_op.f('ix_disposal_items_dossier_id'))

    op.drop_table('disposal_items')
    with op.batch_alter_table('secrecy_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_secrecy_decisions_document_id'))

    op.drop_table('secrecy_decisions')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_plan_id'))
        batch_op.drop_index('ix_dossiers_agency_status')

    op.drop_table('dossiers')
    with op.batch_alter_table('retention_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_periods_code'))

    op.drop_table('retention_periods')
    op.drop_table('dossier_plans')
    with op.batch_alter_table('disposal_lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_lists_agency_id'))

    op.drop_table('disposal_lists')
    op.drop_table('archive_transfers')
    with op.batch_alter_table('object_locks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_object_locks_pending'))

    op.drop_table('object_locks')
