"""Treatment history and resistance staging (domain-rtms §5): pure, no I/O, no clock.

- ``assess_trial``: R-STG-01 adequacy, R-STG-02 intolerance, R-STG-03/04 failure flags.
- ``stage``: everything for one episode: TRD definitions (§5.3), Maudsley Staging Method (§5.4),
  Thase–Rush stage (§5.5), intolerance count, high resistance (R-TRI-08 input) and the
  pseudo-resistance checklist (R-STG-06).
- ``maudsley_staging``, ``thase_rush_stage``, ``pseudo_resistance_checklist``: the parts alone.

All thresholds come from :class:`StagingSettings` (``catalogue/staging_settings.yaml``); the
staging date is an argument. Percentages are compared exactly (``Fraction``), never as floats.
Every decision carries an :class:`Explanation` in French and English citing its rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from rtms_pathway.model.staging import (
    ChecklistItemState,
    Confidence,
    DefinitionFlag,
    DoseCheck,
    Explanation,
    HighResistance,
    MsmCategory,
    MsmDimension,
    MsmResult,
    MsmSeverity,
    PseudoResistanceChecklist,
    ResponseBand,
    StagingInput,
    StagingResult,
    StagingSettings,
    ThaseRushResult,
    ThaseRushStage,
    TreatmentTrial,
    TrialAssessment,
)
from shared_core.errors import FieldError, ValidationFailed
from shared_core.text import fold

__all__ = [
    "assess_trial",
    "episode_duration_months",
    "maudsley_staging",
    "pseudo_resistance_checklist",
    "stage",
    "thase_rush_stage",
]

SRC_ADEQUACY = "domain-rtms §5.2 R-STG-01 (SFORZINI22, GAYNES20)"
SRC_INTOLERANCE = "domain-rtms §5.2 R-STG-02 (SFORZINI22)"
SRC_EU_PEARL = "domain-rtms §5.2 R-STG-03 (SFORZINI22)"
SRC_HAS = "domain-rtms §5.2 R-STG-04 (HAS-TRD)"
SRC_NON_AD = "domain-rtms §5.2 R-STG-05"
SRC_CHECKLIST = "domain-rtms §5.2 R-STG-06 (ENCEPHALE21)"
SRC_DEFINITIONS = "domain-rtms §5.3"
SRC_MSM = "domain-rtms §5.4 (FEKADU09, FEKADU18)"
SRC_THASE = "domain-rtms §5.5 (THASE97)"
SRC_HIGH = "domain-rtms §2.4 R-TRI-08 (SEED, MCAW18)"

_DRUG_MODALITIES = ("antidepressant", "augmentation")
# Improvement interval [low, high) in percent implied by an outcome category (None: unbounded).
_OUTCOME_INTERVAL: dict[str, tuple[int | None, int | None]] = {
    "non_response_lt25": (None, 25),
    "partial_25_49": (25, 50),
    "response_ge50": (50, None),
}
_ROMAN: dict[int, Literal["0", "I", "II", "III", "IV", "V"]] = {0: "0", 1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}
_CLASS_FR = {
    "ssri": "ISRS", "snri": "IRSNa", "tca": "imipraminique (tricyclique)", "maoi": "IMAO",
    "mirtazapine_like": "mirtazapine/miansérine", "other_ad": "autre antidépresseur",
}
_CLASS_EN = {
    "ssri": "SSRI", "snri": "SNRI", "tca": "TCA", "maoi": "MAOI", "mirtazapine_like": "mirtazapine-like",
    "other_ad": "other antidepressant",
}


# -- small helpers ----------------------------------------------------------------------------


def _num_fr(value: Decimal | Fraction | int) -> str:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", ",")


def _num_en(value: Decimal | Fraction | int) -> str:
    return _num_fr(value).replace(",", ".")


def _caveat_fr(confidence: Confidence) -> str:
    return {"to_verify": " (valeur à vérifier)", "conflict": " (valeur discutée)"}.get(confidence, "")


def _caveat_en(confidence: Confidence) -> str:
    return {"to_verify": " (value to verify)", "conflict": " (value in conflict)"}.get(confidence, "")


def _inner_fr(confidence: Confidence) -> str:
    """The caveat inside an existing parenthesis."""
    return {"to_verify": ", valeur à vérifier", "conflict": ", valeur discutée"}.get(confidence, "")


def _inner_en(confidence: Confidence) -> str:
    return {"to_verify": ", value to verify", "conflict": ", value in conflict"}.get(confidence, "")


def _lower_first(label: str) -> str:
    """Sentence-internal form of a label, keeping acronyms (TDAH, ADHD) intact."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _plural_fr(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


# -- R-STG-01..05: one trial ------------------------------------------------------------------


