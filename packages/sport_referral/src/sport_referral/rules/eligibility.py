"""Eligibility for an APA prescription (domain-sport §2, rules E-1 to E-11).

Legal basis [verified]: D.1172-1 CSP (definition of APA), D.1172-1-1 CSP (eligible conditions,
décret n° 2023-235 of 30 March 2023), D.1172-2 CSP (prescriber and form, décret n° 2023-234).
Pure functions: no clock, no I/O; the E-4 thresholds come in as :class:`WhoSettings`.
"""

from __future__ import annotations

from shared_core.errors import FieldError, ValidationFailed
from sport_referral.model import Reason, ReasonKind, cite
from sport_referral.model.eligibility import (
    AUTONOMY_CRITERIA,
    RISK_FACTORS,
    Basis,
    EligibilityInput,
    EligibilityOutcome,
    EligibilityResult,
    WeeklyActivityReport,
    WhoPrefill,
    WhoSettings,
)

__all__ = ["RISK_FACTOR_OTHER_TEXT_MAX", "eligibility_input_errors", "evaluate_eligibility", "prefill_below_who"]

RISK_FACTOR_OTHER_TEXT_MAX = 200

SRC_D1172_1 = "Art. D.1172-1 CSP"
SRC_D1172_1_1 = "Art. D.1172-1-1 CSP (décret n° 2023-235 du 30 mars 2023)"
SRC_D1172_2 = "Art. D.1172-2 CSP (décret n° 2023-234 du 30 mars 2023)"
SRC_D1172_2_1 = "Art. D.1172-2-1 CSP"

_RISK_FACTOR_FR = {
    "overweight": "surpoids",
    "obesity": "obésité",
    "hypertension": "hypertension artérielle",
    "undernutrition": "dénutrition",
    "sedentary": "sédentarité",
    "dyslipidaemia": "dyslipidémie",
    "addictive_behaviour": "conduite addictive",
    "other": "autre facteur de risque",
}
_AUTONOMY_FR = {
    "a_apa_allowance": "a) allocation personnalisée d'autonomie (L.232-1 CASF)",
    "b_home_help": "b) aide à domicile (L.231-1 CASF)",
    "c_cdaph_right": "c) droit ouvert par la CDAPH",
    "d_cmi": "d) carte mobilité inclusion",
    "e_frailty_screen_positive": "e) repérage multidimensionnel positif de la perte d'autonomie liée à l'âge",
}


def _reason(rule: str, code: str, source: str, fr: str, en: str, kind: ReasonKind) -> Reason:
    return Reason(rule=rule, code=code, source=source, text_fr=fr, text_en=en, kind=kind)


def eligibility_input_errors(data: EligibilityInput) -> list[FieldError]:
    """Input problems (E-6): ``other`` needs its text. Empty when the input is complete."""
    errors: list[FieldError] = []
    text = (data.risk_factor_other_text or "").strip()
    if "other" in data.risk_factors and not text:
        errors.append(
            FieldError(
                "risk_factor_other_text",
                "required when the risk factor 'other' is chosen (E-6) / "
                "à préciser lorsque « autre facteur de risque » est coché",
            )
        )
    if len(text) > RISK_FACTOR_OTHER_TEXT_MAX:
        errors.append(FieldError("risk_factor_other_text", f"at most {RISK_FACTOR_OTHER_TEXT_MAX} characters"))
    return errors


