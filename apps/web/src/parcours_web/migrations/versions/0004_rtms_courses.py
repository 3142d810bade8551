"""rTMS courses and their planned sessions (domain-rtms §7.1, R-SCH-08).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:19:36.882494
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rtms_course',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('course_number', sa.Integer(), nullable=False),
    sa.Column('protocol_ref', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('induction_sessions', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_rtms_course_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_course')),
    sa.UniqueConstraint('patient_id', 'course_number', name='uq_rtms_course_patient_number')
    )
    with op.batch_alter_table('rtms_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rtms_course_patient_id'), ['patient_id'], unique=False)

    op.create_table('rtms_planned_session',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['rtms_course.id'], name=op.f('fk_rtms_planned_session_course_id_rtms_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rtms_planned_session'))
    )
    with op.batch_alter_table('rtms_planned_session', schema=None) as batch_op:
        batch_op.create_index('ix_rtms_planned_session_course_number', ['course_id', 'number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rtms_planned_session', schema=None) as batch_op:
        batch_op.drop_index('ix_rtms_planned_session_course_number')

    op.drop_table('rtms_planned_session')
    with op.batch_alter_table('rtms_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rtms_course_patient_id'))

    op.drop_table('rtms_course')