def assess_trial(
    trial: TreatmentTrial, settings: StagingSettings, *, current_episode_id: str | None = None, index: int = 0
) -> TrialAssessment:
    """Derived flags of one trial. ``current_episode_id`` None treats the trial as current."""
    in_episode = current_episode_id is None or trial.episode_id == current_episode_id
    notes: list[Explanation] = []
    needs_review = False
    name = trial.agent

    adequate: bool | None
    dose_check: DoseCheck = "not_applicable"
    if trial.modality in _DRUG_MODALITIES:
        dose_check, dose_note = _dose_check(trial, settings)
        weeks_ok, weeks_fr, weeks_en = _weeks(trial, settings)
        dose_ok = dose_check in ("met", "confirmed_by_clinician")
        adherence_ok = trial.adherence != "poor"
        adequate = dose_ok and weeks_ok and adherence_ok
        needs_review = dose_check in ("unknown_molecule", "unit_mismatch", "dose_missing") or (
            trial.weeks_at_adequate_dose is None
        )
        adherence_fr = "observance mauvaise" if not adherence_ok else f"observance {_ADHERENCE_FR[trial.adherence]}"
        adherence_en = "poor adherence" if not adherence_ok else f"adherence {trial.adherence}"
        verdict_fr = "essai adéquat" if adequate else "essai non adéquat"
        verdict_en = "adequate trial" if adequate else "not an adequate trial"
        notes.append(Explanation(
            "R-STG-01", SRC_ADEQUACY,
            f"{name} : {dose_note[0]} ; {weeks_fr} ; {adherence_fr} → {verdict_fr}.",
            f"{name}: {dose_note[1]}; {weeks_en}; {adherence_en} → {verdict_en}.",
        ))
    else:
        adequate = None

    band = _response_band(trial, settings)
    intolerance = trial.outcome == "intolerance" or trial.stop_reason == "intolerance"
    adequacy_ok = adequate is not False  # non-drug trials are not rated for adequacy
    eu_failure = _below(trial, settings.eu_pearl_failure_below_pct)
    has_failure = _below(trial, settings.has_failure_below_pct)
    chosen = has_failure if settings.failure_definition == "has" else eu_failure
    treatment_failure = adequacy_ok and chosen is True
    if chosen is None and adequacy_ok and trial.outcome == "partial_25_49":
        needs_review = True

    is_ad = trial.modality == "antidepressant"
    failure_eu = is_ad and bool(adequate) and eu_failure is True
    failure_has = is_ad and bool(adequate) and has_failure is True

    if intolerance and is_ad and not failure_eu and not failure_has:
        weeks = trial.weeks_at_adequate_dose
        early = weeks is None or weeks < settings.min_weeks
        when_fr = f"avant {settings.min_weeks} semaines à dose efficace" if early else "sans échec démontré"
        when_en = f"before {settings.min_weeks} weeks at an adequate dose" if early else "without a proven failure"
        notes.append(Explanation(
            "R-STG-02", SRC_INTOLERANCE,
            f"{name} : arrêt pour intolérance {when_fr} : ce n'est pas un échec thérapeutique, l'intolérance est "
            "comptée à part.",
            f"{name}: stopped for intolerance {when_en}: not a treatment failure; counted as an intolerance.",
        ))
    if is_ad:
        notes.append(_failure_note(name, bool(adequate), band, failure_eu, failure_has, has_failure, settings))
    elif trial.modality in ("augmentation", "psychotherapy"):
        kind_fr = "potentialisation" if trial.modality == "augmentation" else "psychothérapie"
        outcome_fr = "réponse insuffisante" if treatment_failure else "pas d'échec retenu"
        outcome_en = "insufficient response" if treatment_failure else "no failure recorded"
        if trial.modality == "augmentation":
            used_fr = "compté pour les critères MTR-MDD et la dimension « potentialisation » du score de Maudsley"
            used_en = "counted for the MTR-MDD criteria and the Maudsley augmentation dimension"
        else:
            used_fr, used_en = "compté pour les critères MTR-MDD", "counted for the MTR-MDD criteria"
        notes.append(Explanation(
            "R-STG-05", SRC_NON_AD,
            f"{name} ({kind_fr}) : enregistré mais jamais compté comme échec d'antidépresseur ; {outcome_fr} "
            f"({used_fr}).",
            f"{name} ({trial.modality}): stored but never an antidepressant failure; {outcome_en} ({used_en}).",
        ))
    if not in_episode:
        notes.append(Explanation(
            "R-STG-01", SRC_DEFINITIONS,
            f"{name} : essai d'un épisode antérieur, non compté pour l'épisode actuel.",
            f"{name}: trial from an earlier episode, not counted for the current episode.",
        ))
    return TrialAssessment(
        index=index,
        agent=name,
        modality=trial.modality,
        pharm_class=trial.pharm_class,
        in_current_episode=in_episode,
        adequate=adequate,
        dose_check=dose_check,
        response_band=band,
        failure_eu_pearl=failure_eu,
        failure_has=failure_has,
        intolerance=intolerance,
        treatment_failure=treatment_failure,
        explanations=tuple(notes),
        needs_review=needs_review,
    )


_ADHERENCE_FR = {"good": "bonne", "partial": "partielle", "poor": "mauvaise", "unknown": "non renseignée"}


