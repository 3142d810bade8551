"""Sport directory administration: import jobs and their progress (domain-sport §5, §6), and the
suppression register of the observer indicators (§10.2 I-2).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sport_import_job',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_format', sa.String(length=20), nullable=False),
    sa.Column('all_or_nothing', sa.Boolean(), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=True),
    sa.Column('file_bytes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name='pk_sport_import_job')
    )
    with op.batch_alter_table('sport_import_job', schema=None) as batch_op:
        batch_op.create_index('ix_sport_import_job_created_at', ['created_at'], unique=False)

    op.create_table('sport_suppression_register',
    sa.Column('period_key', sa.String(length=64), nullable=False),
    sa.Column('cells', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('period_key', name='pk_sport_suppression_register')
    )


def downgrade() -> None:
    op.drop_table('sport_suppression_register')
    with op.batch_alter_table('sport_import_job', schema=None) as batch_op:
        batch_op.drop_index('ix_sport_import_job_created_at')

    op.drop_table('sport_import_job')
