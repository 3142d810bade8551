"""Triage and orientation, R-TRI-01..17 (domain-rtms §2.4). Pure: settings are arguments, no clock.

The output is advice to the responsible psychiatrist (§0.3). Orientation precedence is fixed by the
API contract: not_eligible_safety > ect_first > needs_more_information > rtms_with_precautions >
rtms_indicated. Rules never stop at the first hit: every rule that fires leaves its reason, so a
safety block still lists the ECT indication it hides (§2.2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Literal

import msgspec

from rtms_pathway.model.screening import Confidence, Precaution, PrecautionStatus, Reason, RuleSpec, Task
from rtms_pathway.model.triage import (
    ORIENTATION_PRECEDENCE,
    ClinicalSettings,
    Orientation,
    ProtocolSuggestion,
    TreatmentHistory,
    TriageDecision,
    TriageInput,
)
from rtms_pathway.rules.protocol_suggestions import ProtocolContext, suggest_protocols

__all__ = [
    "PRECAUTION_CODES",
    "RULES",
    "HighResistance",
    "high_resistance",
    "scheduling_blockers",
    "triage",
]

_SECTION = "§2.4"


def _spec(rule_id: str, sources: tuple[str, ...], confidence: Confidence, text_fr: str, text_en: str) -> RuleSpec:
    return RuleSpec(rule_id=rule_id, section=_SECTION, sources=sources, confidence=confidence,
                    text_fr=text_fr, text_en=text_en)


RULES: dict[str, RuleSpec] = {
    spec.rule_id: spec
    for spec in (
        _spec(
            "R-TRI-01", ("ROSSI09", "ROSSI11", "LABELS"), "verified",
            "Contre-indication de sécurité par défaut au dépistage (dispositif implanté ou métal à proximité de la "
            "bobine) : non éligible sauf dérogation motivée d'un médecin, cosignée par un second médecin ; "
            "courrier motivé au médecin adresseur.",
            "Default safety contraindication at screening (implanted device or metal near the coil): not eligible "
            "unless a physician overrides with a reason and a second physician co-signs; letter to the referrer.",
        ),
        _spec(
            "R-TRI-02", ("SEED", "REN14"), "verified",
            "Caractéristiques psychotiques : les données disponibles sont en faveur d'une meilleure efficacité de "
            "l'ECT, dont la supériorité sur la rTMS s'observe surtout dans les dépressions psychotiques ; "
            "orientation précoce vers l'ECT.",
            "Psychotic features: the evidence favours ECT, whose advantage over rTMS is mostly seen in psychotic "
            "depression; early orientation to ECT.",
        ),
        _spec(
            "R-TRI-03", ("SEED",), "verified",
            "Catatonie : situation où le niveau de preuve de l'ECT est meilleur, ce qui justifie une orientation "
            "précoce vers l'ECT.",
            "Catatonia: ECT has the better evidence, which justifies early orientation to ECT.",
        ),
        _spec(
            "R-TRI-04", ("SEED",), "verified",
            "Urgence avec risque suicidaire important : la rTMS n'est pas aussi efficace que les traitements de "
            "référence, notamment l'ECT, et la vitesse de réduction des symptômes est primordiale ; évaluation "
            "du risque suicidaire le jour même. Les protocoles accélérés pourraient modifier cette attitude à "
            "l'avenir.",
            "Emergency with high suicidal risk: rTMS is not as effective as reference treatments, ECT above all, "
            "and speed of response matters; same-day suicide risk assessment. Accelerated protocols may change "
            "this in the future.",
        ),
        _spec(
            "R-TRI-05", ("SEED",), "verified",
            "Idées suicidaires non urgentes : leur intensité diminue volontiers pendant la rTMS, elles ne "
            "l'excluent pas ; surveillance à chaque évaluation.",
            "Non-urgent suicidal ideation often decreases during rTMS and is not an exclusion; safety triggers at "
            "every assessment.",
        ),
        _spec(
            "R-TRI-06", (), "design",
            "Informations cliniques manquantes ou incohérentes : demande adressée au médecin adresseur, triage "
            "relancé à réception.",
            "Clinical information missing or inconsistent: request to the referrer, triage re-run on reply.",
        ),
        _spec(
            "R-TRI-07", ("SEED", "NANTES"), "verified",
            "Profil favorable, peu résistant (échec d'un ou deux traitements) : l'efficacité de la rTMS est "
            "meilleure chez les patients peu résistants et peu chroniques ; la FDA et le CANMAT la recommandent "
            "dès l'échec d'un antidépresseur.",
            "Favourable profile, low resistance (1-2 failures): rTMS works better in little-resistant, "
            "little-chronic patients; FDA and CANMAT position it from the first antidepressant failure.",
        ),
        _spec(
            "R-TRI-08", ("SEED", "MCAW18"), "to_verify",
            "Résistance élevée : l'efficacité est moindre et le maintien de l'effet après la cure plus incertain ; "
            "la rTMS ne doit pas être un frein à des solutions plus adaptées, en particulier l'ECT. Discussion "
            "documentée de l'ECT et des autres options avant la première séance (la définition de la haute "
            "résistance n'est pas consensuelle : seuil à valider).",
            "High resistance: lower efficacy and less certain maintenance after the course; rTMS must not delay "
            "better-suited options, ECT above all. Documented discussion of ECT and other options before session 1 "
            "(no consensus on high resistance: threshold to verify).",
        ),
        _spec(
            "R-TRI-09", ("SEED", "NANTES"), "verified",
            "Efficacité attendue plus faible ; la rTMS est plus efficace chez les patients peu chroniques et un "
            "épisode de moins de deux ans est préférable.",
            "Lower expected efficacy; rTMS works better in little-chronic patients and an episode under two years "
            "is preferred.",
        ),
        _spec(
            "R-TRI-10", ("SEED",), "verified",
            "Trouble addictif actif : ce n'est pas une contre-indication (c'est même un champ d'application "
            "potentiel), mais les consommations ne doivent pas interférer avec la rTMS et doivent être limitées "
            "pendant la cure ; surveillance rapprochée par le psychiatre de neuromodulation et l'addictologue. "
            "Stimulation à haute fréquence du cortex préfrontal gauche privilégiée.",
            "Active substance use disorder: not a contraindication (even a potential field of application), but use "
            "must not interfere with rTMS and should be limited during the course; close monitoring by the "
            "neuromodulation psychiatrist and the addiction specialist. High-frequency left DLPFC preferred.",
        ),
        _spec(
            "R-TRI-11", ("SEED", "K220127"), "verified",
            "Caractéristiques anxieuses : elles semblent diminuer l'efficacité, mais les taux de réponse restent "
            "substantiels (de l'ordre de 35 à 48 %) et ne doivent pas faire exclure le patient ; la basse "
            "fréquence droite serait possiblement plus indiquée.",
            "Anxious features lower efficacy, but response rates stay substantial (about 35-48 %) and must not "
            "exclude the patient; low-frequency right DLPFC may suit better.",
        ),
        _spec(
            "R-TRI-12", ("SEED",), "verified",
            "Dépression bipolaire : la rTMS est un traitement antidépresseur et implique un risque de virage de "
            "l'humeur ; l'association avec un régulateur de l'humeur est la règle et maintient ce risque à un "
            "niveau acceptable (un seul cas évocateur sur 245 patients). Efficacité confirmée, mais moins franche "
            "que dans la dépression unipolaire.",
            "Bipolar depression: rTMS acts as an antidepressant and carries a switch risk; combination with a mood "
            "stabilizer is the rule and keeps the risk acceptable (one suggestive case in 245 patients). Efficacy "
            "confirmed but less clear than in unipolar depression.",
        ),
        _spec(
            "R-TRI-13", ("SEED",), "verified",
            "Épisode maniaque, hypomaniaque ou mixte, ou indication hors trouble de l'humeur : les études "
            "actuelles ne permettent pas de conclure ; décision médicale hors parcours standard.",
            "Manic, hypomanic or mixed episode, or a non-mood indication: current studies allow no conclusion; "
            "physician decision outside the standard pathway.",
        ),
        _spec(
            "R-TRI-14", ("SEED",), "verified",
            "Préférence du patient consignée : les patients seraient plus enclins à la rTMS, l'ECT restant "
            "stigmatisée et source d'appréhension ; cette préférence peut influencer l'observance et le pronostic.",
            "Patient preference recorded: patients lean towards rTMS, ECT remains stigmatised; preference influences "
            "adherence and prognosis.",
        ),
        _spec(
            "R-TRI-15", ("SEED",), "verified",
            "Cure de rTMS antérieure : la rTMS demeure efficace si elle est reproposée après une rechute ; en cas "
            "d'échec, reconsidérer toutes les options, dont un autre protocole à haut niveau de preuve.",
            "Earlier rTMS course: rTMS remains effective when re-used after relapse; after a failure, reconsider "
            "every option, including a different high-evidence protocol.",
        ),
        _spec(
            "R-TRI-16", ("SEED", "CAMH13", "CRISTANCHO13"), "verified",
            "Réponse récente à l'ECT : la rTMS d'entretien a maintenu l'effet de l'ECT entre 6 et 13 mois dans "
            "une série, gain substantiel mais pas absolu ; entretien bilatéral séquentiel envisageable.",
            "Recent ECT response: rTMS maintenance kept the ECT effect for 6-13 months in one series, a substantial "
            "but partial gain; bilateral sequential maintenance may be suggested.",
        ),
        _spec(
            "R-TRI-17", ("ROSSI11",), "design",
            "Dépistage de sécurité : réponse positive nécessitant l'avis d'un médecin avant la première séance.",
            "Safety screening: positive answer that needs a physician's decision before session 1.",
        ),
    )
}

# Every precaution code R-TRI rules raise themselves; §3 and §4 codes come with their results.
PRECAUTION_CODES: tuple[str, ...] = (
    "high_resistance_discuss_ect",
    "chronic_episode",
    "first_line_use",
    "anxious_features",
    "addiction_joint_followup",
    "alcohol_lowers_seizure_threshold",
    "mood_stabilizer_required",
    "monitor_manic_switch",
    "suicidality_monitoring",
    "patient_preference_rtms",
    "ect_declined",
    "prior_rtms_response",
    "prior_rtms_nonresponse",
    "out_of_pathway",
    "post_ect_maintenance",
)

# Required fields of §2.1, in its order; None (and "unknown" for yes/no fields) is missing.
_REQUIRED = (
    "diagnosis", "episode_polarity", "episode_months", "severity", "psychotic_features", "catatonia",
    "suicidal_risk", "treatment_trials", "safety_screening", "medication_review",
)
_BIPOLAR = ("bipolar_i", "bipolar_ii")
_BLOCK_STANDS_FR = ("Non éligible à la rTMS sauf dérogation motivée d'un médecin, cosignée par un second médecin ; "
                    "courrier motivé au médecin adresseur.")
_BLOCK_STANDS_EN = "Not eligible unless a physician overrides with a reason and a second physician co-signs."
_BLOCK_LIFTED_FR = "Contre-indication levée par une dérogation médicale motivée et cosignée."
_BLOCK_LIFTED_EN = "Lifted by a co-signed physician override with a reason."
_OFF_PATHWAY_POLARITIES = ("manic", "hypomanic", "mixed")
_RESPONSE = ("remission", "response")
_IFCN_MEDICATIONS_ITEM = "ifcn_q11_medications"
# Whole months are counted down, so an episode given as M months may last up to M + 1 months of
# at most 31 days: the coherence check gives the referrer that benefit of the doubt.
_MAX_DAYS_PER_MONTH = 31


class HighResistance(msgspec.Struct, frozen=True):
    met: bool
    basis: str  # "staging", "mtr_mdd", "msm" or "fallback_failed_trials"
    text_fr: str
    text_en: str


def high_resistance(history: TreatmentHistory, settings: ClinicalSettings) -> HighResistance:
    """R-TRI-08's definition (§2.4, §5.3): MTR-MDD by default, MSM >= threshold as the alternative.

    When the chosen definition cannot be computed (augmentation or psychotherapy not documented,
    or no MSM total), the count of failed antidepressant trials decides against
    ``triage.high_resistance_fallback_min_failures``, and the reason says so.
    """
    s = settings.triage
    failures = history.failed_adequate_antidepressant_trials
    if history.high_resistance is not None:
        verdict = "atteinte" if history.high_resistance else "non atteinte"
        return HighResistance(
            history.high_resistance, "staging",
            f"définition de la haute résistance {verdict} selon la stadification (§5)",
            f"high-resistance definition {'met' if history.high_resistance else 'not met'} per staging (§5)",
        )
    if s.high_resistance_definition.value == "msm" and history.msm_total is not None:
        minimum = s.high_resistance_msm_min.value
        return HighResistance(
            history.msm_total >= minimum, "msm",
            f"MSM {history.msm_total} (seuil {minimum})", f"MSM {history.msm_total} (threshold {minimum})",
        )
    aug, psy = history.failed_augmentation_trials, history.failed_psychotherapy_trials
    if s.high_resistance_definition.value == "mtr_mdd" and aug is not None and psy is not None:
        met = (
            failures >= s.mtr_mdd_min_antidepressant_failures.value
            and aug >= s.mtr_mdd_min_augmentation_failures.value
            and psy >= s.mtr_mdd_min_psychotherapy_failures.value
        )
        return HighResistance(
            met, "mtr_mdd",
            f"critères MTR-MDD : {failures} antidépresseur(s), {aug} potentialisation(s), {psy} psychothérapie(s) "
            "en échec",
            f"MTR-MDD criteria: {failures} antidepressant, {aug} augmentation, {psy} psychotherapy failure(s)",
        )
    minimum = s.high_resistance_fallback_min_failures.value
    return HighResistance(
        failures >= minimum, "fallback_failed_trials",
        f"{failures} échec(s) d'antidépresseur adéquat (seuil {minimum}, faute de données de potentialisation, "
        "de psychothérapie ou de score MSM)",
        f"{failures} failed adequate antidepressant trial(s) (threshold {minimum}, no augmentation, psychotherapy "
        "or MSM data)",
    )


class _Builder:
    """Accumulates one triage: precautions (merged by code), reasons, candidates, tasks."""

    def __init__(self, settings: ClinicalSettings) -> None:
        self.settings = settings
        self.precautions: dict[str, Precaution] = {}
        self.reasons: list[Reason] = []
        self.candidates: set[Orientation] = set()
        self.tasks: list[Task] = []

    def precaution(
        self,
        code: str,
        rule_id: str,
        *,
        status: PrecautionStatus = "open",
        subjects: Iterable[str] = (),
        actions: Iterable[str] = (),
    ) -> None:
        existing = self.precautions.get(code)
        if existing is None:
            self.precautions[code] = Precaution(
                code=code, level=self.settings.precaution_level(code), status=status, rule_id=rule_id,
                subjects=tuple(dict.fromkeys(subjects)), actions=tuple(dict.fromkeys(actions)),
            )
            return
        # The same code from two rules: keep one entry, the stronger status, every subject.
        rank = {"resolved": 0, "overridden": 1, "open": 2}
        self.precautions[code] = msgspec.structs.replace(
            existing,
            status=existing.status if rank[existing.status] >= rank[status] else status,
            subjects=tuple(dict.fromkeys((*existing.subjects, *subjects))),
            actions=tuple(dict.fromkeys((*existing.actions, *actions))),
        )

    def imported(self, precaution: Precaution) -> None:
        self.precaution(
            precaution.code, precaution.rule_id, status=precaution.status,
            subjects=precaution.subjects, actions=precaution.actions,
        )

    def reason(self, rule_id: str, text_fr: str | None = None, text_en: str | None = None,
               subjects: Iterable[str] = (), *, extra_sources: Iterable[str] = ()) -> None:
        reason = RULES[rule_id].reason(text_fr, text_en, tuple(subjects))
        # A screening hit cites its own sources (e.g. WUSTL for raised intracranial pressure).
        sources = tuple(dict.fromkeys((*reason.sources, *extra_sources)))
        self.reasons.append(msgspec.structs.replace(reason, sources=sources))

    def task(self, code: str, urgency: Literal["routine", "same_day"], rule_id: str, text_fr: str,
             text_en: str) -> None:
        self.tasks.append(Task(code=code, urgency=urgency, rule_id=rule_id, text_fr=text_fr, text_en=text_en))


def _missing(inp: TriageInput, settings: ClinicalSettings) -> tuple[list[str], list[str], list[str]]:
    """R-TRI-06 / R-SAF-01: (missing fields in §2.1 order, inconsistent fields, explanations in French)."""
    missing: list[str] = []
    for name in _REQUIRED:
        if name in inp.not_collected:
            continue
        if getattr(inp, name) in (None, "unknown"):
            missing.append(name)
        elif name == "safety_screening" and inp.safety_screening is not None and not inp.safety_screening.complete:
            missing.extend(f"safety_screening.{item}" for item in inp.safety_screening.missing_items)

    inconsistent: list[str] = []
    notes: list[str] = []
    history, months = inp.treatment_trials, inp.episode_months
    if history is not None and months is not None:
        weeks = settings.triage.min_weeks_per_failed_trial.value
        needed_days = history.failed_adequate_antidepressant_trials * weeks * 7
        if needed_days > (months + 1) * _MAX_DAYS_PER_MONTH:
            inconsistent += ["treatment_trials", "episode_months"]
            notes.append(
                f"{history.failed_adequate_antidepressant_trials} essais adéquats d'au moins {weeks} semaines ne "
                f"tiennent pas dans un épisode de {months} mois"
            )
    screening, review = inp.safety_screening, inp.medication_review
    if (
        screening is not None
        and review is not None
        and screening.answered_yes(_IFCN_MEDICATIONS_ITEM)
        and not review.has_current_drugs()
    ):
        inconsistent.append("medication_review")
        notes.append("le dépistage indique des traitements en cours (item IFCN 11) mais la liste est vide")
    return missing, inconsistent, notes


def triage(inp: TriageInput, settings: ClinicalSettings) -> TriageDecision:
    """Orientation, precautions, protocol suggestions and reasons for one referral (§2)."""
    b = _Builder(settings)
    t = settings.triage
    screening, review = inp.safety_screening, inp.medication_review

    # R-TRI-01: a BLOCK still standing makes the patient not eligible for rTMS.
    if screening is not None:
        for precaution in screening.precautions:
            if precaution.code != "safety_block":
                continue
            b.imported(precaution)
            blocking = [h for h in screening.hits if h.rule_id in precaution.subjects]
            for hit in blocking:
                lifted = hit.status == "overridden"
                b.reason(
                    "R-TRI-01",
                    f"{hit.label_fr} — {hit.message_fr} " + (_BLOCK_LIFTED_FR if lifted else _BLOCK_STANDS_FR),
                    f"{hit.message_en} " + (_BLOCK_LIFTED_EN if lifted else _BLOCK_STANDS_EN),
                    (hit.rule_id, hit.item),
                    extra_sources=hit.sources,
                )
            if precaution.status == "open":
                b.candidates.add("not_eligible_safety")
                b.task("letter_to_referrer_not_eligible", "routine", "R-TRI-01",
                       "Courrier motivé au médecin adresseur (non éligible pour raison de sécurité)",
                       "Letter to the referrer with the safety reasons")

    # R-TRI-02..04: situations where ECT has the better evidence.
    if inp.psychotic_features == "yes":
        b.candidates.add("ect_first")
        b.reason("R-TRI-02")
    if inp.catatonia == "yes":
        b.candidates.add("ect_first")
        b.reason("R-TRI-03")
    cssrs_urgent = inp.cssrs_category == "high" and t.cssrs_high_maps_to_urgent.value
    if inp.suicidal_risk == "urgent" or cssrs_urgent:
        b.candidates.add("ect_first")
        text_fr, text_en = RULES["R-TRI-04"].text_fr, RULES["R-TRI-04"].text_en
        if cssrs_urgent and inp.suicidal_risk != "urgent":
            text_fr += " C-SSRS élevé compté comme urgent par défaut : confirmation clinique requise."
            text_en += " C-SSRS HIGH counted as urgent by default: clinician confirmation required."
        b.reason("R-TRI-04", text_fr, text_en)
        b.task("urgent_suicide_risk_assessment", "same_day", "R-TRI-04",
               "Urgent : évaluation du risque suicidaire (même jour)", "Urgent: suicide risk assessment (same day)")
    elif inp.suicidal_risk == "ideation_non_urgent":
        b.precaution("suicidality_monitoring", "R-TRI-05")
        b.reason("R-TRI-05")

    # R-TRI-07 / R-TRI-08: resistance.
    history = inp.treatment_trials
    if history is not None:
        failures = history.failed_adequate_antidepressant_trials
        resistance = high_resistance(history, settings)
        if resistance.met:
            b.precaution("high_resistance_discuss_ect", "R-TRI-08")
            low = t.low_resistance_min_failures.value <= failures <= t.low_resistance_max_failures.value
            side = (f" Le seul nombre d'échecs d'antidépresseurs ({failures}) évoquerait une faible résistance : les "
                    "deux lectures sont affichées, le médecin décide.") if low else ""
            b.reason("R-TRI-08", f"{RULES['R-TRI-08'].text_fr} Base : {resistance.text_fr}.{side}",
                     f"{RULES['R-TRI-08'].text_en} Basis: {resistance.text_en}.", (resistance.basis,))
        elif t.low_resistance_min_failures.value <= failures <= t.low_resistance_max_failures.value:
            b.reason("R-TRI-07")
        elif failures == 0:
            b.precaution("first_line_use", "R-TRI-07")
            b.reason(
                "R-TRI-07",
                "Aucun échec de traitement antidépresseur adéquat : une revue des études chez des patients peu "
                "résistants conclut en faveur de l'efficacité, mais ce n'est pas le positionnement habituel ; "
                "documenter la justification et la préférence du patient.",
                "No adequate failed trial: a review of little-resistant studies supports efficacy, but this is not "
                "usual positioning; document the rationale and the patient's preference.",
            )

    # R-TRI-09: chronicity, strictly above the threshold.
    if inp.episode_months is not None and inp.episode_months > t.chronic_episode_months.value:
        b.precaution("chronic_episode", "R-TRI-09")
        b.reason("R-TRI-09",
                 f"Épisode chronique de {inp.episode_months} mois (plus de {t.chronic_episode_months.value} mois) : "
                 f"{_lower_first(RULES['R-TRI-09'].text_fr)}",
                 f"Chronic episode of {inp.episode_months} months (over {t.chronic_episode_months.value}): "
                 f"{_lower_first(RULES['R-TRI-09'].text_en)}")

    # R-TRI-10: active substance use disorder.
    active = [s for s in inp.substance_use if s.status == "active"]
    if active:
        substances = tuple(dict.fromkeys(s.substance for s in active))
        b.precaution("addiction_joint_followup", "R-TRI-10", subjects=substances, actions=("A8",))
        text_fr, text_en = RULES["R-TRI-10"].text_fr, RULES["R-TRI-10"].text_en
        if "alcohol" in substances:
            b.precaution("alcohol_lowers_seizure_threshold", "R-TRI-10", subjects=("alcohol",),
                         actions=("A1", "A2", "A8"))
            text_fr += " L'alcool diminue le seuil épileptogène et augmente le risque de crise induite par la rTMS."
            text_en += " Alcohol lowers the seizure threshold and raises the risk of an rTMS-induced seizure."
        b.reason("R-TRI-10", text_fr, text_en, substances)

    # R-TRI-11: anxiety, declared or GAD-7 at or above the threshold.
    gad7_hit = inp.gad7_total is not None and inp.gad7_total >= t.anxiety_gad7_threshold.value
    anxious = inp.anxiety_comorbidity is True or gad7_hit
    if anxious:
        b.precaution("anxious_features", "R-TRI-11")
        detail_fr = f" GAD-7 = {inp.gad7_total} (seuil {t.anxiety_gad7_threshold.value})." if gad7_hit else ""
        detail_en = f" GAD-7 = {inp.gad7_total} (threshold {t.anxiety_gad7_threshold.value})." if gad7_hit else ""
        b.reason("R-TRI-11", RULES["R-TRI-11"].text_fr + detail_fr, RULES["R-TRI-11"].text_en + detail_en)

    # R-TRI-12: bipolar depression. R-TRI-13: outside the pathway.
    off_pathway = inp.diagnosis == "other" or inp.episode_polarity in _OFF_PATHWAY_POLARITIES
    if inp.diagnosis in _BIPOLAR and not off_pathway:
        stabilizers = review.current_mood_stabilizers() if review is not None else ()
        resolved = bool(stabilizers) or inp.mood_stabilizer_documented
        b.precaution("mood_stabilizer_required", "R-TRI-12",
                     status="resolved" if resolved else "open", subjects=stabilizers)
        b.precaution("monitor_manic_switch", "R-TRI-12")
        if stabilizers:
            extra_fr = f" Régulateur de l'humeur en cours : {', '.join(stabilizers)}."
            extra_en = f" Current mood stabilizer: {', '.join(stabilizers)}."
        elif resolved:
            extra_fr = " Régulateur de l'humeur en cours déclaré par le médecin adresseur."
            extra_en = " Current mood stabilizer stated by the referrer."
        else:
            extra_fr = " Aucun régulateur de l'humeur documenté : à documenter avant la première séance."
            extra_en = " No mood stabilizer documented: required before session 1."
        antiepileptics = review.current_antiepileptics() if review is not None else ()
        if antiepileptics:
            # A10 and R-TRI-12 pull in opposite directions: show both, the physician decides (§4.3).
            extra_fr += (f" Le conseil de limiter les anticonvulsivants pendant l'induction (A10) est en tension avec "
                         f"le régulateur de l'humeur ({', '.join(antiepileptics)}) : le médecin décide.")
            extra_en += (f" Advice A10 (limit antiepileptics during induction) conflicts with the mood stabilizer "
                         f"({', '.join(antiepileptics)}): the physician decides.")
        b.reason("R-TRI-12", RULES["R-TRI-12"].text_fr + extra_fr, RULES["R-TRI-12"].text_en + extra_en,
                 stabilizers)
    if off_pathway:
        b.precaution("out_of_pathway", "R-TRI-13")
        b.candidates.add("needs_more_information")
        b.reason("R-TRI-13")

    # R-TRI-14: preference, recorded whatever the orientation.
    preference = inp.patient_preference
    if preference is not None:
        _preference(b, inp, preference)

    # R-TRI-15: earlier rTMS courses.
    responses = tuple(dict.fromkeys(c.protocol_id for c in inp.prior_rtms if c.outcome in _RESPONSE))
    failures_rtms = tuple(dict.fromkeys(
        c.protocol_id for c in inp.prior_rtms if c.adequate and c.outcome == "non_response"
    ))
    if responses:
        b.precaution("prior_rtms_response", "R-TRI-15", subjects=responses)
        b.reason("R-TRI-15", f"{RULES['R-TRI-15'].text_fr} Réponse antérieure : {', '.join(responses)}.",
                 f"{RULES['R-TRI-15'].text_en} Earlier response: {', '.join(responses)}.", responses)
    if failures_rtms:
        b.precaution("prior_rtms_nonresponse", "R-TRI-15", subjects=failures_rtms)
        b.reason("R-TRI-15", f"{RULES['R-TRI-15'].text_fr} Non-réponse : {', '.join(failures_rtms)}.",
                 f"{RULES['R-TRI-15'].text_en} No response: {', '.join(failures_rtms)}.", failures_rtms)

    # R-TRI-16: maintenance after an ECT response.
    ect = inp.prior_ect
    post_ect = ect is not None and ect.responded and ect.recent and ect.continuation_discussed
    if post_ect:
        b.precaution("post_ect_maintenance", "R-TRI-16")
        b.reason("R-TRI-16")

    # R-TRI-17: import the §3 review findings and the §4 medication precautions with their reasons.
    if screening is not None:
        for precaution in screening.precautions:
            if precaution.code == "physician_review_safety":
                b.imported(precaution)
                for hit in screening.hits:
                    if hit.rule_id in precaution.subjects:
                        b.reason("R-TRI-17", f"{hit.label_fr} — {hit.message_fr}", hit.message_en,
                                 (hit.rule_id, hit.item), extra_sources=hit.sources)
    if review is not None:
        for precaution in review.precautions:
            b.imported(precaution)
        b.reasons.extend(review.reasons)

    # R-TRI-06: clinically incomplete, unless an ECT rule already decided.
    missing, inconsistent, notes = _missing(inp, settings)
    missing_information = tuple(dict.fromkeys(missing + inconsistent))
    ect_fired = "ect_first" in b.candidates
    if missing_information and not ect_fired:
        b.candidates.add("needs_more_information")
        detail_fr = f" Manquant : {', '.join(missing)}." if missing else ""
        detail_fr += f" Incohérent : {' ; '.join(notes)}." if notes else ""
        detail_en = f" Missing: {', '.join(missing)}." if missing else ""
        detail_en += f" Inconsistent: {', '.join(inconsistent)}." if inconsistent else ""
        b.reason("R-TRI-06", RULES["R-TRI-06"].text_fr + detail_fr, RULES["R-TRI-06"].text_en + detail_en,
                 missing_information)
        b.task("request_information_from_referrer", "routine", "R-TRI-06",
               "Demande d'informations au médecin adresseur : " + ", ".join(missing_information),
               "Request to the referrer: " + ", ".join(missing_information))

    levels = set(t.with_precautions_levels.value)
    statuses = set(t.with_precautions_statuses.value)
    if any(p.level in levels and p.status in statuses for p in b.precautions.values()):
        b.candidates.add("rtms_with_precautions")
    orientation = next(o for o in ORIENTATION_PRECEDENCE if o in b.candidates or o == "rtms_indicated")

    suggestions: tuple[ProtocolSuggestion, ...] = ()
    if orientation in ("rtms_indicated", "rtms_with_precautions"):
        context = ProtocolContext(
            anxious=anxious,
            addiction="addiction_joint_followup" in b.precautions,
            prior_responses=responses,
            prior_nonresponses=failures_rtms,
            post_ect_maintenance=post_ect,
            site_capabilities=inp.site_capabilities,
        )
        ranked, protocol_reasons = suggest_protocols(context, settings.protocol)
        suggestions = ranked
        b.reasons.extend(protocol_reasons)

    return TriageDecision(
        orientation=orientation,
        precautions=tuple(b.precautions.values()),
        protocol_suggestions=suggestions,
        reasons=tuple(b.reasons),
        missing_information=missing_information,
        tasks=tuple(b.tasks),
        ruleset_version=_ruleset_version(inp, settings),
        inputs_hash="sha256:" + hashlib.sha256(msgspec.json.encode(inp, order="deterministic")).hexdigest(),
    )


def _preference(b: _Builder, inp: TriageInput, preference: str) -> None:
    """R-TRI-14: record the preference and say what it weighs in this situation."""
    ect_fired = "ect_first" in b.candidates
    if preference in ("rtms", "declines_ect"):
        b.precaution("patient_preference_rtms", "R-TRI-14")
    if preference == "declines_ect":
        b.precaution("ect_declined", "R-TRI-14")
    base_fr, base_en = RULES["R-TRI-14"].text_fr, RULES["R-TRI-14"].text_en
    if ect_fired and preference in ("rtms", "declines_ect"):
        extra_fr = (" L'orientation vers l'ECT est maintenue ; un médecin peut la modifier par une dérogation motivée "
                    "(rTMS avec précautions).")
        extra_en = " ECT orientation kept; a physician may override to rTMS with precautions, with a reason."
    elif preference in ("rtms", "declines_ect") and "high_resistance_discuss_ect" in b.precautions:
        # Both options are reasonable here, so the preference genuinely weighs in favour of rTMS.
        extra_fr = " La rTMS et l'ECT étant toutes deux envisageables, la préférence plaide pour la rTMS."
        extra_en = " Both rTMS and ECT are reasonable: the preference favours rTMS (adherence, prognosis)."
    elif preference == "ect":
        extra_fr = " Préférence pour l'ECT : à discuter avec le patient."
        extra_en = " Prefers ECT: to discuss with the patient."
    elif preference == "declines_rtms":
        extra_fr = " Le patient ne souhaite pas de rTMS : à discuter avant toute programmation."
        extra_en = " Patient declines rTMS: to discuss before any scheduling."
    else:
        extra_fr = extra_en = ""
    b.reason("R-TRI-14", base_fr + extra_fr, base_en + extra_en, (preference,))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _ruleset_version(inp: TriageInput, settings: ClinicalSettings) -> str:
    parts = [f"settings {settings.version}"]
    if inp.safety_screening is not None and inp.safety_screening.catalogue_version:
        parts.append(f"screening {inp.safety_screening.catalogue_version}")
    if inp.medication_review is not None and inp.medication_review.catalogue_version:
        parts.append(f"drugs {inp.medication_review.catalogue_version}")
    return "; ".join(parts)


def scheduling_blockers(decision: TriageDecision) -> list[Precaution]:
    """Preconditions still open: session 1 cannot be scheduled until each is resolved or overridden (§2.2)."""
    return [p for p in decision.precautions if p.level == "precondition" and p.status == "open"]