def _dose_check(trial: TreatmentTrial, settings: StagingSettings) -> tuple[DoseCheck, tuple[str, str]]:
    if trial.dose_confirmed_adequate is not None:
        if trial.dose_confirmed_adequate:
            return "confirmed_by_clinician", (
                "dose jugée efficace par le médecin", "dose confirmed adequate by the physician"
            )
        return "below_minimum", ("dose jugée insuffisante par le médecin", "dose judged insufficient by the physician")
    row = settings.molecule(trial.agent)
    if row is None:
        return "unknown_molecule", (
            "molécule absente de la table des doses minimales : dose à confirmer par le médecin",
            "molecule not in the minimal-dose table: the physician must confirm the dose",
        )
    if trial.max_daily_dose is None:
        return "dose_missing", ("dose maximale non renseignée", "maximal daily dose missing")
    if (trial.unit or "").strip().lower() != row.unit.strip().lower():
        return "unit_mismatch", (
            f"unité {trial.unit or '?'} différente de celle de la table ({row.unit}) : dose à confirmer",
            f"unit {trial.unit or '?'} differs from the table ({row.unit}): confirm the dose",
        )
    caveat_fr, caveat_en = _caveat_fr(row.confidence), _caveat_en(row.confidence)
    dose, minimum = _num_fr(trial.max_daily_dose), _num_fr(row.min_effective_dose)
    dose_en, minimum_en = _num_en(trial.max_daily_dose), _num_en(row.min_effective_dose)
    if trial.max_daily_dose >= row.min_effective_dose:
        return "met", (
            f"dose {dose} {row.unit} ≥ dose minimale efficace {minimum} {row.unit}{caveat_fr}",
            f"dose {dose_en} {row.unit} ≥ minimal effective dose {minimum_en} {row.unit}{caveat_en}",
        )
    return "below_minimum", (
        f"dose {dose} {row.unit} < dose minimale efficace {minimum} {row.unit}{caveat_fr}",
        f"dose {dose_en} {row.unit} < minimal effective dose {minimum_en} {row.unit}{caveat_en}",
    )


def _weeks(trial: TreatmentTrial, settings: StagingSettings) -> tuple[bool, str, str]:
    weeks = trial.weeks_at_adequate_dose
    minimum = settings.min_weeks
    if weeks is None:
        return False, "durée à dose efficace non renseignée", "duration at adequate dose missing"
    ok = weeks >= minimum
    sign = "≥" if ok else "<"
    return (
        ok,
        f"{_num_fr(weeks)} semaine{'s' if weeks > 1 else ''} à dose efficace {sign} {minimum}",
        f"{_num_en(weeks)} week{'s' if weeks != 1 else ''} at adequate dose {sign} {minimum}",
    )


def _below(trial: TreatmentTrial, threshold_pct: int) -> bool | None:
    """Whether the improvement was below ``threshold_pct``; None when it cannot be told."""
    if trial.outcome == "remission":
        return False
    if trial.improvement_pct is not None:
        return Fraction(trial.improvement_pct) < threshold_pct
    interval = _OUTCOME_INTERVAL.get(trial.outcome)
    if interval is None:
        return None  # intolerance or unknown without a figure: not evaluable
    low, high = interval
    if high is not None and high <= threshold_pct:
        return True
    if low is not None and low >= threshold_pct:
        return False
    return None


def _response_band(trial: TreatmentTrial, settings: StagingSettings) -> ResponseBand:
    if trial.outcome == "remission":
        return "remission"
    if trial.improvement_pct is not None:
        value = Fraction(trial.improvement_pct)
        if value >= settings.response_pct:
            return "response"
        return "partial" if value >= settings.eu_pearl_failure_below_pct else "non_response"
    return _OUTCOME_BAND.get(trial.outcome, "not_evaluable")


_OUTCOME_BAND: dict[str, ResponseBand] = {
    "non_response_lt25": "non_response", "partial_25_49": "partial", "response_ge50": "response",
}


def _failure_note(
    name: str, adequate: bool, band: ResponseBand, failure_eu: bool, failure_has: bool,
    has_known: bool | None, settings: StagingSettings,
) -> Explanation:
    if not adequate:
        return Explanation(
            "R-STG-03", f"{SRC_EU_PEARL}; {SRC_HAS}",
            f"{name} : essai non adéquat, donc ni échec EU-PEARL ni échec HAS.",
            f"{name}: not an adequate trial, so neither an EU-PEARL nor a HAS failure.",
        )
    band_fr = {"remission": "rémission", "response": "réponse (≥ 50 %)", "partial": "réponse partielle (25–49 %)",
               "non_response": "non-réponse (< 25 %)", "not_evaluable": "amélioration non évaluable"}[band]
    band_en = {"remission": "remission", "response": "response (≥ 50 %)", "partial": "partial response (25–49 %)",
               "non_response": "non-response (< 25 %)", "not_evaluable": "improvement not evaluable"}[band]
    has_conf = settings.confidence("stg.has_failure_below_pct")
    eu_fr = "échec EU-PEARL" if failure_eu else "pas d'échec EU-PEARL"
    eu_en = "EU-PEARL failure" if failure_eu else "no EU-PEARL failure"
    if has_known is None and band == "partial":
        has_fr = f"échec HAS indéterminé (seuil {settings.has_failure_below_pct} % dans l'intervalle 25–49 %)"
        has_en = f"HAS failure undetermined (threshold {settings.has_failure_below_pct} % inside 25–49 %)"
    else:
        has_fr = ("échec HAS" if failure_has else "pas d'échec HAS") + (
            f" (réponse insuffisante : < {settings.has_failure_below_pct} %{_inner_fr(has_conf)})"
        )
        has_en = ("HAS failure" if failure_has else "no HAS failure") + (
            f" (insufficient response: < {settings.has_failure_below_pct} %{_inner_en(has_conf)})"
        )
    return Explanation(
        "R-STG-03", f"{SRC_EU_PEARL}; {SRC_HAS}",
        f"{name} : essai adéquat, {band_fr} → {eu_fr} (< {settings.eu_pearl_failure_below_pct} %) ; {has_fr}.",
        f"{name}: adequate trial, {band_en} → {eu_en} (< {settings.eu_pearl_failure_below_pct} %); {has_en}.",
    )


# -- §5.4 Maudsley Staging Method -------------------------------------------------------------


