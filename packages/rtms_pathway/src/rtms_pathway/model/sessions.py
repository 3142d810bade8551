"""Session delivery vocabulary (domain-rtms §8.1 session record, §8.3 adverse events).

Only the parts the session rules read are modelled here: the prescription snapshot, what was
delivered, the MT referenced, interruptions, adverse events and the seizure/syncope form.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

from rtms_pathway.model.staging import Confidence, Explanation, SettingProvenance
from shared_core.errors import FieldError

SessionStatus = Literal[
    "planned", "checked_in", "on_hold", "delivered", "partially_delivered", "skipped", "cancelled", "superseded"
]
InterruptionReason = Literal["patient_request", "pain", "device_fault", "coil_overheat", "seizure", "syncope", "other"]
AdverseEventType = Literal[
    "scalp_pain", "headache", "facial_twitching", "neck_pain", "toothache", "fatigue", "sleep_disturbance",
    "dizziness", "tinnitus_hearing_change", "syncope", "seizure", "mood_elevation", "suicidality_change", "other",
]
AdverseEventOnset = Literal["during_session", "lt_1h", "same_day", "next_day", "later"]
AdverseEventSeverity = Literal["mild", "moderate", "severe"]
AdverseEventAction = Literal["none", "intensity_reduced", "session_stopped", "course_suspended", "treatment_given"]
Relatedness = Literal["unrelated", "unlikely", "possible", "probable", "certain"]
MtMethod = Literal["emg_mep", "visual_twitch", "accelerometry", "algorithmic_pest", "algorithmic_samt"]
Semiology = Literal["focal", "generalised", "tonic_clonic"]
Adjudication = Literal["seizure", "convulsive_syncope", "non_epileptic", "uncertain"]
ContinuationDecision = Literal["continue", "continue_modified", "stop"]


class SessionPrescription(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Snapshot of the prescription at the time of the session (``protocol_id@version``)."""

    protocol_id: str
    protocol_version: str
    trains: int
    pulses: int
    intensity_pct_mt: int
    pattern: str | None = None
    frequency_hz: Decimal | None = None
    train_duration_s: Decimal | None = None
    iti_s: Decimal | None = None


class Interruption(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pulses_so_far: int
    reason: InterruptionReason
    resumed: bool
    occurred_at: datetime | None = None


class SessionDelivery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What was actually delivered, with the justifications R-SES-01 and R-SES-03 may require."""

    trains_delivered: int
    pulses_delivered: int
    intensity_pct_mt: int
    intensity_pct_mso: int
    frequency_hz: Decimal | None = None
    train_duration_s: Decimal | None = None
    iti_s: Decimal | None = None
    duration_s: int | None = None
    interruptions: tuple[Interruption, ...] = ()
    deviation_reason: str | None = None
    # Identifier of the physician who authorised a deviation (required when the intensity was higher).
    deviation_physician: str | None = None
    # R-SES-03 override of the %MSO computed from the MT (e.g. DEVICE_MAX_EXCEEDED, R-MT-05).
    mso_override_reason: str | None = None


class MtReference(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The MT measurement the session used (§8.2)."""

    value_pct_mso: int
    measured_on: date
    method: MtMethod
    measurement_id: str | None = None


class Deviation(msgspec.Struct, frozen=True):
    field: str
    prescribed: str
    delivered: str
    explained_by_interruption: bool
    higher_intensity: bool = False


class DeliveryCheck(msgspec.Struct, frozen=True):
    """R-SES-01..03 outcome for one session.

    ``problems`` are data-integrity findings the record cannot be signed with (a missing reason,
    a missing physician, an unexplained %MSO); everything else is information.
    ``counts_towards_course`` is None for a partial session: the physician decides (R-SES-02).
    """

    status: Literal["delivered", "partially_delivered"]
    delivered_numerator: int
    delivered_denominator: int
    delivered_pct: float
    deviations: tuple[Deviation, ...]
    reason_required: bool
    physician_required: bool
    expected_intensity_pct_mso: int | None
    mso_matches: bool | None
    counts_towards_course: bool | None
    problems: tuple[FieldError, ...]
    explanations: tuple[Explanation, ...]


class AdverseEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """§8.3 adverse event."""

    course_id: str
    type: AdverseEventType
    onset: AdverseEventOnset
    severity: AdverseEventSeverity
    serious: bool
    action: AdverseEventAction
    relatedness: Relatedness
    session_id: str | None = None
    onset_datetime: datetime | None = None
    serious_criteria: tuple[str, ...] = ()
    duration_minutes: int | None = None
    outcome: str | None = None
    reported_by: str | None = None
    loss_of_consciousness: bool | None = None


class SaeDecision(msgspec.Struct, frozen=True):
    """R-SES-04: whether an SAE record is created, and what follows from it."""

    sae_required: bool
    triggering_events: tuple[int, ...]  # indices in the list given
    notify_physician_same_day: bool
    suspend_course: bool
    seizure_syncope_form_required: bool
    explanation: Explanation
    confidence: Confidence


class VitalSigns(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    heart_rate_bpm: int | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    spo2_pct: int | None = None


class SeizureSyncopeForm(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """§8.3 form, required for any suspected seizure or loss of consciousness (TAYLOR21).

    Every field may be empty while the form is being filled; ``check_seizure_syncope_form``
    lists what is missing, first for the initial report, then for the closure (adjudication).
    """

    # the session and its dose
    session_index: int | None = None
    time_relative_to_train: str | None = None
    delivered_pct_mso: int | None = None
    delivered_pct_mt: int | None = None
    last_mt_date: date | None = None
    last_mt_method: MtMethod | None = None
    # the event
    semiology: Semiology | None = None
    duration_seconds: int | None = None
    loss_of_consciousness: bool | None = None
    incontinence: bool | None = None
    tongue_bite: bool | None = None
    post_event_confusion_minutes: int | None = None
    vital_signs: VitalSigns | None = None
    # convulsive-syncope features
    pallor: bool | None = None
    brief_jerks: bool | None = None
    rapid_recovery: bool | None = None
    # preceding factors
    sleep_deprivation: bool | None = None
    alcohol: bool | None = None
    medication_change: bool | None = None
    recent_intensity_increase: bool | None = None
    # actions
    stimulation_stopped: bool | None = None
    recovery_position: bool | None = None
    emergency_call: bool | None = None
    # closure
    adjudication: Adjudication | None = None
    adjudicated_by: str | None = None
    eeg_done: bool | None = None
    continuation_decision: ContinuationDecision | None = None


class FormCheck(msgspec.Struct, frozen=True):
    complete: bool
    initial_complete: bool
    missing_initial: tuple[str, ...]
    missing_closure: tuple[str, ...]
    explanation: Explanation


class SessionSettings(msgspec.Struct, frozen=True):
    """``ses.*`` settings, kept in ``catalogue/mbc_settings.yaml``."""

    version: str
    partial_threshold_pct: int
    seizure_always_sae: bool
    provenance: dict[str, SettingProvenance]

    @property
    def to_verify(self) -> list[str]:
        return [key for key, prov in self.provenance.items() if prov.confidence == "to_verify"]
