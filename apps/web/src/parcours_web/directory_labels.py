"""English labels (message ids) of the directory codes shown on the administration, profile and
observer pages; the templates translate them with ``_()`` (French in ``sport_admin.po``)."""

from __future__ import annotations

KIND_LABELS = {
    "mss": "Maison Sport-Santé",
    "esms": "Medico-social establishment (ESMS)",
    "club": "Para-welcoming sports club",
    "venue": "Sports equipment or venue",
    "apa_practice": "APA or physiotherapy practice",
    "trail": "Accessible outdoor route",
}
FAMILY_LABELS = {
    "moteur": "Motor disability",
    "visuel": "Visual disability",
    "auditif": "Hearing disability",
    "mental": "Intellectual disability",
    "psychique": "Psychiatric disability",
    "polyhandicap": "Multiple disabilities (polyhandicap)",
    "tsa": "Autism spectrum",
    "none_declared": "No disability family declared",
}
PROFESSION_LABELS = {
    "physiotherapist": "Physiotherapist (masseur-kinésithérapeute)",
    "occupational_therapist": "Occupational therapist",
    "psychomotor_therapist": "Psychomotor therapist",
    "apa_teacher": "APA teacher (STAPS APA-S degree)",
    "sport_educator": "Sport educator (code du sport diploma)",
    "federal_certified": "Holder of a federal sport-health certification",
}
QUALIFICATION_LABELS = {
    "cqh": "CQH (handisport qualification certificate)",
    "aqsa": "AQSA (adapted sport qualification)",
    "cs_aipsh": "CS AIPSH (disability inclusion specialisation)",
    "staps_apa": "STAPS APA university degree",
    "peps_level2": "PEPS level 2 training",
    "other": "Other supervision qualification",
}
ACTIVITY_LABELS = {
    "endurance": "Endurance activities",
    "strength": "Strength activities",
    "balance": "Balance activities",
    "flexibility": "Flexibility activities",
}
ACCESS_LABELS = {
    "motor_reception": "Step-free reception (reduced mobility)",
    "motor_paths": "Accessible paths (reduced mobility)",
    "motor_practice_area": "Accessible practice area (reduced mobility)",
    "motor_changing_rooms": "Accessible changing rooms (reduced mobility)",
    "motor_showers": "Accessible showers (reduced mobility)",
    "motor_toilets": "Accessible toilets (reduced mobility)",
    "motor_stands": "Accessible stands (reduced mobility)",
    "sensory_reception": "Reception adapted to sensory disabilities",
    "sensory_paths": "Paths adapted to sensory disabilities",
    "sensory_signage": "Signage adapted to sensory disabilities",
    "sensory_practice_area": "Practice area adapted to sensory disabilities",
    "sensory_changing_rooms": "Changing rooms adapted to sensory disabilities",
    "sensory_toilets": "Toilets adapted to sensory disabilities",
    "sensory_stands": "Stands adapted to sensory disabilities",
    "accessible_parking": "Accessible parking",
    "public_transport_nearby": "Public transport nearby",
    "human_help_at_entrance": "Human help at the entrance",
    "any_disability_access": "Declared accessible to disabled people",
}
JOB_STATUS_LABELS = {
    "queued": "Waiting to start",
    "reading": "Reading and checking the file",
    "saving": "Saving the structures",
    "done": "Import finished",
    "rejected": "Nothing imported",
    "failed": "Import failed",
}
LEVEL_LABELS = {
    "none": "No functional limitation",
    "minimal": "Minimal limitation",
    "moderate": "Moderate limitation",
    "severe": "Severe limitation",
    "unknown": "Limitation level not stated",
}
INDICATOR_LABELS = {
    "I01_referrals_sent": "Referrals sent",
    "I02_acceptance_rate": "Acceptance rate",
    "I04_days_to_first_session": "Median days to first session",
    "I05_adherence_3m": "Adherence at 3 months",
    "I08_completion_rate": "Completion rate",
}
# INSEE COG region codes (stable since 2016) and their names.
REGION_NAMES = {
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté", "28": "Normandie",
    "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire", "53": "Bretagne",
    "75": "Nouvelle-Aquitaine", "76": "Occitanie", "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
}
DEPARTMENT_CODES = (
    *(f"{number:02d}" for number in range(1, 20)), "2A", "2B", *(f"{number:02d}" for number in range(21, 96)),
    "971", "972", "973", "974", "976",
)


def all_label_ids() -> list[str]:
    """Every label above that a template passes through ``_()`` (checked by the i18n test)."""
    groups = (KIND_LABELS, FAMILY_LABELS, PROFESSION_LABELS, QUALIFICATION_LABELS, ACTIVITY_LABELS, ACCESS_LABELS,
              JOB_STATUS_LABELS, LEVEL_LABELS, INDICATOR_LABELS)
    return [label for group in groups for label in group.values()]
