"""Data minimisation (domain-sport §8, C-3, C-4, C-5, C-7): marker strings planted in every
psychiatric or clinical field never appear in the encoded coordinator view."""

from datetime import UTC, date, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_core.errors import NotFound
from shared_core.rules.consent import ConsentEvent
from sport_referral.catalogue.loader_sport import load_consent_settings
from sport_referral.model.matching import PatientNeeds
from sport_referral.model.prescription import (
    ApaPrescription,
    ClinicalRecord,
    CoordinatorReferralStub,
    CoordinatorReferralView,
    PatientIdentity,
    PrescriberContact,
    Referral,
    ReferralFile,
    RtmsCourseData,
    ScaleScore,
)
from sport_referral.rules.minimisation import coordinator_view, lint_free_text

CONSENT = load_consent_settings()
AT = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
GRANTED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
INS = "269054958815780"

MARKERS = {
    "diagnosis": "MRK_DIAG_F33",
    "diagnosis_2": "MRK_DIAG_EPISODE",
    "medication": "MRK_MED_VENLA",
    "rtms_protocol": "MRK_RTMS_PROTO",
    "rtms_parameters": "MRK_RTMS_PARAM",
    "rtms_adverse": "MRK_RTMS_AE",
    "scale": "MRK_SCALE_MADRS",
    "scale_band": "MRK_SCALE_BAND",
    "note": "MRK_CLIN_NOTE",
    "basis": "MRK_ELIG_BASIS",
    "severe": "MRK_SEVERE_ITEM",
    "ins": INS,
    "rpps": "MRK_RPPS_10003",
}


def referral_file(markers: dict[str, str] = MARKERS, status: str = "sent") -> ReferralFile:
    return ReferralFile(
        referral=Referral(
            referral_id="ref-1",
            prescription_id="p-1",
            patient_id="pat-1",
            structure_id="mss-31-001",
            status=status,
            created_at=GRANTED,
            sent_at=GRANTED,
        ),  # type: ignore[arg-type]
        patient=PatientIdentity(
            family_name="Durand",
            given_names="Lucie",
            birth_date=date(1986, 4, 17),
            commune_insee="31555",
            commune_name="Toulouse",
            sex="female",
            phone="0612345678",
            email="lucie.durand@example.fr",
            address_line="12 rue des Lilas",
            postcode="31400",
            ins_nir=markers["ins"],
        ),
        prescription=ApaPrescription(
            prescription_id="p-1",
            patient_id="pat-1",
            prescriber_id=markers["rpps"],
            prescribed_on=date(2026, 1, 9),
            eligibility_basis=("chronic_disease", markers["basis"]),
            limitation_level="severe",
            severe_criteria=("cereb_anxiety_depression", markers["severe"]),
            activity_types=("endurance", "strength"),
            intensity="moderate",
            sessions_per_week_min=2,
            sessions_per_week_max=3,
            session_minutes_min=45,
            session_minutes_max=60,
            programme_months=3,
            renewable=True,
            goals="Marcher 30 minutes par jour",
            precautions="Progressivité ; hydratation",
            form_model_version="instruction-2017-81-annexe",
            signed_at=GRANTED,
            signed_by="user-dr-1",
        ),
        prescriber=PrescriberContact(
            display_name="Dr Anne Leroy",
            rpps=markers["rpps"],
            organisation="CHU Exemple",
            professional_phone="0561000000",
            professional_email="a.leroy@chu.example.fr",
        ),
        needs=PatientNeeds(
            disability_families=frozenset({"psychique"}),
            required_features=frozenset({"public_transport_nearby"}),
            preferred_weekdays=frozenset({"tue", "mon"}),
        ),
        clinical=ClinicalRecord(
            diagnoses=(markers["diagnosis"], markers["diagnosis_2"]),
            medications=(markers["medication"],),
            rtms_courses=(
                RtmsCourseData(
                    protocol=markers["rtms_protocol"],
                    parameters=markers["rtms_parameters"],
                    sessions_completed=20,
                    adverse_events=(markers["rtms_adverse"],),
                ),
            ),
            scale_scores=(
                ScaleScore(scale=markers["scale"], total=31, band=markers["scale_band"], performed_on=date(2026, 1, 5)),
            ),
            notes=(markers["note"],),
        ),
    )


def grant(
    scope: str, recipient: str | None = "mss-31-001", withdrawn_at: datetime | None = None, patient_id: str = "pat-1"
) -> ConsentEvent:
    return ConsentEvent(
        consent_id=f"c-{scope}-{recipient}",
        patient_id=patient_id,
        scope=scope,
        recipient=recipient,
        granted_at=GRANTED,
        granted_by="patient",
        collection_mode="electronic",
        withdrawn_at=withdrawn_at,
    )


ALL_SCOPES = [
    grant("share_referral"),
    grant("share_contact_phone"),
    grant("share_contact_email"),
    grant("share_address"),
    grant("share_diagnosis"),
    grant("share_reports_with_prescriber", None),
]