def evaluate_eligibility(data: EligibilityInput) -> EligibilityResult:
    """E-11: ``eligible = E-1 ∧ E-2 ∧ E-3 ∧ E-5 ∧ E-10``; every rule leaves a reason.

    Raises ValidationFailed (422) when the input is incomplete (E-6).
    """
    errors = eligibility_input_errors(data)
    if errors:
        raise ValidationFailed(errors, "Eligibility input is incomplete")

    reasons: list[Reason] = []
    warnings: list[Reason] = []
    blocking: list[EligibilityOutcome] = []

    # E-1
    if data.prescriber_is_physician:
        reasons.append(
            _reason(
                "E-1",
                "e1_prescriber_physician",
                SRC_D1172_2,
                "Le prescripteur est médecin.",
                "The prescriber is a physician.",
                "pass",
            )
        )
    else:
        blocking.append("prescriber_not_physician")
        reasons.append(
            _reason(
                "E-1",
                "e1_prescriber_not_physician",
                f"{SRC_D1172_2}; {SRC_D1172_2_1}",
                "Seul un médecin peut prescrire l'activité physique adaptée ; un masseur-kinésithérapeute peut "
                "seulement renouveler une fois ou adapter une prescription existante.",
                "Only a physician can sign an APA prescription; a physiotherapist may only renew once or adapt an "
                "existing one (P-6).",
                "fail",
            )
        )
    # E-2
    if data.prescriber_involved_in_care:
        reasons.append(
            _reason(
                "E-2",
                "e2_involved_in_care",
                SRC_D1172_2,
                "Le médecin intervient dans la prise en charge du patient.",
                "The physician takes part in the patient's care.",
                "pass",
            )
        )
    else:
        blocking.append("prescriber_not_involved_in_care")
        reasons.append(
            _reason(
                "E-2",
                "e2_not_involved_in_care",
                SRC_D1172_2,
                "Depuis le 1er avril 2023, tout médecin intervenant dans la prise en charge peut prescrire, "
                "mais il doit y prendre part : prescription refusée.",
                "Since 1 April 2023 any physician involved in the care may prescribe, but the prescriber must take "
                "part in the care: prescription refused.",
                "fail",
            )
        )
    # E-3
    if not data.below_who_recommendations:
        blocking.append("not_indicated_active_enough")
        reasons.append(
            _reason(
                "E-3",
                "not_indicated_active_enough",
                SRC_D1172_1,
                "Le niveau d'activité physique atteint déjà les recommandations de l'OMS : l'APA n'est pas indiquée. "
                "Conseils généraux et prise de contact directe avec une Maison Sport-Santé possibles.",
                "Activity already meets WHO recommendations: APA is not indicated. General advice and direct contact "
                "with a Maison Sport-Santé are offered.",
                "fail",
            )
        )
    if not data.cannot_progress_alone:
        blocking.append("not_indicated_autonomous")
        reasons.append(
            _reason(
                "E-3",
                "not_indicated_autonomous",
                SRC_D1172_1,
                "Le patient peut augmenter seul son activité de façon adaptée et sécurisée : l'APA n'est pas "
                "indiquée. Conseils généraux et prise de contact directe avec une Maison Sport-Santé possibles.",
                "The patient can raise activity alone in an adapted, safe way: APA is not indicated. General advice "
                "and "
                "direct contact with a Maison Sport-Santé are offered.",
                "fail",
            )
        )
    if data.below_who_recommendations and data.cannot_progress_alone:
        reasons.append(
            _reason(
                "E-3",
                "e3_apa_indicated",
                SRC_D1172_1,
                "Activité inférieure aux recommandations de l'OMS et progression seule impossible en sécurité.",
                "Activity below WHO recommendations and cannot progress alone safely.",
                "pass",
            )
        )

    # E-5 (with E-6, E-7, E-8)
    basis: list[Basis] = []
    if data.ald:
        basis.append("ald")
        reasons.append(
            _reason(
                "E-5",
                "e5_ald",
                f"{SRC_D1172_1_1} (« sans préjudice » de la liste des ALD, D.160-4 CSS)",
                "Affection de longue durée.",
                "Long-term condition (ALD).",
                "pass",
            )
        )
    if data.chronic_disease:
        basis.append("chronic_disease")
        reasons.append(
            _reason(
                "E-5", "e5_chronic_disease", f"{SRC_D1172_1_1}, 1°", "Maladie chronique.", "Chronic disease.", "pass"
            )
        )
        reasons.append(
            _reason(
                "E-8",
                "e8_basis_only",
                f"{SRC_D1172_1_1}, 1°; domain-sport C-4",
                "Seul le motif « maladie chronique » est conservé côté sport ; le diagnostic n'est jamais transmis.",
                "The sport side keeps only the ground 'chronic disease'; the diagnosis is never shared.",
                "info",
            )
        )
    if data.risk_factors:
        basis.append("risk_factor")
        listed = [f for f in RISK_FACTORS if f in data.risk_factors]
        reasons.append(
            _reason(
                "E-5",
                "e5_risk_factor",
                f"{SRC_D1172_1_1}, 2°",
                "Facteur(s) de risque : " + ", ".join(_RISK_FACTOR_FR[f] for f in listed) + ".",
                "Risk factor(s): " + ", ".join(listed) + ".",
                "pass",
            )
        )
        if "other" in data.risk_factors:
            warnings.append(
                _reason(
                    "E-6",
                    "e6_confirm_other_risk_factor",
                    f"{SRC_D1172_1_1}, 2° (« notamment »)",
                    "Vérifiez qu'il s'agit bien d'un facteur de risque reconnu : "
                    f"« {(data.risk_factor_other_text or '').strip()} ».",
                    f'Confirm this is a recognised risk factor: "{(data.risk_factor_other_text or "").strip()}".',
                    "warning",
                )
            )
    if data.autonomy_criteria:
        basis.append("autonomy")
        listed_a = [c for c in AUTONOMY_CRITERIA if c in data.autonomy_criteria]
        rule = "E-7" if {"c_cdaph_right", "d_cmi"} & data.autonomy_criteria else "E-5"
        reasons.append(
            _reason(
                rule,
                "e5_autonomy",
                f"{SRC_D1172_1_1}, 3°",
                "Perte d'autonomie : "
                + "; ".join(_AUTONOMY_FR[c] for c in listed_a)
                + (". Un droit CDAPH ou une CMI suffit, sans diagnostic à saisir." if rule == "E-7" else "."),
                "Loss of autonomy: "
                + ", ".join(listed_a)
                + (". A CDAPH right or a CMI is enough, with no diagnosis entered." if rule == "E-7" else "."),
                "pass",
            )
        )
    if not basis:
        blocking.append("no_eligible_condition")
        reasons.append(
            _reason(
                "E-5",
                "no_eligible_condition",
                SRC_D1172_1_1,
                "Aucun motif d'éligibilité : ni ALD, ni maladie chronique, ni facteur de risque, ni perte d'autonomie.",
                "No eligible ground: no ALD, chronic disease, risk factor or loss of autonomy.",
                "fail",
            )
        )

    # E-10
    if data.patient_agrees:
        reasons.append(
            _reason(
                "E-10",
                "e10_patient_agrees",
                f"{SRC_D1172_2} (« avec son accord »)",
                "Le patient donne son accord à la prescription.",
                "The patient agrees to the prescription.",
                "pass",
            )
        )
    else:
        blocking.append("patient_disagrees")
        reasons.append(
            _reason(
                "E-10",
                "patient_disagrees",
                f"{SRC_D1172_2} (« avec son accord »)",
                "Sans l'accord du patient, aucune prescription ne peut être signée.",
                "Without the patient's agreement nothing can be signed.",
                "fail",
            )
        )

    order: tuple[EligibilityOutcome, ...] = (
        "prescriber_not_physician",
        "prescriber_not_involved_in_care",
        "not_indicated_active_enough",
        "not_indicated_autonomous",
        "no_eligible_condition",
        "patient_disagrees",
    )
    blocking_sorted = [code for code in order if code in blocking]
    eligible = not blocking_sorted
    reasons.append(
        _reason(
            "E-11",
            "e11_eligible" if eligible else "e11_not_eligible",
            f"{SRC_D1172_1}; {SRC_D1172_1_1}; {SRC_D1172_2}",
            "Éligible à une prescription d'activité physique adaptée."
            if eligible
            else "Prescription d'activité physique adaptée impossible en l'état.",
            "Eligible for an APA prescription."
            if eligible
            else "An APA prescription cannot be signed as things stand.",
            "pass" if eligible else "fail",
        )
    )
    return EligibilityResult(
        eligible=eligible,
        outcome="eligible" if eligible else blocking_sorted[0],
        blocking=blocking_sorted,
        basis=basis,
        reasons=reasons,
        warnings=warnings,
        offer_mss_orientation=bool({"not_indicated_active_enough", "not_indicated_autonomous"} & set(blocking_sorted)),
    )