def episode_duration_months(start: date, on: date) -> tuple[int, bool]:
    """Completed calendar months from ``start`` to ``on``, and whether days remain beyond them."""
    if on < start:
        raise ValueError("the staging date is before the episode start")
    months = (on.year - start.year) * 12 + on.month - start.month
    if _add_months(start, months) > on:
        months -= 1
    return months, _add_months(start, months) < on


def _add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def _category(categories: Sequence[MsmCategory], value: int) -> MsmCategory:
    for category in categories:
        if category.max is None or value <= category.max:
            return category
    raise LookupError(value)  # pragma: no cover - the loader checks the last category is open


def maudsley_staging(
    *,
    duration_months: int,
    duration_extra_days: bool,
    severity: MsmSeverity,
    antidepressant_failures: int,
    augmentation_used: bool,
    ect_used: bool,
    settings: StagingSettings,
) -> MsmResult:
    """MSM total and band, each dimension's points explained (§5.4).

    ``duration_extra_days``: the episode lasted ``duration_months`` completed months *and some
    days*, so "≤ 12 months" no longer holds at exactly 12 completed months. With 0 antidepressant
    failures MSM does not apply: ``total`` is None, never 0 (§5.4 edge rule).
    """
    table = settings.msm
    months_for_category = duration_months + (1 if duration_extra_days else 0)
    duration = _category(table.duration_months, months_for_category)
    beyond_fr = " et quelques jours" if duration_extra_days else ""
    beyond_en = " and some days" if duration_extra_days else ""
    severity_points = table.severity[severity]
    severity_fr = _SEVERITY_FR[severity]
    dims = [
        MsmDimension(
            "duration", duration.label_en, duration.points,
            f"Durée de l'épisode actuel : {duration_months} mois révolus{beyond_fr} ({duration.label_fr}) "
            f"= {duration.points} point{'s' if duration.points > 1 else ''}.",
            f"Current episode duration: {duration_months} completed months{beyond_en} ({duration.label_en}) "
            f"= {duration.points} point{'s' if duration.points > 1 else ''}.",
        ),
        MsmDimension(
            "severity", severity, severity_points,
            f"Sévérité à l'entrée : {severity_fr} = {severity_points} point{'s' if severity_points > 1 else ''}.",
            f"Severity at entry: {severity.replace('_', ' ')} = {severity_points} "
            f"point{'s' if severity_points > 1 else ''}.",
        ),
    ]
    if antidepressant_failures >= 1:
        failures = _category(table.antidepressant_failures, antidepressant_failures)
        dims.append(MsmDimension(
            "antidepressant_failures", failures.label_en, failures.points,
            f"Échecs d'antidépresseurs dans l'épisode : {antidepressant_failures} ({failures.label_fr}) "
            f"= {failures.points} point{'s' if failures.points > 1 else ''}.",
            f"Antidepressant failures in the episode: {antidepressant_failures} ({failures.label_en}) "
            f"= {failures.points} point{'s' if failures.points > 1 else ''}.",
        ))
    else:
        dims.append(MsmDimension(
            "antidepressant_failures", "0", 0,
            "Aucun échec d'antidépresseur adéquat dans l'épisode.",
            "No adequate antidepressant failure in the episode.",
        ))
    aug_points = table.augmentation_used if augmentation_used else 0
    ect_points = table.ect_used if ect_used else 0
    dims.append(MsmDimension(
        "augmentation", "used" if augmentation_used else "not_used", aug_points,
        f"Potentialisation : {'utilisée' if augmentation_used else 'non utilisée'} = {aug_points} point"
        f"{'s' if aug_points > 1 else ''}.",
        f"Augmentation: {'used' if augmentation_used else 'not used'} = {aug_points} "
        f"point{'s' if aug_points != 1 else ''}.",
    ))
    dims.append(MsmDimension(
        "ect", "used" if ect_used else "not_used", ect_points,
        f"ECT (électroconvulsivothérapie) : {'utilisée' if ect_used else 'non utilisée'} = {ect_points} point"
        f"{'s' if ect_points > 1 else ''}.",
        f"ECT: {'used' if ect_used else 'not used'} = {ect_points} point{'s' if ect_points != 1 else ''}.",
    ))
    if antidepressant_failures < 1:
        return MsmResult(
            total=None, band=None, dimensions=tuple(dims),
            explanation=Explanation(
                "MSM", SRC_MSM,
                "Stade de Maudsley non applicable : aucun échec d'antidépresseur adéquat dans l'épisode actuel "
                "(la méthode suppose au moins un échec ; le score n'est pas 0 mais non calculé).",
                "Maudsley staging not applicable: no adequate antidepressant failure in the current episode "
                "(the method presupposes at least one failure; the score is not 0 but not computed).",
            ),
        )
    total = sum(d.points for d in dims)
    band = next(b for b in table.bands if b.min <= total <= b.max)
    detail = " + ".join(str(d.points) for d in dims)
    cutoff = settings.msm_trd_cutoff
    return MsmResult(
        total=total,
        band=band.code,
        dimensions=tuple(dims),
        explanation=Explanation(
            "MSM", SRC_MSM,
            f"Score de Maudsley = {detail} = {total}, résistance {band.label_fr} ({band.min}–{band.max}).",
            f"Maudsley score = {detail} = {total}, {band.label_en} resistance ({band.min}–{band.max}).",
        ),
        above_trd_cutoff=Decimal(total) > cutoff,
    )


_SEVERITY_FR = {
    "subsyndromal": "subsyndromique", "mild": "légère", "moderate": "modérée",
    "severe_without_psychosis": "sévère sans caractéristiques psychotiques",
    "severe_with_psychosis": "sévère avec caractéristiques psychotiques",
}


