"""rTMS treatment history (antidepressant trials) and current medications of a patient (domain-rtms §4, §5).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtms_episode',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('diagnosis', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=40), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('duration_months', sa.Integer(), nullable=True),
    sa.Column('pseudo_resistance', sa.JSON(), nullable=False),
    sa.Column('dtd', sa.Boolean(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_rtms_episode_patient_id_patient'),
    sa.PrimaryKeyConstraint('id', name='pk_rtms_episode')
    )
    with op.batch_alter_table('rtms_episode', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_episode_patient_closed', ['patient_id', 'closed_on'], unique=False)

    op.create_table('rtms_treatment_trial',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('episode_id', sa.String(length=32), nullable=False),
    sa.Column('modality', sa.String(length=20), nullable=False),
    sa.Column('agent', sa.String(length=120), nullable=False),
    sa.Column('atc', sa.String(length=10), nullable=True),
    sa.Column('pharm_class', sa.String(length=30), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('max_daily_dose', sa.String(length=20), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('weeks_at_adequate_dose', sa.String(length=20), nullable=True),
    sa.Column('adherence', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('improvement_pct', sa.String(length=20), nullable=True),
    sa.Column('improvement_scale', sa.String(length=40), nullable=True),
    sa.Column('stop_reason', sa.String(length=30), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=True),
    sa.Column('ect_laterality', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=True),
    sa.Column('augments_agent', sa.String(length=120), nullable=True),
    sa.Column('dose_confirmed_adequate', sa.Boolean(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['rtms_episode.id'],
                            name='fk_rtms_treatment_trial_episode_id_rtms_episode'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_rtms_treatment_trial_patient_id_patient'),
    sa.PrimaryKeyConstraint('id', name='pk_rtms_treatment_trial')
    )
    with op.batch_alter_table('rtms_treatment_trial', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_treatment_trial_episode', ['episode_id'], unique=False)
        batch_op.create_index('ix_rtms_treatment_trial_patient_start', ['patient_id', 'start_date'], unique=False)

    op.create_table('rtms_medication',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('inn', sa.String(length=120), nullable=False),
    sa.Column('dose', sa.String(length=20), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('last_change_kind', sa.String(length=20), nullable=True),
    sa.Column('last_change_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_rtms_medication_patient_id_patient'),
    sa.PrimaryKeyConstraint('id', name='pk_rtms_medication')
    )
    with op.batch_alter_table('rtms_medication', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_medication_patient_inn', ['patient_id', 'inn'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rtms_medication', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_medication_patient_inn')
    op.drop_table('rtms_medication')
    with op.batch_alter_table('rtms_treatment_trial', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_treatment_trial_patient_start')
        batch_op.drop_index('ix_rtms_treatment_trial_episode')
    op.drop_table('rtms_treatment_trial')
    with op.batch_alter_table('rtms_episode', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_episode_patient_closed')
    op.drop_table('rtms_episode')
