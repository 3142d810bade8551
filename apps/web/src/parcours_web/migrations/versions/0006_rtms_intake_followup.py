"""rTMS referral intake details, end-of-course outcome and follow-up (domain-rtms §1, §10).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtms_referral_detail',
    sa.Column('referral_id', sa.String(length=32), nullable=False),
    sa.Column('referrer_user_id', sa.String(length=64), nullable=True),
    sa.Column('referrer_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_names', sa.String(length=150), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('ins', sa.String(length=15), nullable=True),
    sa.Column('episode_start', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('clinical_summary', sa.Text(), nullable=False),
    sa.Column('current_treatment', sa.Text(), nullable=False),
    sa.Column('past_trials', sa.Text(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('triage_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name='fk_rtms_referral_detail_referral_id_referral'),
    sa.ForeignKeyConstraint(['triage_id'], ['rtms_triage.id'], name='fk_rtms_referral_detail_triage_id_rtms_triage'),
    sa.PrimaryKeyConstraint('referral_id', name='pk_rtms_referral_detail')
    )
    with op.batch_alter_table('rtms_referral_detail', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_referral_detail_referrer', ['referrer_user_id', 'created_at'], unique=False)

    op.create_table('rtms_course_outcome',
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('referral_id', sa.String(length=32), nullable=True),
    sa.Column('course_status', sa.String(length=20), nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('outcome_status', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('maintenance_plan', sa.String(length=20), nullable=False),
    sa.Column('maintenance_template', sa.String(length=40), nullable=True),
    sa.Column('clinician_comment', sa.Text(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('letter_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name='fk_rtms_course_outcome_course_id_rtms_course'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_rtms_course_outcome_patient_id_patient'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name='fk_rtms_course_outcome_referral_id_referral'),
    sa.PrimaryKeyConstraint('course_id', name='pk_rtms_course_outcome')
    )
    with op.batch_alter_table('rtms_course_outcome', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_course_outcome_patient_id', ['patient_id'], unique=False)
        batch_op.create_index('ix_rtms_course_outcome_referral_id', ['referral_id'], unique=False)

    op.create_table('rtms_follow_up',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('months_after_end', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assessment_id', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'], name='fk_rtms_follow_up_assessment_id_assessment'),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name='fk_rtms_follow_up_course_id_rtms_course'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_rtms_follow_up_patient_id_patient'),
    sa.PrimaryKeyConstraint('id', name='pk_rtms_follow_up'),
    sa.UniqueConstraint('course_id', 'months_after_end', name='uq_rtms_follow_up_course_months')
    )
    with op.batch_alter_table('rtms_follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_follow_up_patient_due', ['patient_id', 'due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rtms_follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_follow_up_patient_due')
    op.drop_table('rtms_follow_up')
    with op.batch_alter_table('rtms_course_outcome', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_course_outcome_referral_id')
        batch_op.drop_index('ix_rtms_course_outcome_patient_id')
    op.drop_table('rtms_course_outcome')
    with op.batch_alter_table('rtms_referral_detail', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_referral_detail_referrer')
    op.drop_table('rtms_referral_detail')
