"""an index of the audit events that are not accesses

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Issue 21 §8: the document page shows the processing history, the document's events other than
reads, downloads, links and verifications. A document read thousands of times made that query walk
every read of it (the index on the object held them all). A partial index of the other events,
with the same literal condition the query writes, puts them one index range away.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

NOT_ACCESS = sa.text("action NOT IN ('document.download', 'document.link', 'document.read', 'document.verify')")


def upgrade() -> None:
    op.create_index('ix_audit_events_steps', 'audit_events', ['object_type', 'object_id', 'seq'],
                    sqlite_where=NOT_ACCESS, postgresql_where=NOT_ACCESS)


def downgrade() -> None:
    op.drop_index('ix_audit_events_steps', table_name='audit_events')
