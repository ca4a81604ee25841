"""agency calendars

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Each agency keeps its own calendar overrides (agency_calendar_days); calendar_days stays the
deployment-wide calendar (national holidays), which only the deployment's administrator edits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agency_calendar_days',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organisations.id'],
                            name=op.f('fk_agency_calendar_days_agency_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', 'day', name=op.f('pk_agency_calendar_days'))
    )


def downgrade() -> None:
    op.drop_table('agency_calendar_days')
