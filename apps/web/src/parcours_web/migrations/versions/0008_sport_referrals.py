"""Sport referrals: prescriptions, referral details, attendance and reports (domain-sport).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sport_prescription',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('patient_id', sa.String(length=32), nullable=False),
        sa.Column('organisation_id', sa.String(length=64), nullable=False),
        sa.Column('prescriber_id', sa.String(length=64), nullable=False),
        sa.Column('prescriber_name', sa.String(length=200), nullable=False),
        sa.Column('prescriber_rpps', sa.String(length=11), nullable=True),
        sa.Column('prescribed_on', sa.Date(), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('limitation_level', sa.String(length=10), nullable=False),
        sa.Column('intensity', sa.String(length=10), nullable=False),
        sa.Column('programme_months', sa.Integer(), nullable=False),
        sa.Column('sessions_per_week_min', sa.Integer(), nullable=False),
        sa.Column('sessions_per_week_max', sa.Integer(), nullable=False),
        sa.Column('sessions_planned', sa.Integer(), nullable=True),
        sa.Column('renews_prescription_id', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('disability_families', sa.JSON(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('eligibility', sa.JSON(), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('lint_hits', sa.JSON(), nullable=False),
        sa.Column('medical_notes', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name='fk_sport_prescription_organisation'),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_sport_prescription_patient'),
        sa.ForeignKeyConstraint(['renews_prescription_id'], ['sport_prescription.id'],
                                name='fk_sport_prescription_renews'),
        sa.PrimaryKeyConstraint('id', name='pk_sport_prescription'),
    )
    op.create_index('ix_sport_prescription_org_level', 'sport_prescription',
                    ['organisation_id', 'limitation_level'], unique=False)
    op.create_index('ix_sport_prescription_patient', 'sport_prescription', ['patient_id', 'prescribed_on'],
                    unique=False)

    op.create_table(
        'sport_referral_detail',
        sa.Column('referral_id', sa.String(length=32), nullable=False),
        sa.Column('prescription_id', sa.String(length=32), nullable=False),
        sa.Column('structure_id', sa.String(length=64), nullable=False),
        sa.Column('patient_id', sa.String(length=32), nullable=False),
        sa.Column('prescriber_id', sa.String(length=64), nullable=False),
        sa.Column('prescriber_organisation_id', sa.String(length=64), nullable=False),
        sa.Column('recipient_organisation_id', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('structure_kind', sa.String(length=20), nullable=False),
        sa.Column('structure_department_code', sa.String(length=3), nullable=True),
        sa.Column('structure_region_code', sa.String(length=3), nullable=True),
        sa.Column('patient_department_code', sa.String(length=3), nullable=True),
        sa.Column('patient_region_code', sa.String(length=3), nullable=True),
        sa.Column('disability_families', sa.JSON(), nullable=False),
        sa.Column('limitation_level', sa.String(length=10), nullable=False),
        sa.Column('sessions_per_week_min', sa.Integer(), nullable=False),
        sa.Column('programme_months', sa.Integer(), nullable=False),
        sa.Column('sessions_planned', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decline_reason', sa.String(length=60), nullable=True),
        sa.Column('first_session_planned_on', sa.Date(), nullable=True),
        sa.Column('first_session_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('close_reason', sa.String(length=60), nullable=True),
        sa.Column('previous_referral_id', sa.String(length=32), nullable=True),
        sa.Column('consent_id', sa.String(length=32), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name='fk_sport_referral_detail_patient'),
        sa.ForeignKeyConstraint(['prescriber_organisation_id'], ['organisation.id'],
                                name='fk_sport_referral_detail_prescriber_org'),
        sa.ForeignKeyConstraint(['prescription_id'], ['sport_prescription.id'],
                                name='fk_sport_referral_detail_prescription'),
        sa.ForeignKeyConstraint(['previous_referral_id'], ['referral.id'], name='fk_sport_referral_detail_previous'),
        sa.ForeignKeyConstraint(['recipient_organisation_id'], ['organisation.id'],
                                name='fk_sport_referral_detail_recipient_org'),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name='fk_sport_referral_detail_referral'),
        sa.ForeignKeyConstraint(['structure_id'], ['sport_structure.id'], name='fk_sport_referral_detail_structure'),
        sa.PrimaryKeyConstraint('referral_id', name='pk_sport_referral_detail'),
    )
    op.create_index('ix_sport_referral_detail_patient_geo', 'sport_referral_detail',
                    ['patient_region_code', 'patient_department_code'], unique=False)
    op.create_index('ix_sport_referral_detail_prescription', 'sport_referral_detail', ['prescription_id'],
                    unique=False)
    op.create_index('ix_sport_referral_detail_sent', 'sport_referral_detail', ['sent_at'], unique=False)
    op.create_index('ix_sport_referral_detail_structure_status', 'sport_referral_detail',
                    ['structure_id', 'status'], unique=False)

    op.create_table(
        'sport_attendance',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('referral_id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('session_on', sa.Date(), nullable=False),
        sa.Column('attended', sa.Boolean(), nullable=True),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name='fk_sport_attendance_referral'),
        sa.PrimaryKeyConstraint('id', name='pk_sport_attendance'),
        sa.UniqueConstraint('referral_id', 'kind', 'session_on', name='uq_sport_attendance_referral_kind_day'),
    )
    op.create_index('ix_sport_attendance_referral_id', 'sport_attendance', ['referral_id'], unique=False)

    op.create_table(
        'sport_report',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('referral_id', sa.String(length=32), nullable=False),
        sa.Column('report_type', sa.String(length=24), nullable=False),
        sa.Column('performed_on', sa.Date(), nullable=False),
        sa.Column('performer_profession', sa.String(length=32), nullable=False),
        sa.Column('six_minute_walk_m', sa.Integer(), nullable=True),
        sa.Column('chair_stand_30s', sa.Integer(), nullable=True),
        sa.Column('one_leg_stance_s', sa.Float(), nullable=True),
        sa.Column('handgrip_kg', sa.Float(), nullable=True),
        sa.Column('ricci_gagnon_score', sa.Integer(), nullable=True),
        sa.Column('ricci_gagnon_band', sa.String(length=16), nullable=True),
        sa.Column('motivation_stage', sa.String(length=20), nullable=True),
        sa.Column('weekly_activity_minutes', sa.Integer(), nullable=True),
        sa.Column('flags_risk', sa.Boolean(), nullable=False),
        sa.Column('shared_with_prescriber', sa.Boolean(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name='fk_sport_report_referral'),
        sa.PrimaryKeyConstraint('id', name='pk_sport_report'),
    )
    op.create_index('ix_sport_report_referral_type', 'sport_report', ['referral_id', 'report_type'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sport_report_referral_type', table_name='sport_report')
    op.drop_table('sport_report')
    op.drop_index('ix_sport_attendance_referral_id', table_name='sport_attendance')
    op.drop_table('sport_attendance')
    op.drop_index('ix_sport_referral_detail_structure_status', table_name='sport_referral_detail')
    op.drop_index('ix_sport_referral_detail_sent', table_name='sport_referral_detail')
    op.drop_index('ix_sport_referral_detail_prescription', table_name='sport_referral_detail')
    op.drop_index('ix_sport_referral_detail_patient_geo', table_name='sport_referral_detail')
    op.drop_table('sport_referral_detail')
    op.drop_index('ix_sport_prescription_patient', table_name='sport_prescription')
    op.drop_index('ix_sport_prescription_org_level', table_name='sport_prescription')
    op.drop_table('sport_prescription')
