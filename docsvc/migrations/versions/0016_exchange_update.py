"""exchange: update and replace packages sent, XML signature of the header recorded on receipt

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Issue 17 (rest): the DocumentId a replacing package replaces, on the message sent and on the
message received, and whether a received package's header carried a valid enveloped XML-DSig.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_messages") as batch:
        batch.add_column(sa.Column("replaces", sa.String(100), nullable=True))
    with op.batch_alter_table("exchange_inbound") as batch:
        batch.add_column(sa.Column("replaces", sa.String(100), nullable=True))
        batch.add_column(sa.Column("xml_signature", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_inbound") as batch:
        batch.drop_column("xml_signature")
        batch.drop_column("replaces")
    with op.batch_alter_table("exchange_messages") as batch:
        batch.drop_column("replaces")
