"""delegation readers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A delegation (KT./TL./TUQ./Q./TM.) makes its delegate a reader of the drafts waiting for the
delegator while it is in effect; ``readers_in_effect`` records whether the document readers were
last recomputed with it in effect, so the periodic sweep finds the delegations that started or
ended since (expiry needs no request to take effect).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('readers_in_effect', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('delegations', schema=None) as batch_op:
        batch_op.drop_column('readers_in_effect')
