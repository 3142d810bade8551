"""rTMS delivered sessions, motor thresholds and adverse events (domain-rtms §8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtms_course_extension',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name=op.f('fk_rtms_course_extension_course_id_rtms_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_course_extension')),
    sa.UniqueConstraint('course_id', 'number', name='uq_rtms_course_extension_course_number')
    )
    op.create_table('rtms_motor_threshold',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value_pct_mso', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('mep_criterion', sa.String(length=120), nullable=False),
    sa.Column('muscle', sa.String(length=10), nullable=False),
    sa.Column('hemisphere', sa.String(length=10), nullable=False),
    sa.Column('device_id', sa.String(length=80), nullable=False),
    sa.Column('coil_id', sa.String(length=80), nullable=False),
    sa.Column('trigger', sa.String(length=30), nullable=False),
    sa.Column('measured_by', sa.String(length=64), nullable=False),
    sa.Column('relative_change', sa.String(length=40), nullable=True),
    sa.Column('confirm_required', sa.Boolean(), nullable=False),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name=op.f('fk_rtms_motor_threshold_course_id_rtms_course')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_rtms_motor_threshold_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_motor_threshold'))
    )
    with op.batch_alter_table('rtms_motor_threshold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rtms_motor_threshold_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_rtms_motor_threshold_patient_at', ['patient_id', 'measured_at'], unique=False)

    op.create_table('rtms_planned_session_edit',
    sa.Column('planned_session_id', sa.String(length=32), nullable=False),
    sa.Column('skip_reason', sa.String(length=30), nullable=True),
    sa.Column('skip_action', sa.String(length=30), nullable=True),
    sa.Column('skip_note', sa.Text(), nullable=False),
    sa.Column('original_number', sa.Integer(), nullable=True),
    sa.Column('replaces_id', sa.String(length=32), nullable=True),
    sa.Column('replaced_by_id', sa.String(length=32), nullable=True),
    sa.Column('nominal_date', sa.Date(), nullable=True),
    sa.Column('cluster', sa.String(length=40), nullable=True),
    sa.Column('extension', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['planned_session_id'], ['rtms_planned_session.id'], name='fk_rtms_planned_session_edit_planned_session'),
    sa.PrimaryKeyConstraint('planned_session_id', name=op.f('pk_rtms_planned_session_edit'))
    )
    op.create_table('rtms_session_record',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('planned_session_id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('session_number', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('counts_towards_course', sa.Boolean(), nullable=True),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('performed_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('performed_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('protocol_ref', sa.String(length=80), nullable=False),
    sa.Column('prescribed_frequency_hz', sa.String(length=16), nullable=True),
    sa.Column('prescribed_intensity_pct_mt', sa.Integer(), nullable=False),
    sa.Column('prescribed_pulses', sa.Integer(), nullable=False),
    sa.Column('prescribed_trains', sa.Integer(), nullable=False),
    sa.Column('prescribed_duration_s', sa.Integer(), nullable=True),
    sa.Column('frequency_hz', sa.String(length=16), nullable=True),
    sa.Column('intensity_pct_mt', sa.Integer(), nullable=False),
    sa.Column('intensity_pct_mso', sa.Integer(), nullable=False),
    sa.Column('pulses_delivered', sa.Integer(), nullable=False),
    sa.Column('trains_delivered', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=80), nullable=False),
    sa.Column('coil_id', sa.String(length=80), nullable=False),
    sa.Column('targeting_method', sa.String(length=40), nullable=False),
    sa.Column('mt_measurement_id', sa.String(length=32), nullable=True),
    sa.Column('mt_value_pct_mso', sa.Integer(), nullable=True),
    sa.Column('device_max_acknowledged', sa.Boolean(), nullable=False),
    sa.Column('operator_id', sa.String(length=64), nullable=False),
    sa.Column('supervising_physician', sa.String(length=120), nullable=True),
    sa.Column('checkin_sleep_deprivation', sa.Boolean(), nullable=False),
    sa.Column('checkin_alcohol', sa.Boolean(), nullable=False),
    sa.Column('checkin_medication_change', sa.Boolean(), nullable=False),
    sa.Column('checkin_new_device', sa.Boolean(), nullable=False),
    sa.Column('checkin_possible_pregnancy', sa.Boolean(), nullable=False),
    sa.Column('checkin_seizure_or_syncope', sa.Boolean(), nullable=False),
    sa.Column('checkin_metal_removed', sa.Boolean(), nullable=False),
    sa.Column('released_by', sa.String(length=120), nullable=True),
    sa.Column('pain_vas', sa.Integer(), nullable=True),
    sa.Column('interruptions', sa.JSON(), nullable=False),
    sa.Column('deviation_reason', sa.Text(), nullable=True),
    sa.Column('deviation_physician', sa.String(length=120), nullable=True),
    sa.Column('mso_override_reason', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('explanations', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name=op.f('fk_rtms_session_record_course_id_rtms_course')),
    sa.ForeignKeyConstraint(['mt_measurement_id'], ['rtms_motor_threshold.id'], name=op.f('fk_rtms_session_record_mt_measurement_id_rtms_motor_threshold')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_rtms_session_record_patient_id_patient')),
    sa.ForeignKeyConstraint(['planned_session_id'], ['rtms_planned_session.id'], name=op.f('fk_rtms_session_record_planned_session_id_rtms_planned_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_session_record')),
    sa.UniqueConstraint('planned_session_id', name='uq_rtms_session_record_planned')
    )
    with op.batch_alter_table('rtms_session_record', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_session_record_course_performed', ['course_id', 'performed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtms_session_record_patient_id'), ['patient_id'], unique=False)

    op.create_table('rtms_adverse_event',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('session_record_id', sa.String(length=32), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('onset', sa.String(length=20), nullable=False),
    sa.Column('onset_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=False),
    sa.Column('serious_criteria', sa.Text(), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('relatedness', sa.String(length=20), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('loss_of_consciousness', sa.Boolean(), nullable=True),
    sa.Column('sae_required', sa.Boolean(), nullable=False),
    sa.Column('form_required', sa.Boolean(), nullable=False),
    sa.Column('seizure_form', sa.JSON(), nullable=True),
    sa.Column('form_initial_complete', sa.Boolean(), nullable=False),
    sa.Column('form_complete', sa.Boolean(), nullable=False),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name=op.f('fk_rtms_adverse_event_course_id_rtms_course')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_rtms_adverse_event_patient_id_patient')),
    sa.ForeignKeyConstraint(['session_record_id'], ['rtms_session_record.id'], name=op.f('fk_rtms_adverse_event_session_record_id_rtms_session_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_adverse_event'))
    )
    with op.batch_alter_table('rtms_adverse_event', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_adverse_event_course_reported', ['course_id', 'reported_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rtms_adverse_event_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rtms_adverse_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtms_adverse_event_patient_id'))
        batch_op.drop_index('ix_rtms_adverse_event_course_reported')

    op.drop_table('rtms_adverse_event')
    with op.batch_alter_table('rtms_session_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtms_session_record_patient_id'))
        batch_op.drop_index('ix_rtms_session_record_course_performed')

    op.drop_table('rtms_session_record')
    op.drop_table('rtms_planned_session_edit')
    with op.batch_alter_table('rtms_motor_threshold', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_motor_threshold_patient_at')
        batch_op.drop_index(batch_op.f('ix_rtms_motor_threshold_course_id'))

    op.drop_table('rtms_motor_threshold')
    op.drop_table('rtms_course_extension')