# -- §5.5 Thase–Rush --------------------------------------------------------------------------


def thase_rush_stage(failed_classes: Iterable[str], bilateral_ect_failed: bool) -> ThaseRushResult:
    """Highest stage whose prerequisites are all met, in any order (§5.5, THASE97).

    Each stage needs its own trials: stage III needs two classes other than the TCA plus the TCA;
    stage IV needs two classes other than TCA and MAOI plus both; stage V adds a failed course of
    *bilateral* ECT to stage IV.
    """
    classes = set(failed_classes)
    others = classes - {"tca", "maoi"}
    stage: ThaseRushStage = 0
    if classes:
        stage = 1
    if len(classes) >= 2:
        stage = 2
    if "tca" in classes and len(classes - {"tca"}) >= 2:
        stage = 3
    if {"tca", "maoi"} <= classes and len(others) >= 2:
        stage = 4
        if bilateral_ect_failed:
            stage = 5
    ordered = tuple(sorted(classes))
    listed_fr = ", ".join(_CLASS_FR.get(c, c) for c in ordered) or "aucune"
    listed_en = ", ".join(_CLASS_EN.get(c, c) for c in ordered) or "none"
    why_fr, why_en = _THASE_WHY[stage]
    if stage < 5 and bilateral_ect_failed:
        why_fr += " Un échec d'ECT bilatérale ne compte qu'à partir du stade IV."
        why_en += " A failed bilateral ECT course counts only on top of stage IV."
    return ThaseRushResult(
        stage=stage,
        label=_ROMAN[stage],
        failed_classes=ordered,
        explanation=Explanation(
            "THASE-RUSH", SRC_THASE,
            f"Stade de Thase et Rush {_ROMAN[stage]} : classes en échec adéquat : {listed_fr}. {why_fr} "
            "Le stade est le plus élevé dont toutes les conditions sont remplies, quel que soit l'ordre des essais.",
            f"Thase–Rush stage {_ROMAN[stage]}: classes with an adequate failure: {listed_en}. {why_en} "
            "The stage is the highest whose conditions are all met, whatever the order of the trials.",
        ),
    )


_THASE_WHY: dict[int, tuple[str, str]] = {
    0: ("Aucun échec adéquat.", "No adequate failure."),
    1: ("Échec d'au moins une classe majeure.", "Failure of at least one major class."),
    2: ("Échec de deux classes distinctes ; pas d'échec adéquat d'un imipraminique en plus.",
        "Failure of two distinct classes; no additional adequate TCA failure."),
    3: ("Deux classes distinctes plus un imipraminique (tricyclique) ; pas d'IMAO en plus.",
        "Two distinct classes plus a TCA; no additional MAOI."),
    4: ("Deux classes distinctes plus un imipraminique et un IMAO ; pas d'échec d'ECT bilatérale.",
        "Two distinct classes plus a TCA and an MAOI; no failed bilateral ECT course."),
    5: ("Stade IV plus échec d'une cure d'ECT bilatérale.", "Stage IV plus a failed course of bilateral ECT."),
}


# -- R-STG-06 ---------------------------------------------------------------------------------


def pseudo_resistance_checklist(
    answers: Mapping[str, bool], settings: StagingSettings
) -> PseudoResistanceChecklist:
    """R-STG-06: shown before resistance is labelled. Unanswered items stay ``None``."""
    unknown = sorted(set(answers) - {item.code for item in settings.pseudo_resistance})
    if unknown:
        raise ValidationFailed([FieldError(f"pseudo_resistance.{code}", "unknown checklist item") for code in unknown])
    items = tuple(
        ChecklistItemState(item.code, item.label_fr, item.label_en, answers.get(item.code))
        for item in settings.pseudo_resistance
    )
    complete = all(item.present is not None for item in items)
    present = [item for item in items if item.present]
    if present:
        text_fr = ("Pseudo-résistance possible à examiner avant de retenir une résistance : "
                   + ", ".join(_lower_first(i.label_fr) for i in present) + ".")
        text_en = ("Possible pseudo-resistance to review before labelling resistance: "
                   + ", ".join(_lower_first(i.label_en) for i in present) + ".")
    elif complete:
        text_fr = "Liste de pseudo-résistance complétée : aucun élément retenu."
        text_en = "Pseudo-resistance checklist completed: nothing found."
    else:
        missing = sum(1 for i in items if i.present is None)
        text_fr = (f"Avant de retenir une résistance, compléter la liste de pseudo-résistance "
                   f"({_plural_fr(missing, 'élément')} non renseigné{'s' if missing > 1 else ''}).")
        text_en = f"Before labelling resistance, complete the pseudo-resistance checklist ({missing} item(s) open)."
    return PseudoResistanceChecklist(
        items=items, complete=complete, any_present=bool(present),
        explanation=Explanation("R-STG-06", SRC_CHECKLIST, text_fr, text_en),
    )


# -- §5.3 definitions and the whole staging ---------------------------------------------------


