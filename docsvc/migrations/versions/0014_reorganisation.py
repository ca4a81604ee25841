"""reorganisation of agencies: lifecycle, successions, plans and their progress, closed fonds

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Issue 19: merge, split and rename agencies as one audited, resumable job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("status", sa.String(8), nullable=False, server_default="active"))
        batch.add_column(sa.Column("ceased_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("ceased_by", sa.String(200), nullable=True))
        batch.create_check_constraint(op.f("ck_organisations_status"), "status in ('active','merged','split','renamed')")
    op.create_table(
        "reorg_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(200), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("current_step", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind in ('merge','split','rename')", name=op.f("ck_reorg_plans_kind")),
        sa.CheckConstraint("status in ('draft','running','done','failed')", name=op.f("ck_reorg_plans_status")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_reorg_plans_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorg_plans")),
    )
    op.create_table(
        "agency_successions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(200), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind in ('merge','split','rename')", name=op.f("ck_agency_successions_kind")),
        sa.ForeignKeyConstraint(["predecessor_id"], ["organisations.id"],
                                name=op.f("fk_agency_successions_predecessor_id_organisations")),
        sa.ForeignKeyConstraint(["successor_id"], ["organisations.id"],
                                name=op.f("fk_agency_successions_successor_id_organisations")),
        sa.ForeignKeyConstraint(["plan_id"], ["reorg_plans.id"], name=op.f("fk_agency_successions_plan_id_reorg_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_successions")),
        sa.UniqueConstraint("predecessor_id", "successor_id",
                            name=op.f("uq_agency_successions_predecessor_id_successor_id")),
    )
    op.create_index(op.f("ix_agency_successions_predecessor_id"), "agency_successions", ["predecessor_id"])
    op.create_index(op.f("ix_agency_successions_successor_id"), "agency_successions", ["successor_id"])
    op.create_table(
        "reorg_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["reorg_plans.id"], name=op.f("fk_reorg_items_plan_id_reorg_plans"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorg_items")),
        sa.UniqueConstraint("plan_id", "step", "item_key", name=op.f("uq_reorg_items_plan_id_step_item_key")),
    )
    op.create_index(op.f("ix_reorg_items_plan_id"), "reorg_items", ["plan_id"])
    op.create_table(
        "archive_fonds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin_agency_id", sa.Integer(), nullable=False),
        sa.Column("keeper_agency_id", sa.Integer(), nullable=False),
        sa.Column("origin_name", sa.String(200), nullable=False),
        sa.Column("origin_organ_id", sa.String(13), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["origin_agency_id"], ["organisations.id"],
                                name=op.f("fk_archive_fonds_origin_agency_id_organisations")),
        sa.ForeignKeyConstraint(["keeper_agency_id"], ["organisations.id"],
                                name=op.f("fk_archive_fonds_keeper_agency_id_organisations")),
        sa.ForeignKeyConstraint(["plan_id"], ["reorg_plans.id"], name=op.f("fk_archive_fonds_plan_id_reorg_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_fonds")),
        sa.UniqueConstraint("origin_agency_id", name=op.f("uq_archive_fonds_origin_agency_id")),
    )
    op.create_index(op.f("ix_archive_fonds_keeper_agency_id"), "archive_fonds", ["keeper_agency_id"])
    op.create_table(
        "cert_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status in ('queued','running','done','failed')", name=op.f("ck_cert_batches_status")),
        sa.ForeignKeyConstraint(["agency_id"], ["organisations.id"], name=op.f("fk_cert_batches_agency_id_organisations")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_cert_batches_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_batches")),
    )
    op.create_index(op.f("ix_cert_batches_agency_id"), "cert_batches", ["agency_id"])
    op.create_table(
        "cert_batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cert_serial", sa.String(64), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["cert_batches.id"], name=op.f("fk_cert_batch_items_batch_id_cert_batches"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_cert_batch_items_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_batch_items")),
        sa.UniqueConstraint("batch_id", "line", name=op.f("uq_cert_batch_items_batch_id_line")),
    )
    op.create_index(op.f("ix_cert_batch_items_batch_id"), "cert_batch_items", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cert_batch_items_batch_id"), table_name="cert_batch_items")
    op.drop_table("cert_batch_items")
    op.drop_index(op.f("ix_cert_batches_agency_id"), table_name="cert_batches")
    op.drop_table("cert_batches")
    op.drop_index(op.f("ix_archive_fonds_keeper_agency_id"), table_name="archive_fonds")
    op.drop_table("archive_fonds")
    op.drop_index(op.f("ix_reorg_items_plan_id"), table_name="reorg_items")
    op.drop_table("reorg_items")
    op.drop_index(op.f("ix_agency_successions_successor_id"), table_name="agency_successions")
    op.drop_index(op.f("ix_agency_successions_predecessor_id"), table_name="agency_successions")
    op.drop_table("agency_successions")
    op.drop_table("reorg_plans")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint(op.f("ck_organisations_status"), type_="check")
        batch.drop_column("ceased_by")
        batch.drop_column("ceased_on")
        batch.drop_column("status")
