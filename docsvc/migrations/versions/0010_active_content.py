"""active content flags of stored files

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07

Issue 14 §8: the kinds of active content (JavaScript, launch actions, embedded files...) found
in an uploaded PDF, kept with its file (and inherited by the renditions made from it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_files") as batch:
        batch.add_column(sa.Column("active_content", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_files") as batch:
        batch.drop_column("active_content")