def prefill_below_who(report: WeeklyActivityReport, who: WhoSettings) -> WhoPrefill:
    """E-4: pre-fill ``below_who_recommendations`` from a self-report; the physician confirms.

    Moderate-equivalent minutes = moderate + vigorous × ``cfg:who.vigorous_factor``; below
    ``cfg:who.adult_min_weekly_minutes`` → true. Muscle strengthening only adds a note.
    """
    if report.moderate_minutes < 0 or report.vigorous_minutes < 0 or (report.strength_days or 0) < 0:
        raise ValidationFailed([FieldError("moderate_minutes", "minutes and days must be >= 0")])
    if report.strength_days is not None and report.strength_days > 7:
        raise ValidationFailed([FieldError("strength_days", "at most 7 days a week")])
    equivalent = report.moderate_minutes + report.vigorous_minutes * who.vigorous_factor
    below = equivalent < who.adult_min_weekly_minutes
    source = cite(who.provenance, "who.adult_min_weekly_minutes", "WHO 2020")
    reasons = [
        Reason(
            rule="E-4",
            code="e4_below_who" if below else "e4_meets_who",
            source=source,
            text_fr=(
                f"{equivalent:g} min d'équivalent modéré par semaine ("
                f"{'inférieur' if below else 'supérieur ou égal'} au seuil de {who.adult_min_weekly_minutes} min) : "
                "valeur pré-remplie, à confirmer par le médecin."
            ),
            text_en=(
                f"{equivalent:g} moderate-equivalent min a week ({'below' if below else 'at or above'} "
                f"{who.adult_min_weekly_minutes} min): pre-filled value, the physician confirms."
            ),
            kind="info",
        )
    ]
    if not below and report.strength_days is not None and report.strength_days < who.strength_min_days:
        reasons.append(
            Reason(
                rule="E-4",
                code="e4_strength_days_below",
                source=cite(who.provenance, "who.strength_min_days", "WHO 2020"),
                text_fr=f"Renforcement musculaire {report.strength_days} j/sem., l'OMS en recommande au moins "
                f"{who.strength_min_days} : à apprécier par le médecin.",
                text_en=f"Muscle strengthening {report.strength_days} d/wk; WHO recommends at least "
                f"{who.strength_min_days}: the physician decides.",
                kind="warning",
            )
        )
    return WhoPrefill(below_who_recommendations=below, moderate_equivalent_minutes=equivalent, reasons=reasons)
