"""audit: keyed chain and signed checkpoints

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``audit_events.key_id`` names the HMAC key of a row's hash; rows written before have none and stay
verifiable as the legacy plain SHA-256 chain (up to the first keyed row, a switch point that the
first checkpoint records). ``audit_checkpoints`` lists the signed, time-stamped checkpoints kept
in the object store (the store's copy is the authority; this table finds the latest quickly).

The column is added with a plain ALTER TABLE (no table rebuild), so the append-only triggers of
0001 stay in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('key_id', sa.String(length=32), nullable=True))
    op.create_table('audit_checkpoints',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('count', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('object_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_checkpoints'))
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoints')
    op.drop_column('audit_events', 'key_id')
