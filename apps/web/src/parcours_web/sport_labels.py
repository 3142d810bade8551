"""English labels of the sport referral codes, translated in ``sport_referrals.po``.

Templates show ``_(labels.status[code])``: the message id is a phrase, not a bare code such as
"moderate" or "other", which would mean different things in different areas of the application.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from parcours_web.directory_labels import (
    ACCESS_LABELS,
    ACTIVITY_LABELS,
    FAMILY_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    PROFESSION_LABELS,
)
from shared_core.rules.workflow import (
    SPORT_CANCEL_REASONS,
    SPORT_DECLINE_REASONS,
    SPORT_LOST_REASONS,
    SPORT_ON_HOLD_REASONS,
)

# Directory vocabularies are shared with the directory pages (translated in sport_admin.po).
ACTIVITY: Final = MappingProxyType(ACTIVITY_LABELS)
LEVEL: Final = MappingProxyType(LEVEL_LABELS)
FAMILY: Final = MappingProxyType(FAMILY_LABELS)
FEATURE: Final = MappingProxyType(ACCESS_LABELS)
KIND: Final = MappingProxyType(KIND_LABELS)
PROFESSION: Final = MappingProxyType(PROFESSION_LABELS)

STATUS: Final = MappingProxyType({
    "draft": "Draft (not sent)", "sent": "Referral sent", "received": "Received by the structure",
    "accepted": "Accepted by the structure", "declined": "Declined by the structure",
    "in_progress": "Programme in progress", "on_hold": "Programme on hold", "completed": "Programme completed",
    "lost_to_follow_up": "Patient lost to follow-up", "cancelled": "Referral cancelled",
})
REASON: Final = MappingProxyType({
    "no_capacity": "No capacity", "limitation_beyond_competence": "Limitation beyond the structure's competence",
    "disability_family_not_accommodated": "Disability family not accommodated",
    "activity_not_offered": "Activity not offered", "accessibility_insufficient": "Accessibility insufficient",
    "out_of_catchment_area": "Out of the catchment area", "patient_unreachable": "Patient unreachable",
    "patient_declined": "The patient declined", "prescription_incomplete": "Prescription incomplete",
    "redirected_to_other_structure": "Redirected to another structure", "other": "Other reason (explained)",
    "patient_withdrew": "The patient withdrew", "consent_withdrawn": "Consent withdrawn",
    "prescriber_cancelled": "Cancelled by the prescriber", "medical_contraindication": "Medical contraindication",
    "patient_moved": "The patient moved", "duplicate": "Duplicate referral", "medical_event": "Medical event (pause)",
    "patient_request": "At the patient's request", "structure_closure": "Structure closed",
    "repeated_no_show": "Repeated no-show", "unreachable": "Patient no longer reachable",
    "completed_without_final_assessment": "Completed without a final assessment",
})
STOP_TARGET: Final = MappingProxyType({
    "on_hold": "Put the programme on hold", "lost_to_follow_up": "Mark as lost to follow-up",
    "cancelled": "Cancel the referral",
})
INTENSITY: Final = MappingProxyType({
    "light": "Light intensity", "moderate": "Moderate intensity", "vigorous": "Vigorous intensity",
})
RISK_FACTOR: Final = MappingProxyType({
    "overweight": "Overweight", "obesity": "Obesity", "hypertension": "High blood pressure",
    "undernutrition": "Undernutrition", "sedentary": "Sedentary lifestyle", "dyslipidaemia": "Dyslipidaemia",
    "addictive_behaviour": "Addictive behaviour", "other": "Another risk factor",
})
AUTONOMY: Final = MappingProxyType({
    "a_apa_allowance": "a) Personalised autonomy allowance (APA)", "b_home_help": "b) Home help",
    "c_cdaph_right": "c) A right granted by the CDAPH", "d_cmi": "d) Mobility inclusion card (CMI)",
    "e_frailty_screen_positive": "e) Positive screening of age-related loss of autonomy",
})
QUESTION: Final = MappingProxyType({
    "prescriber_is_physician": "I am a physician",
    "prescriber_involved_in_care": "I am involved in this patient's care",
    "below_who_recommendations": "The patient's activity is below the WHO recommendations",
    "cannot_progress_alone": "The patient cannot increase activity alone, safely",
    "ald": "Long-term condition (ALD)",
    "chronic_disease": "Chronic disease (lasting, needing long-term care)",
    "patient_agrees": "The patient agrees to the prescription",
})
OUTCOME: Final = MappingProxyType({
    "eligible": "Eligible for an APA prescription", "prescriber_not_physician": "Only a physician may prescribe",
    "prescriber_not_involved_in_care": "The prescriber must take part in the care",
    "not_indicated_active_enough": "Not indicated: already active enough",
    "not_indicated_autonomous": "Not indicated: can progress alone",
    "no_eligible_condition": "No eligible condition", "patient_disagrees": "The patient does not agree",
})
REPORT_TYPE: Final = MappingProxyType({
    "initial_assessment": "Initial assessment (D.1172-5)", "periodic_report": "Periodic report (D.1172-5)",
    "final_assessment": "Final assessment (D.1172-5)",
})
MOTIVATION: Final = MappingProxyType({
    "precontemplation": "Stage: precontemplation", "contemplation": "Stage: contemplation",
    "preparation": "Stage: preparation", "action": "Stage: action", "maintenance": "Stage: maintenance",
})
CONSENT_SCOPE: Final = MappingProxyType({
    "share_referral": "Send the referral to this structure",
    "share_contact_phone": "Share the phone number with this structure",
    "share_contact_email": "Share the e-mail address with this structure",
    "share_address": "Share the postal address with this structure",
    "share_reports_with_prescriber": "Send the assessment reports to the prescriber",
    "share_reports_with_treating_physician": "Send the assessment reports to the treating physician",
    "share_diagnosis": "Share the diagnosis",
})
GRANTOR: Final = MappingProxyType({
    "patient": "The patient in person", "legal_representative": "Their legal representative",
})
COLLECTION: Final = MappingProxyType({
    "oral_recorded": "Oral consent, recorded", "electronic": "Electronic consent",
    "paper_scanned": "Paper consent form, scanned",
})
RICCI_BAND: Final = MappingProxyType({"inactive": "Ricci-Gagnon: inactive", "active": "Ricci-Gagnon: active",
                                     "very_active": "Ricci-Gagnon: very active"})
# M-10 reason codes start with the rule; the page shows the rule's meaning beside the raw code.
MATCH_RULE: Final = MappingProxyType({
    "m1": "Supervision qualified for the level", "m2": "Disability family accepted",
    "m3": "Activity types offered", "m4": "Accessibility checked", "m5": "Capacity checked", "m6": "Kind of place",
    "m7": "Within the search radius", "m8": "Distance basis", "supervision": "Supervision declared",
    "families": "Disability families accepted",
    "to": "To confirm with the structure", "capacity": "Capacity checked", "practice": "Practice place only",
})

assert set(REASON) >= set(SPORT_DECLINE_REASONS + SPORT_CANCEL_REASONS + SPORT_ON_HOLD_REASONS + SPORT_LOST_REASONS)


def match_rule(code: str) -> str:
    return MATCH_RULE.get(code.split("_", 1)[0], "Matching rule")


# The labels this area translates (sport_referrals.po); the directory vocabularies are sport_admin.po's.
OWN_LABELS: Final = (STATUS, REASON, STOP_TARGET, INTENSITY, RISK_FACTOR,
                     AUTONOMY, QUESTION, OUTCOME, REPORT_TYPE, MOTIVATION, CONSENT_SCOPE, GRANTOR,
                     COLLECTION, RICCI_BAND, MATCH_RULE)
