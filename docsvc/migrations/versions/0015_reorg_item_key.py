"""reorganisation items found by their key: where a moved document came from

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Issue 19: the search index gives a document moved to a successor the provenance of the agency it came from,
looked up per indexed document by its ``document:<id>`` item.
"""

from __future__ import annotations

from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_reorg_items_item_key"), "reorg_items", ["item_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reorg_items_item_key"), table_name="reorg_items")
