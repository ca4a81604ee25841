"""the reports summary: counts kept as documents change

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Issue 16: the dashboard computed fresh at 100,000 documents within 200 ms. The counts it shows are
kept per agency, visibility class (reader tokens + secrecy) and year by the services' write
transactions (``docsvc.services.reports.summary``). A database that already holds documents is
marked not ready: the dashboard counts from the rows until ``docsvc init`` (or
``docsvc reports rebuild-summary``) has built the summary.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_KEY = ('agency_id', 'year', 'class_id', 'measure', 'month', 'type_id', 'unit_id', 'user_id', 'deadline_day')


def _key_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    small = {'year', 'month'}
    return [sa.Column(name, sa.String(length=10) if name == 'measure' else sa.SmallInteger() if name in small
                      else sa.Integer(), nullable=False) for name in _KEY] + [
        sa.Column('n', sa.BigInteger(), nullable=False), sa.Column('seconds', sa.BigInteger(), nullable=False)]


def upgrade() -> None:
    op.create_table('report_reader_classes',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('agency_id', sa.Integer(), nullable=False),
                    sa.Column('secrecy', sa.SmallInteger(), nullable=False),
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('tokens', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_reader_classes')),
                    sa.UniqueConstraint('digest', name=op.f('uq_report_reader_classes_digest')))
    op.create_table('report_reader_class_tokens',
                    sa.Column('token', sa.String(length=40), nullable=False),
                    sa.Column('class_id', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('token', 'class_id', name=op.f('pk_report_reader_class_tokens')))
    op.create_table('report_counts', *_key_columns(),
                    sa.PrimaryKeyConstraint(*_KEY, name=op.f('pk_report_counts')))
    op.create_table('report_document_facts', sa.Column('document_id', sa.Integer(), nullable=False),
                    *_key_columns(),
                    sa.PrimaryKeyConstraint('document_id', *_KEY, name=op.f('pk_report_document_facts')))
    state = op.create_table('report_summary_state',
                            sa.Column('id', sa.Integer(), nullable=False),
                            sa.Column('ready', sa.Boolean(), nullable=False),
                            sa.Column('rebuilt_at', sa.DateTime(), nullable=True),
                            sa.PrimaryKeyConstraint('id', name=op.f('pk_report_summary_state')))
    # an empty database's summary is complete; one with documents waits for the rebuild
    empty = op.get_bind().execute(sa.text("SELECT NOT EXISTS (SELECT 1 FROM documents)")).scalar()
    op.bulk_insert(state, [{'id': 1, 'ready': bool(empty), 'rebuilt_at': None}])


def downgrade() -> None:
    op.drop_table('report_summary_state')
    op.drop_table('report_document_facts')
    op.drop_table('report_counts')
    op.drop_table('report_reader_class_tokens')
    op.drop_table('report_reader_classes')
