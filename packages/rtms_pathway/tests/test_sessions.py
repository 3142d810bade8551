"""Session delivery rules (domain-rtms §8.1 R-SES-01..03, §8.3 R-SES-04 and the seizure/syncope form)."""

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from rtms_pathway.catalogue.loader_staging import load_session_settings
from rtms_pathway.model.sessions import (
    AdverseEvent,
    Interruption,
    MtReference,
    SeizureSyncopeForm,
    SessionDelivery,
    SessionPrescription,
    VitalSigns,
)
from rtms_pathway.rules.sessions import (
    FORM_CLOSURE_FIELDS,
    FORM_INITIAL_FIELDS,
    check_delivery,
    check_seizure_syncope_form,
    expected_intensity_pct_mso,
    sae_decision,
    seizure_syncope_form_required,
)
from shared_core.errors import ValidationFailed

SETTINGS = load_session_settings()
PRESCRIPTION = SessionPrescription("hf_left_10hz", "1", trains=75, pulses=3000, intensity_pct_mt=120,
                                   frequency_hz=Decimal(10), train_duration_s=Decimal(4), iti_s=Decimal(26))
MT = MtReference(value_pct_mso=60, measured_on=date(2026, 4, 27), method="emg_mep")


def delivery(**changes: object) -> SessionDelivery:
    base = SessionDelivery(trains_delivered=75, pulses_delivered=3000, intensity_pct_mt=120, intensity_pct_mso=72,
                           frequency_hz=Decimal(10), train_duration_s=Decimal(4), iti_s=Decimal(26))
    return msgspec.structs.replace(base, **changes)


def test_delivered_as_prescribed() -> None:
    check = check_delivery(PRESCRIPTION, delivery(), MT, SETTINGS)
    assert check.status == "delivered"
    assert check.deviations == ()
    assert check.problems == ()
    assert check.reason_required is False and check.physician_required is False
    assert check.expected_intensity_pct_mso == 72
    assert check.mso_matches is True
    assert check.counts_towards_course is True
    assert {e.rule_id for e in check.explanations} == {"R-SES-02", "R-SES-03"}


# -- R-SES-02 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pulses", "status"), [(2400, "delivered"), (2399, "partially_delivered"), (0, "partially_delivered")])
def test_partial_threshold_boundary(pulses: int, status: str) -> None:
    interruption = Interruption(pulses_so_far=pulses, reason="pain", resumed=False)
    check = check_delivery(PRESCRIPTION, delivery(pulses_delivered=pulses, trains_delivered=pulses // 40,
                                                  interruptions=(interruption,)), MT, SETTINGS)
    assert check.status == status
    assert check.reason_required is False  # pulses lost to an interruption need no reason
    if status == "partially_delivered":
        assert check.counts_towards_course is None  # physician choice
        note = next(e for e in check.explanations if e.rule_id == "R-SES-02")
        assert "partiellement délivrée" in note.text_fr and "seuil à vérifier" in note.text_fr


def test_partial_threshold_is_configurable() -> None:
    ninety = msgspec.structs.replace(SETTINGS, partial_threshold_pct=90)
    interruption = (Interruption(pulses_so_far=2600, reason="device_fault", resumed=False),)
    result = check_delivery(PRESCRIPTION, delivery(pulses_delivered=2600, trains_delivered=65,
                                                   interruptions=interruption), MT, ninety)
    assert result.status == "partially_delivered"


# -- R-SES-01 ------------------------------------------------------------------------------------


def test_missing_pulses_without_interruption_need_a_reason() -> None:
    check = check_delivery(PRESCRIPTION, delivery(pulses_delivered=2800, trains_delivered=70), MT, SETTINGS)
    assert check.reason_required is True
    assert [e.field for e in check.problems] == ["deviation_reason"]
    fixed = check_delivery(PRESCRIPTION, delivery(pulses_delivered=2800, trains_delivered=70,
                                                  deviation_reason="fin anticipée à la demande du patient"),
                           MT, SETTINGS)
    assert fixed.problems == ()


def test_higher_intensity_needs_a_reason_and_a_physician() -> None:
    check = check_delivery(PRESCRIPTION, delivery(intensity_pct_mt=125, intensity_pct_mso=75), MT, SETTINGS)
    assert check.physician_required is True
    assert [e.field for e in check.problems] == ["deviation_reason", "deviation_physician"]
    deviation = next(d for d in check.deviations if d.field == "intensity_pct_mt")
    assert deviation.higher_intensity is True
    assert any("validation par un médecin requise" in e.text_fr for e in check.explanations)
    signed = check_delivery(PRESCRIPTION, delivery(intensity_pct_mt=125, intensity_pct_mso=75,
                                                   deviation_reason="titration", deviation_physician="dr-42"),
                            MT, SETTINGS)
    assert signed.problems == ()


def test_lower_intensity_and_other_parameters_need_only_a_reason() -> None:
    check = check_delivery(PRESCRIPTION, delivery(intensity_pct_mt=110, intensity_pct_mso=66, iti_s=Decimal(20)),
                           MT, SETTINGS)
    assert check.physician_required is False
    assert check.reason_required is True
    assert {d.field for d in check.deviations} == {"intensity_pct_mt", "iti_s"}