def stage(data: StagingInput, staged_on: date, settings: StagingSettings) -> StagingResult:
    """Stage the current episode on ``staged_on``. Invalid input raises ``ValidationFailed``."""
    _validate(data, staged_on, settings)
    trials = tuple(
        assess_trial(trial, settings, current_episode_id=data.current_episode_id, index=i)
        for i, trial in enumerate(data.trials)
    )
    current = [(t, a) for t, a in zip(data.trials, trials, strict=True) if a.in_current_episode]
    ad = [(t, a) for t, a in current if t.modality == "antidepressant"]

    has_agents = _agents(t for t, a in ad if a.failure_has)
    eu_agents = _agents(t for t, a in ad if a.failure_eu_pearl)
    failed_agents = _agents(t for t, a in ad if a.treatment_failure)
    failed_classes: set[str] = {t.pharm_class for t, a in ad if a.treatment_failure and t.pharm_class is not None}
    has_classes: set[str] = {t.pharm_class for t, a in ad if a.failure_has and t.pharm_class is not None}
    aug_failures = _agents(t for t, a in current if t.modality == "augmentation" and a.treatment_failure)
    aug_eu_failures = _agents(
        t for t, a in current
        if t.modality == "augmentation" and a.adequate and _below(t, settings.eu_pearl_failure_below_pct) is True
    )
    psy_failures = [
        t for t, a in current
        if t.modality == "psychotherapy" and a.treatment_failure and _evidence_based(t, settings)
    ]
    partial_trials = [
        t for t, a in ad
        if a.adequate and _below(t, settings.eu_pearl_failure_below_pct) is False
        and _below(t, settings.response_pct) is True
    ]
    intolerance_count = sum(1 for _, a in ad if a.intolerance and not a.failure_has and not a.failure_eu_pearl)
    bipolar = data.diagnosis != "unipolar"

    flags = _definitions(
        settings=settings, bipolar=bipolar, dtd=data.dtd, has_agents=has_agents, has_classes=has_classes,
        eu_agents=eu_agents, aug_eu_failures=aug_eu_failures, partial_count=len(partial_trials),
        failed_agents=failed_agents, aug_failures=aug_failures, psy_failures=len(psy_failures),
    )
    by_code = {flag.code: flag for flag in flags}
    trd = bool(by_code["trd_fr_classes" if settings.require_different_classes else "trd_has"].value)

    months, extra = _duration(data, staged_on)
    msm = maudsley_staging(
        duration_months=months,
        duration_extra_days=extra,
        severity=data.severity,
        antidepressant_failures=len(failed_agents),
        augmentation_used=any(t.modality == "augmentation" for t, _ in current),
        ect_used=any(t.modality == "ect" for t, _ in current),
        settings=settings,
    )
    bilateral_ect_failed = any(
        t.modality == "ect" and t.ect_laterality == "bilateral" and a.treatment_failure for t, a in current
    )
    thase = thase_rush_stage(failed_classes, bilateral_ect_failed)
    high = _high_resistance(settings, by_code["mtr_mdd"], msm)
    checklist = pseudo_resistance_checklist(data.pseudo_resistance, settings)

    notes = [
        Explanation(
            "R-STG-02", SRC_INTOLERANCE,
            f"{_plural_fr(intolerance_count, 'intolérance')} à un antidépresseur dans l'épisode "
            f"(non comptée{'s' if intolerance_count > 1 else ''} comme échec).",
            f"{intolerance_count} antidepressant intolerance(s) in the episode (not counted as failures).",
        ),
        checklist.explanation,
    ]
    if high.value and 1 <= len(failed_agents) <= 2:
        notes.append(Explanation(
            "R-TRI-07", "domain-rtms §2.4 R-TRI-07, R-TRI-08; §5.6",
            f"Avec {_plural_fr(len(failed_agents), 'échec')} d'antidépresseur, la règle R-TRI-07 parlerait de "
            "faible résistance alors que les critères de haute résistance sont remplis : les deux lectures sont "
            "affichées côte à côte, le médecin décide.",
            f"With {len(failed_agents)} antidepressant failure(s), R-TRI-07 would call this low resistance while "
            "the high-resistance criteria are met: both views are shown side by side and the physician decides.",
        ))
    return StagingResult(
        ruleset_version=settings.version,
        trials=trials,
        antidepressant_failures_has=len(has_agents),
        antidepressant_failures_eu_pearl=len(eu_agents),
        intolerance_count=intolerance_count,
        flags=flags,
        trd=trd,
        msm=msm,
        thase_rush=thase,
        high_resistance=high,
        checklist=checklist,
        explanations=tuple(notes),
    )


def _agents(trials: Iterable[TreatmentTrial]) -> set[str]:
    """Distinct molecules: the same drug tried twice counts once."""
    return {fold(t.agent) for t in trials}


def _evidence_based(trial: TreatmentTrial, settings: StagingSettings) -> bool:
    """Psychotherapy type matched on the words of ``agent``: "CBT (TCC)" → {cbt, tcc}."""
    folded = fold(trial.agent)
    words = "".join(ch if ch.isalnum() else " " for ch in folded).split()
    candidates = {*words, "_".join(words)}
    return bool(candidates & {fold(name) for name in settings.evidence_based_psychotherapies})


def _duration(data: StagingInput, staged_on: date) -> tuple[int, bool]:
    if data.episode_start is not None:
        return episode_duration_months(data.episode_start, staged_on)
    assert data.episode_months is not None  # checked by _validate
    return data.episode_months, False


