"""The sport-health directory: structures and practice places (domain-sport §5.5).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:57:57.205426
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sport_structure',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('accepting_referrals', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=False),
    sa.Column('profile_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sport_structure')),
    sa.UniqueConstraint('source', 'source_ref', name='uq_sport_structure_source_ref')
    )
    with op.batch_alter_table('sport_structure', schema=None) as batch_op:
        batch_op.create_index('ix_sport_structure_department', ['department_code', 'kind'], unique=False)
        batch_op.create_index('ix_sport_structure_position', ['latitude', 'longitude'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sport_structure', schema=None) as batch_op:
        batch_op.drop_index('ix_sport_structure_position')
        batch_op.drop_index('ix_sport_structure_department')

    op.drop_table('sport_structure')