def test_no_marker_reaches_the_coordinator_even_with_every_consent() -> None:
    view = coordinator_view(referral_file(), ALL_SCOPES, AT, CONSENT)
    assert isinstance(view, CoordinatorReferralView)
    encoded = msgspec.json.encode(view)
    for name, marker in MARKERS.items():
        assert marker.encode() not in encoded, name
    for forbidden in (
        b"chronic_disease",
        b"cereb_anxiety_depression",
        b"diagnos",
        b"medication",
        b"rtms",
        b"scale",
        b"ins_nir",
        b"severe_criteria",
        b"eligibility_basis",
        b"rpps",
        b"1986-04-17",
    ):
        assert forbidden not in encoded.lower(), forbidden
    assert view.eligibility_confirmed is True
    assert view.limitation_level == "severe"  # L-4: the level, never the items


def test_consented_set_is_shown() -> None:
    view = coordinator_view(referral_file(), ALL_SCOPES, AT, CONSENT)
    assert isinstance(view, CoordinatorReferralView)
    assert (view.patient.family_name, view.patient.birth_year, view.patient.birth_date) == ("Durand", 1986, None)
    assert view.patient.phone == "0612345678" and view.patient.address_line == "12 rue des Lilas"
    assert view.prescription.activity_types == ("endurance", "strength")
    assert view.prescription.goals == "Marcher 30 minutes par jour"
    assert view.prescriber.display_name == "Dr Anne Leroy"
    assert view.disability_families == ("psychique",)
    assert view.preferred_weekdays == ("mon", "tue")


def test_contact_channels_need_their_own_scope() -> None:
    view = coordinator_view(referral_file(), [grant("share_referral"), grant("share_contact_email", None)], AT, CONSENT)
    assert isinstance(view, CoordinatorReferralView)
    assert view.patient.phone is None and view.patient.address_line is None and view.patient.postcode is None
    assert view.patient.email == "lucie.durand@example.fr"
    encoded = msgspec.json.encode(view)
    assert b"0612345678" not in encoded and b"Lilas" not in encoded
    assert view.patient.commune_insee == "31555"


def test_birth_date_only_when_configured() -> None:
    relaxed = msgspec.structs.replace(CONSENT, share_birth_date=True)
    view = coordinator_view(referral_file(), [grant("share_referral")], AT, relaxed)
    assert isinstance(view, CoordinatorReferralView)
    assert view.patient.birth_date == date(1986, 4, 17)


def test_withdrawn_consent_leaves_a_stub_only() -> None:
    withdrawn = [grant("share_referral", withdrawn_at=datetime(2026, 1, 20, tzinfo=UTC)), grant("share_contact_phone")]
    stub = coordinator_view(referral_file(), withdrawn, AT, CONSENT)
    assert isinstance(stub, CoordinatorReferralStub)
    assert stub.consent_withdrawn
    encoded = msgspec.json.encode(stub)
    for leaked in (b"Durand", b"Lucie", b"0612345678", b"Marcher", b"severe"):
        assert leaked not in encoded
    before = coordinator_view(referral_file(), withdrawn, datetime(2026, 1, 15, tzinfo=UTC), CONSENT)
    assert isinstance(before, CoordinatorReferralView)


def test_consent_for_another_structure_or_patient_does_not_count() -> None:
    other_structure = coordinator_view(referral_file(), [grant("share_referral", "mss-31-999")], AT, CONSENT)
    assert isinstance(other_structure, CoordinatorReferralStub) and not other_structure.consent_withdrawn
    other_patient = coordinator_view(referral_file(), [grant("share_referral", patient_id="pat-2")], AT, CONSENT)
    assert isinstance(other_patient, CoordinatorReferralStub)


def test_drafts_are_invisible() -> None:
    with pytest.raises(NotFound):
        coordinator_view(referral_file(status="draft"), ALL_SCOPES, AT, CONSENT)


marker_text = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=6, max_size=12).map(lambda s: "QZX" + s)


@settings(max_examples=60)
@given(st.fixed_dictionaries({name: marker_text for name in MARKERS if name != "ins"}))
def test_random_markers_never_leak(markers: dict[str, str]) -> None:
    planted = {**markers, "ins": INS}
    view = coordinator_view(referral_file(planted), ALL_SCOPES, AT, CONSENT)
    encoded = msgspec.json.encode(view)
    for marker in planted.values():
        assert marker.encode() not in encoded


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Antécédent de DEPRESSION", {"dépress"}),
        ("suivi psychiatrique régulier", {"psychiatr"}),
        ("Cure de rTMS en cours", {"rTMS"}),
        ("PHQ-9 à 18 ; GAD-7 à 12", {"PHQ", "GAD"}),
        ("anxieuse en groupe", {"anxieu"}),
        ("traitement par Sertraline", {"sertraline"}),
        ("Prévoir un gadget, collecte des tickets, tocade", set()),
        ("Douleur au genou droit, éviter les sauts", set()),
    ],
)
def test_c5_lint(text: str, terms: set[str]) -> None:
    hits = lint_free_text({"precautions": text}, CONSENT.sensitive_terms)
    assert {hit.term for hit in hits} == terms