def _validate(data: StagingInput, staged_on: date, settings: StagingSettings) -> None:
    errors: list[FieldError] = []
    if data.episode_start is None and data.episode_months is None:
        errors.append(FieldError("episode_start", "episode_start or episode_months is required"))
    if data.episode_start is not None and data.episode_start > staged_on:
        errors.append(FieldError("episode_start", "the episode cannot start after the staging date"))
    if data.episode_months is not None and data.episode_months < 0:
        errors.append(FieldError("episode_months", "must be ≥ 0"))
    known = {item.code for item in settings.pseudo_resistance}
    errors += [FieldError(f"pseudo_resistance.{code}", "unknown checklist item")
               for code in sorted(set(data.pseudo_resistance) - known)]
    for i, trial in enumerate(data.trials):
        where = f"trials[{i}]"
        for name in ("max_daily_dose", "weeks_at_adequate_dose"):
            value = getattr(trial, name)
            if value is not None and value < 0:
                errors.append(FieldError(f"{where}.{name}", "must be ≥ 0"))
        if trial.sessions is not None and trial.sessions < 0:
            errors.append(FieldError(f"{where}.sessions", "must be ≥ 0"))
        if trial.improvement_pct is not None and trial.improvement_pct > 100:
            errors.append(FieldError(f"{where}.improvement_pct", "must be ≤ 100"))
        if trial.start_date and trial.end_date and trial.end_date < trial.start_date:
            errors.append(FieldError(f"{where}.end_date", "must not be before start_date"))
        if not trial.agent.strip():
            errors.append(FieldError(f"{where}.agent", "must not be empty"))
    if errors:
        raise ValidationFailed(errors)


def _flag(
    code: str, value: bool | None, confidence: Confidence, rule: str, source: str, text_fr: str, text_en: str
) -> DefinitionFlag:
    return DefinitionFlag(code, value, confidence, Explanation(rule, source, text_fr, text_en))  # type: ignore[arg-type]


def _yes_fr(value: bool) -> str:
    return "oui" if value else "non"


def _definitions(
    *, settings: StagingSettings, bipolar: bool, dtd: bool | None, has_agents: set[str], has_classes: set[str],
    eu_agents: set[str], aug_eu_failures: set[str], partial_count: int, failed_agents: set[str],
    aug_failures: set[str], psy_failures: int,
) -> tuple[DefinitionFlag, ...]:
    n_has = len(has_agents)
    trd_has = n_has >= 2
    trd_classes = trd_has and len(has_classes) >= 2
    eu_count = len(eu_agents) + (len(aug_eu_failures) if settings.eu_pearl_counts_augmentation else 0)
    trd_eu = not bipolar and eu_count >= 2
    prd = not bipolar and partial_count >= settings.prd_min_partial_trials
    mtr = (
        len(failed_agents) >= settings.mtr_min_antidepressant_failures
        and len(aug_failures) >= settings.mtr_min_augmentation_failures
        and psy_failures >= settings.mtr_min_psychotherapy_failures
    )
    n_failed = len(failed_agents)
    bipolar_trd = bipolar and n_failed >= settings.bipolar_trd_min_failures
    worst = _worst(settings, "mtr.min_antidepressant_failures", "mtr.min_augmentation_failures",
                   "mtr.min_psychotherapy_failures", "stg.failure_definition")
    aug_note_fr = (" (potentialisations comptées, réglage à vérifier)" if settings.eu_pearl_counts_augmentation
                   else "")
    return (
        _flag(
            "trd_has", trd_has, "verified", "TRD-HAS", f"{SRC_DEFINITIONS} trd_has (HAS-TRD)",
            f"Dépression résistante (HAS) : {_yes_fr(trd_has)} ; {_plural_fr(n_has, 'essai')} adéquat"
            f"{'s' if n_has > 1 else ''} d'antidépresseur en échec dans l'épisode (il en faut au moins 2). "
            "La résistance se distingue de la sévérité et de la chronicité.",
            f"Treatment-resistant depression (HAS): {'yes' if trd_has else 'no'}; {n_has} failed adequate "
            "antidepressant trial(s) in the episode (at least 2 needed). Resistance is distinct from severity "
            "and chronicity.",
        ),
        _flag(
            "trd_fr_classes", trd_classes, settings.confidence("stg.require_different_classes"), "TRD-FR-CLASSES",
            f"{SRC_DEFINITIONS} trd_fr_classes (ENCEPHALE21)",
            f"Option « deux classes différentes » : {_yes_fr(trd_classes)} ({len(has_classes)} classe"
            f"{'s' if len(has_classes) > 1 else ''} pharmacologique{'s' if len(has_classes) > 1 else ''} en "
            "échec). Définition en conflit avec la HAS, qui n'exige pas de classes différentes.",
            f"'Two different classes' option: {'yes' if trd_classes else 'no'} ({len(has_classes)} failed "
            "pharmacological class(es)). In conflict with HAS, which requires no class difference.",
        ),
        _flag(
            "trd_eu_pearl", trd_eu, "verified", "TRD-EU-PEARL", f"{SRC_DEFINITIONS} trd_eu_pearl (SFORZINI22)",
            ("Définition EU-PEARL réservée au trouble dépressif caractérisé (pas au trouble bipolaire) : non."
             if bipolar else
             f"Dépression résistante (EU-PEARL) : {_yes_fr(trd_eu)} ; {_plural_fr(eu_count, 'échec')} "
             f"(amélioration < {settings.eu_pearl_failure_below_pct} %) dans l'épisode{aug_note_fr}, "
             "il en faut au moins 2."),
            ("EU-PEARL definition applies to major depressive disorder only (not bipolar): no." if bipolar else
             f"Treatment-resistant depression (EU-PEARL): {'yes' if trd_eu else 'no'}; {eu_count} failure(s) "
             f"(improvement < {settings.eu_pearl_failure_below_pct} %) in the episode, at least 2 needed."),
        ),
        _flag(
            "prd_eu_pearl", prd, settings.confidence("stg.prd_min_partial_trials"), "PRD-EU-PEARL",
            f"{SRC_DEFINITIONS} prd_eu_pearl (SFORZINI22)",
            ("Réponse partielle (EU-PEARL) : non applicable au trouble bipolaire." if bipolar else
             f"Dépression partiellement répondante (EU-PEARL) : {_yes_fr(prd)} ; {partial_count} essai(s) "
             f"adéquat(s) avec réponse partielle ({settings.eu_pearl_failure_below_pct}–{settings.response_pct - 1}"
             " %). Règle de combinaison à vérifier."),
            ("Partial response (EU-PEARL): not applicable to bipolar disorder." if bipolar else
             f"Partially responsive depression (EU-PEARL): {'yes' if prd else 'no'}; {partial_count} adequate "
             f"trial(s) with partial response. Combination rule to verify."),
        ),
        _flag(
            "mtr_mdd", mtr, worst, "MTR-MDD", f"{SRC_DEFINITIONS} mtr_mdd (MCAW18)",
            f"Résistance multiple (MTR-MDD) : {_yes_fr(mtr)} ; {n_failed} échec(s) d'antidépresseur (≥ "
            f"{settings.mtr_min_antidepressant_failures}), {len(aug_failures)} échec(s) de potentialisation (≥ "
            f"{settings.mtr_min_augmentation_failures}), {psy_failures} échec(s) de psychothérapie validée (≥ "
            f"{settings.mtr_min_psychotherapy_failures}). Critères exacts à vérifier.",
            f"Multiple-therapy-resistant MDD: {'yes' if mtr else 'no'}; {n_failed} antidepressant failure(s) (≥ "
            f"{settings.mtr_min_antidepressant_failures}), {len(aug_failures)} augmentation failure(s) (≥ "
            f"{settings.mtr_min_augmentation_failures}), {psy_failures} evidence-based psychotherapy failure(s) "
            f"(≥ {settings.mtr_min_psychotherapy_failures}). Exact criteria to verify.",
        ),
        _flag(
            "dtd", dtd, "verified", "DTD", f"{SRC_DEFINITIONS} dtd (MCAW20)",
            "Dépression difficile à traiter : étiquette attribuée par le clinicien (fardeau persistant malgré "
            "les efforts habituels, approche multidimensionnelle), jamais calculée"
            + (f" ; attribuée : {_yes_fr(dtd)}." if dtd is not None else " ; non renseignée."),
            "Difficult-to-treat depression: a clinician-assigned label (ongoing burden despite usual efforts, "
            "multidimensional), never computed" + (f"; assigned: {'yes' if dtd else 'no'}." if dtd is not None
                                                   else "; not assigned."),
        ),
        _flag(
            "bipolar_trd", bipolar_trd, "verified", "BIPOLAR-TRD", f"{SRC_DEFINITIONS} bipolar_trd (GAYNES20)",
            (f"Dépression bipolaire résistante (définition la plus courante : ≥ "
             f"{settings.bipolar_trd_min_failures} échec) : {_yes_fr(bipolar_trd)} ; {n_failed} échec(s)."
             if bipolar else "Dépression bipolaire résistante : non applicable (trouble unipolaire)."),
            (f"Bipolar treatment-resistant depression (most common definition: ≥ "
             f"{settings.bipolar_trd_min_failures} failure): {'yes' if bipolar_trd else 'no'}; {n_failed} "
             "failure(s)." if bipolar else "Bipolar treatment-resistant depression: not applicable (unipolar)."),
        ),
    )


