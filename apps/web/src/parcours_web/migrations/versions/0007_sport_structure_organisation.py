"""A sport structure linked to the organisation its coordinators belong to (domain-sport §5).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sport_structure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_sport_structure_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_foreign_key('fk_sport_structure_organisation', 'organisation', ['organisation_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('sport_structure', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sport_structure_organisation', type_='foreignkey')
        batch_op.drop_index('ix_sport_structure_organisation_id')
        batch_op.drop_column('organisation_id')
