"""page positions of the number and date

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Where the registry prints the number/notation and the place and date on page 1 of an outgoing
draft that does not show ``Số:`` / ``ngày … tháng … năm`` itself: given by the registry before the
competent person signs (the signature creates the fields there).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('page_positions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('page_positions')
