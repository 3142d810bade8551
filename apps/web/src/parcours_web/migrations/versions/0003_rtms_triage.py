"""rTMS triage decisions: proposal, physician decision and override reason (domain-rtms §2).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:09:56.877554
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtms_triage',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('proposed_orientation', sa.String(length=40), nullable=False),
    sa.Column('final_orientation', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('ruleset_version', sa.String(length=40), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_rtms_triage_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_triage'))
    )
    with op.batch_alter_table('rtms_triage', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_triage_patient_at', ['patient_id', 'decided_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rtms_triage', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_triage_patient_at')

    op.drop_table('rtms_triage')