_RANK: dict[Confidence, int] = {"verified": 0, "design": 1, "conflict": 2, "to_verify": 3}


def _worst(settings: StagingSettings, *keys: str) -> Confidence:
    return max((settings.confidence(key) for key in keys), key=lambda c: _RANK[c])


def _high_resistance(settings: StagingSettings, mtr: DefinitionFlag, msm: MsmResult) -> HighResistance:
    confidence = settings.confidence("stg.high_resistance_definition")
    if settings.high_resistance_definition == "mtr_mdd":
        value = bool(mtr.value)
        return HighResistance(value, "mtr_mdd", confidence, Explanation(
            "R-TRI-08", SRC_HIGH,
            f"Haute résistance (définition retenue : critères MTR-MDD{_inner_fr(confidence)}) : {_yes_fr(value)}."
            + (" Discuter l'ECT : l'efficacité de la rTMS est moindre et moins durable ; elle ne doit pas "
               "retarder une option mieux adaptée." if value else ""),
            f"High resistance (definition used: MTR-MDD criteria{_inner_en(confidence)}): {'yes' if value else 'no'}."
            + (" Discuss ECT: rTMS efficacy is lower and less durable; it must not delay a better-suited option."
               if value else ""),
        ))
    minimum = settings.high_resistance_msm_min
    value = msm.total is not None and msm.total >= minimum
    total_fr = "non applicable" if msm.total is None else str(msm.total)
    return HighResistance(value, "msm", confidence, Explanation(
        "R-TRI-08", SRC_HIGH,
        f"Haute résistance (définition retenue : score de Maudsley ≥ {minimum}{_inner_fr(confidence)}) : "
        f"score {total_fr} → "
        f"{_yes_fr(value)}." + (" Discuter l'ECT." if value else ""),
        f"High resistance (definition used: Maudsley score ≥ {minimum}{_inner_en(confidence)}): score "
        f"{'not applicable' if msm.total is None else msm.total} → {'yes' if value else 'no'}."
        + (" Discuss ECT." if value else ""),
    ))