# -- R-SES-03 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mt", "pct", "expected"), [(60, 120, 72), (55, 110, 61), (45, 110, 50), (41, 110, 45)])
def test_expected_mso_rounds_half_up(mt: int, pct: int, expected: int) -> None:
    # 55 x 1.10 = 60.5 -> 61; 45 x 1.10 = 49.5 -> 50; 41 x 1.10 = 45.1 -> 45
    assert expected_intensity_pct_mso(MtReference(mt, date(2026, 1, 1), "emg_mep"), pct) == expected


def test_mso_mismatch_needs_an_override() -> None:
    check = check_delivery(PRESCRIPTION, delivery(intensity_pct_mso=70), MT, SETTINGS)
    assert check.mso_matches is False
    assert [e.field for e in check.problems] == ["intensity_pct_mso"]
    overridden = check_delivery(PRESCRIPTION, delivery(intensity_pct_mso=70, mso_override_reason="DEVICE_MAX"),
                                MT, SETTINGS)
    assert overridden.problems == ()
    assert overridden.mso_matches is False


def test_several_problems_at_once_and_missing_mt() -> None:
    check = check_delivery(PRESCRIPTION, delivery(intensity_pct_mt=130, intensity_pct_mso=78), None, SETTINGS)
    assert [e.field for e in check.problems] == ["deviation_reason", "deviation_physician", "mt"]
    assert check.expected_intensity_pct_mso is None


def test_impossible_numbers_are_rejected_together() -> None:
    bad_prescription = msgspec.structs.replace(PRESCRIPTION, pulses=0)
    with pytest.raises(ValidationFailed) as caught:
        check_delivery(bad_prescription, delivery(pulses_delivered=-1, intensity_pct_mso=120), MT, SETTINGS)
    assert [e.field for e in caught.value.errors] == ["prescription.pulses", "pulses_delivered", "intensity_pct_mso"]


# -- R-SES-04 and the seizure/syncope form ---------------------------------------------------------


def event(type_: str, serious: bool = False, **kw: object) -> AdverseEvent:
    return AdverseEvent(course_id="c1", type=type_, onset="during_session", severity="moderate",  # type: ignore[arg-type]
                        serious=serious, action="session_stopped", relatedness="possible", **kw)  # type: ignore[arg-type]


def test_serious_event_creates_an_sae_and_suspends_the_course() -> None:
    decision = sae_decision([event("headache"), event("other", serious=True, serious_criteria=("hospitalisation",))],
                            SETTINGS)
    assert decision.sae_required is True
    assert decision.triggering_events == (1,)
    assert decision.notify_physician_same_day is True
    assert decision.suspend_course is True
    assert "le jour même" in decision.explanation.text_fr


def test_every_seizure_is_an_sae_by_default() -> None:
    decision = sae_decision([event("seizure")], SETTINGS)
    assert decision.sae_required is True
    assert decision.seizure_syncope_form_required is True
    assert decision.confidence == "to_verify"
    relaxed = msgspec.structs.replace(SETTINGS, seizure_always_sae=False)
    assert sae_decision([event("seizure")], relaxed).sae_required is False


def test_syncope_needs_the_form_but_not_an_sae() -> None:
    decision = sae_decision([event("syncope")], SETTINGS)
    assert decision.sae_required is False
    assert decision.suspend_course is False
    assert decision.seizure_syncope_form_required is True
    assert seizure_syncope_form_required(event("dizziness", loss_of_consciousness=True)) is True
    assert seizure_syncope_form_required(event("headache")) is False
    assert sae_decision([], SETTINGS).sae_required is False


def complete_form() -> SeizureSyncopeForm:
    return SeizureSyncopeForm(
        session_index=7, time_relative_to_train="train 40", delivered_pct_mso=72, delivered_pct_mt=120,
        last_mt_date=date(2026, 4, 27), last_mt_method="emg_mep", semiology="tonic_clonic", duration_seconds=60,
        loss_of_consciousness=True, incontinence=False, tongue_bite=True, post_event_confusion_minutes=10,
        vital_signs=VitalSigns(heart_rate_bpm=96, systolic_mmhg=135, diastolic_mmhg=80, spo2_pct=97),
        pallor=False, brief_jerks=False, rapid_recovery=False, sleep_deprivation=True, alcohol=False,
        medication_change=False, recent_intensity_increase=False, stimulation_stopped=True, recovery_position=True,
        emergency_call=False, adjudication="seizure", adjudicated_by="neurologue-12", eeg_done=True,
        continuation_decision="stop",
    )


def test_seizure_form_completeness() -> None:
    empty = check_seizure_syncope_form(SeizureSyncopeForm())
    assert empty.complete is False
    assert len(empty.missing_initial) == len(FORM_INITIAL_FIELDS)
    assert len(empty.missing_closure) == len(FORM_CLOSURE_FIELDS)
    full = check_seizure_syncope_form(complete_form())
    assert full.complete is True and full.missing_initial == () and full.missing_closure == ()
    pending = check_seizure_syncope_form(msgspec.structs.replace(complete_form(), adjudication=None, eeg_done=None))
    assert pending.initial_complete is True
    assert pending.missing_closure == ("adjudication", "eeg_done")
    assert "clôture en attente" in pending.explanation.text_fr
    partial_vitals = msgspec.structs.replace(complete_form(), vital_signs=VitalSigns(heart_rate_bpm=90),
                                             time_relative_to_train="  ")
    check = check_seizure_syncope_form(partial_vitals)
    assert check.missing_initial == ("time_relative_to_train", "vital_signs")
    # a "no" answer is an answer
    assert "incontinence" not in check.missing_initial
