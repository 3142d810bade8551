"""Measurement-based care rules (domain-rtms §10): pure, no I/O, no clock.

Every improvement is computed against the **course** baseline (R-MBC-01) as an exact fraction
(§0.3 principle 5); percentages are rounded only for display. Thresholds come from
:class:`MbcSettings` (``catalogue/mbc_settings.yaml``), remission cut-offs from the scale
catalogue. Rules produce prompts for the physician, never automatic actions (§0.3 principle 1).

Public functions, by rule:

- R-MBC-01 ``course_baseline``
- R-MBC-02/04 ``course_status``; R-MBC-03 ``early_checkpoint`` (wraps ``rules.checkpoint``)
- R-MBC-05 ``end_of_course``
- R-MBC-06 ``extension_prompt``; R-MBC-07 ``non_response_prompt``; R-MBC-08 ``residual_symptoms_prompt``
- R-MBC-09 ``maintenance_offer``; R-MBC-10 ``detect_relapse``; R-MBC-11/12 ``retreatment_suggestion``
- R-MBC-13 ``ymrs_check``; R-MBC-14 ``combination_information_cards``; R-MBC-15 ``post_ect_offer``
- §10.1 ``assessment_schedule`` (R-SCH-11)
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, Protocol

from rtms_pathway.model.mbc import (
    Assessment,
    AssessmentDue,
    BaselineResult,
    Divergence,
    EndOfCourseResult,
    MaintenancePlanKind,
    MbcSettings,
    Prompt,
    RelapseCheck,
    RelapseCriterion,
    ScaleMeasure,
    ScaleStatus,
    TimePoint,
    YmrsCheck,
)
from rtms_pathway.model.staging import Confidence, Explanation
from rtms_pathway.rules.checkpoint import CheckpointDecision, CheckpointThresholds, early_improvement_checkpoint
from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.progress import ProgressStatus, ProgressThresholds, classify_progress, percent_one_decimal
from shared_core.rules.scoring import find_band

if TYPE_CHECKING:
    # Type-only: importing shared_core.scales at runtime would load its YAML loader.
    from shared_core.scales.model import Band, ScaleDefinition

__all__ = [
    "ScaleLookup",
    "add_months",
    "assessment_schedule",
    "combination_information_cards",
    "course_baseline",
    "course_status",
    "detect_relapse",
    "early_checkpoint",
    "end_of_course",
    "extension_prompt",
    "maintenance_offer",
    "non_response_prompt",
    "post_ect_offer",
    "residual_symptoms_prompt",
    "retreatment_suggestion",
    "switch_suggestions",
    "ymrs_check",
]

SRC = "domain-rtms §10.2"
_RESPONDED: tuple[ProgressStatus, ...] = ("response", "remission")
_STATUS_FR: dict[str, str] = {
    "remission": "rémission", "response": "réponse", "partial_response": "réponse partielle",
    "non_response": "non-réponse", "worsening": "aggravation", "not_evaluable": "non évaluable",
}
_STATUS_EN: dict[str, str] = {
    "remission": "remission", "response": "response", "partial_response": "partial response",
    "non_response": "non-response", "worsening": "worsening", "not_evaluable": "not evaluable",
}


class ScaleLookup(Protocol):
    """What the rules need of a scale catalogue (``shared_core.scales.ScaleCatalogue`` fits)."""

    def get(self, code: str) -> ScaleDefinition: ...

    def __contains__(self, code: object) -> bool: ...


def _pct_fr(value: Fraction) -> str:
    return f"{percent_one_decimal(value):.1f}".replace(".", ",")


def _pct_en(value: Fraction) -> str:
    return f"{percent_one_decimal(value):.1f}"


def _band(definition: ScaleDefinition, value: int) -> Band | None:
    try:
        return find_band(definition.bands, value)
    except LookupError:
        return None


def _band_index(definition: ScaleDefinition, value: int) -> int | None:
    for index, band in enumerate(definition.bands):
        if band.min <= value <= band.max:
            return index
    return None


# -- R-MBC-01 ---------------------------------------------------------------------------------


def course_baseline(
    assessments: Sequence[Assessment], first_session_on: date, settings: MbcSettings, *, scale: str | None = None
) -> BaselineResult:
    """The first assessment on the primary scale in the baseline window (R-MBC-01).

    The window is ``mbc.baseline_window_days`` days before session 1, up to the day of session 1.
    """
    code = scale or settings.primary_scale
    start = first_session_on - timedelta(days=settings.baseline_window_days)
    candidates = [a for a in assessments if a.scale == code and start <= a.administered_on <= first_session_on]
    window_fr = f"du {start.isoformat()} au {first_session_on.isoformat()}"
    if not candidates:
        return BaselineResult(None, start, first_session_on, Explanation(
            "R-MBC-01", f"{SRC} R-MBC-01",
            f"Aucune évaluation {code} dans la fenêtre de ligne de base ({window_fr}, "
            f"{settings.baseline_window_days} jours avant la séance 1) : la ligne de base de la cure manque, "
            "l'amélioration ne pourra pas être calculée.",
            f"No {code} assessment in the baseline window ({start.isoformat()} to {first_session_on.isoformat()}): "
            "the course baseline is missing and improvement cannot be computed.",
        ))
    chosen = min(candidates, key=lambda a: a.administered_on)  # min keeps the first of equal dates
    return BaselineResult(chosen, start, first_session_on, Explanation(
        "R-MBC-01", f"{SRC} R-MBC-01",
        f"Ligne de base de la cure : {code} = {chosen.total} le {chosen.administered_on.isoformat()} (première "
        f"évaluation de la fenêtre {window_fr}). Toute amélioration est calculée par rapport à la ligne de base de "
        "cette cure, pas à celle de l'épisode.",
        f"Course baseline: {code} = {chosen.total} on {chosen.administered_on.isoformat()} (first assessment in "
        "the window). Every improvement is computed against this course's baseline, not the episode's.",
    ))


# -- R-MBC-02 / R-MBC-04 ----------------------------------------------------------------------


def course_status(
    definition: ScaleDefinition, baseline: int, current: int, settings: MbcSettings,
    *, remission_max: int | None = None,
) -> ScaleStatus:
    """Status on one scale. ``remission_max`` overrides the scale's cut-off (site setting).

    Out-of-range scores raise ``ValidationFailed`` naming ``baseline``/``current``.
    """
    thresholds = ProgressThresholds(remission_max, settings.response_pct, settings.partial_low_pct)
    progress = classify_progress(definition, baseline, current, thresholds)
    improvement = progress.improvement
    cutoff = definition.remission_max if remission_max is None else remission_max
    base_band, cur_band = _band(definition, baseline), _band(definition, current)
    is_response = (progress.status != "not_evaluable" and improvement is not None
                   and improvement >= Fraction(settings.response_pct, 100))
    text_fr, text_en = _status_text(definition, baseline, current, progress.status, improvement, cutoff, settings)
    return ScaleStatus(
        scale=definition.code,
        baseline=baseline,
        current=current,
        status=progress.status,
        improvement_numerator=progress.improvement_numerator,
        improvement_denominator=progress.improvement_denominator,
        improvement_pct=progress.improvement_pct,
        is_response=is_response,
        baseline_band=base_band.code if base_band else None,
        current_band=cur_band.code if cur_band else None,
        explanation=Explanation("R-MBC-04", f"{SRC} R-MBC-02, R-MBC-04 (SFORZINI22)", text_fr, text_en),
    )


def _status_text(
    definition: ScaleDefinition, baseline: int, current: int, status: ProgressStatus,
    improvement: Fraction | None, cutoff: int | None, settings: MbcSettings,
) -> tuple[str, str]:
    name = definition.code.upper()
    head_fr = f"{name} {baseline} → {current}"
    head_en = f"{name} {baseline} → {current}"
    if improvement is None or status == "not_evaluable":
        if not definition.classify_change or definition.total_max is None or len(definition.bands) < 2:
            return (f"{name} : échelle sans classement de réponse ou de rémission (non évaluable).",
                    f"{name}: no response or remission classification for this scale (not evaluable).")
        if baseline <= 0:
            return (f"{head_fr} : ligne de base à 0, amélioration non calculable (non évaluable).",
                    f"{head_en}: baseline 0, improvement cannot be computed (not evaluable).")
        mild = definition.bands[1]
        return (
            f"{head_fr} : la ligne de base ({baseline}) est sous la bande « {mild.label_fr.lower()} » (≥ {mild.min}) ; "
            "une baisse de quelques points n'y est pas interprétable (non évaluable).",
            f"{head_en}: the baseline ({baseline}) is below the '{mild.label_en.lower()}' band (≥ {mild.min}); "
            "a drop of a few points is not interpretable there (not evaluable).",
        )
    pct_fr, pct_en = _pct_fr(improvement), _pct_en(improvement)
    fraction = f"{baseline - current}/{baseline}"
    if status == "remission":
        return (
            f"{head_fr} : score {current} ≤ seuil de rémission {cutoff} → rémission (amélioration {fraction} "
            f"= {pct_fr} %).",
            f"{head_en}: score {current} ≤ remission cut-off {cutoff} → remission (improvement {fraction} "
            f"= {pct_en} %).",
        )
    if status == "response":
        return (
            f"{head_fr} : amélioration {fraction} = {pct_fr} % ≥ {settings.response_pct} % → réponse ; score "
            f"{current} au-dessus du seuil de rémission ({cutoff}).",
            f"{head_en}: improvement {fraction} = {pct_en} % ≥ {settings.response_pct} % → response; score {current} "
            f"above the remission cut-off ({cutoff}).",
        )
    if status == "partial_response":
        return (
            f"{head_fr} : amélioration {fraction} = {pct_fr} %, entre {settings.partial_low_pct} et "
            f"{settings.response_pct} % → réponse partielle.",
            f"{head_en}: improvement {fraction} = {pct_en} %, between {settings.partial_low_pct} and "
            f"{settings.response_pct} % → partial response.",
        )
    if status == "worsening":
        return (
            f"{head_fr} : score en hausse ({pct_fr} %) → aggravation.",
            f"{head_en}: score higher than at baseline ({pct_en} %) → worsening.",
        )
    return (
        f"{head_fr} : amélioration {fraction} = {pct_fr} % < {settings.partial_low_pct} % → non-réponse.",
        f"{head_en}: improvement {fraction} = {pct_en} % < {settings.partial_low_pct} % → non-response.",
    )


# -- R-MBC-03 ---------------------------------------------------------------------------------


def early_checkpoint(
    sessions_delivered: int, definition: ScaleDefinition, baseline: int, current: int, settings: MbcSettings
) -> CheckpointDecision:
    """R-MBC-03 on the primary scale, with the ``mbc.early.*`` settings (a prompt, never a stop).

    With a baseline of 0 improvement is undefined: no prompt (R-MBC-02 reports ``not_evaluable``).
    """
    thresholds = CheckpointThresholds(settings.early_sessions, settings.early_min_pct)
    if baseline <= 0:
        return early_improvement_checkpoint(sessions_delivered, Fraction(1), thresholds)
    return early_improvement_checkpoint(sessions_delivered, Fraction(baseline - current, baseline), thresholds)


# -- R-MBC-05 ---------------------------------------------------------------------------------


def end_of_course(
    primary: ScaleMeasure, secondaries: Sequence[ScaleMeasure], catalogue: ScaleLookup, settings: MbcSettings
) -> EndOfCourseResult:
    """The configured primary scale decides the course status; secondary scales are shown and any
    status that differs from the primary one is flagged (R-MBC-05, worked example S6)."""
    errors = [FieldError(where, f"unknown scale {m.scale!r}")
              for where, m in [("primary.scale", primary), *((f"secondaries[{i}].scale", s)
                                                             for i, s in enumerate(secondaries))]
              if m.scale not in catalogue]
    if errors:
        raise ValidationFailed(errors)
    main = course_status(catalogue.get(primary.scale), primary.baseline, primary.current, settings)
    others = tuple(course_status(catalogue.get(m.scale), m.baseline, m.current, settings) for m in secondaries)
    divergences = tuple(
        Divergence(
            scale=other.scale, status=other.status, primary_scale=main.scale, primary_status=main.status,
            text_fr=(f"Divergence : {other.scale.upper()} indique {_STATUS_FR[other.status]} "
                     f"({_pct_or_dash_fr(other)}) alors que l'échelle principale {main.scale.upper()} indique "
                     f"{_STATUS_FR[main.status]} ({_pct_or_dash_fr(main)}). Le statut de la cure suit l'échelle "
                     "principale ; la divergence est à discuter."),
            text_en=(f"Divergence: {other.scale.upper()} shows {_STATUS_EN[other.status]} while the primary scale "
                     f"{main.scale.upper()} shows {_STATUS_EN[main.status]}. The course status follows the primary "
                     "scale; the divergence is for discussion."),
        )
        for other in others
        if other.status != main.status
    )
    return EndOfCourseResult(
        status=main.status,
        primary=main,
        secondaries=others,
        divergences=divergences,
        explanation=Explanation(
            "R-MBC-05", f"{SRC} R-MBC-05; §9.5 S6",
            f"Statut de fin de cure : {_STATUS_FR[main.status]}, d'après l'échelle principale {main.scale.upper()}. "
            + (f"{len(divergences)} échelle(s) secondaire(s) divergente(s)." if divergences
               else "Les échelles secondaires concordent."),
            f"End-of-course status: {_STATUS_EN[main.status]}, from the primary scale {main.scale.upper()}. "
            + (f"{len(divergences)} secondary scale(s) diverge." if divergences else "Secondary scales agree."),
        ),
    )


def _pct_or_dash_fr(status: ScaleStatus) -> str:
    if status.improvement_pct is None:
        return "amélioration non calculable"
    return f"amélioration {status.improvement_pct:.1f} %".replace(".", ",")


# -- R-MBC-06 / 07 / 08 / 09 ------------------------------------------------------------------


def extension_prompt(status: ProgressStatus, trajectory: Sequence[int], settings: MbcSettings) -> Prompt:
    """R-MBC-06: response or partial response at the planned end AND the last two evaluations on
    the primary scale still improving (``trajectory`` in chronological order, lower is better)."""
    source = f"{SRC} R-MBC-06; R-SCH-09 (MILEV16, CTMSS)"
    options = tuple(f"+{n}" for n in settings.extension_sessions)
    eligible = status in ("response", "partial_response")
    improving = len(trajectory) >= 2 and trajectory[-1] < trajectory[-2]
    sizes_fr = " ou ".join(f"+{n}" for n in settings.extension_sessions)
    if eligible and improving:
        return Prompt(
            "suggest_extension", True, "R-MBC-06", source,
            f"{_STATUS_FR[status].capitalize()} à la fin prévue et amélioration encore en cours "
            f"({trajectory[-2]} → {trajectory[-1]} aux deux dernières évaluations) : envisager une prolongation de "
            f"{sizes_fr} séances (des répondeurs tardifs continuent de s'améliorer).",
            f"{_STATUS_EN[status].capitalize()} at the planned end and still improving ({trajectory[-2]} → "
            f"{trajectory[-1]} over the last two evaluations): consider extending by {sizes_fr.replace('ou', 'or')} "
            "sessions (late responders keep improving).",
            options,
        )
    if not eligible:
        why_fr = f"statut {_STATUS_FR[status]} (la prolongation vise la réponse ou la réponse partielle)"
        why_en = f"status {_STATUS_EN[status]} (extension targets response or partial response)"
    elif len(trajectory) < 2:
        why_fr, why_en = "moins de deux évaluations disponibles", "fewer than two evaluations available"
    else:
        why_fr = f"pas d'amélioration entre les deux dernières évaluations ({trajectory[-2]} → {trajectory[-1]})"
        why_en = f"no improvement over the last two evaluations ({trajectory[-2]} → {trajectory[-1]})"
    return Prompt("suggest_extension", False, "R-MBC-06", source,
                  f"Pas de proposition de prolongation : {why_fr}.", f"No extension prompt: {why_en}.")


def switch_suggestions(protocol_id: str, settings: MbcSettings) -> tuple[tuple[str, ...], Confidence]:
    """Protocols to suggest after non-response to ``protocol_id`` (R-MBC-07), and the confidence."""
    for rule in settings.switch_map:
        if protocol_id in rule.from_protocols:
            return rule.suggest, rule.confidence
    return (), "design"


def non_response_prompt(
    status: ProgressStatus, sessions_delivered: int, protocol_id: str, settings: MbcSettings
) -> Prompt:
    """R-MBC-07: non-response at the end of an adequate course (≥ ``mbc.adequate_course_sessions``):
    suggest another high-evidence protocol rather than abandoning rTMS, and reconsider all options."""
    source = f"{SRC} R-MBC-07 (SEED, MILEV16)"
    minimum = settings.adequate_course_sessions
    confidence = settings.confidence("mbc.adequate_course_sessions")
    if status not in ("non_response", "worsening"):
        return Prompt("switch_protocol", False, "R-MBC-07", source,
                      f"Pas de changement de protocole proposé : statut {_STATUS_FR[status]}.",
                      f"No protocol switch prompt: status {_STATUS_EN[status]}.", confidence=confidence)
    if sessions_delivered < minimum:
        return Prompt(
            "switch_protocol", False, "R-MBC-07", source,
            f"Non-réponse après {sessions_delivered} séances : la cure n'est pas encore adéquate (< {minimum} "
            "séances), on ne peut pas conclure à un échec de la rTMS.",
            f"Non-response after {sessions_delivered} sessions: not yet an adequate course (< {minimum} sessions); "
            "rTMS failure cannot be concluded.",
            confidence=confidence,
        )
    suggested, switch_conf = switch_suggestions(protocol_id, settings)
    listed = ", ".join(suggested) if suggested else "un autre protocole à haut niveau de preuve"
    listed_en = ", ".join(suggested) if suggested else "another high-evidence protocol"
    worst: Confidence = "to_verify" if "to_verify" in (confidence, switch_conf) else confidence
    return Prompt(
        "switch_protocol", True, "R-MBC-07", source,
        f"Non-réponse au terme d'une cure adéquate ({sessions_delivered} séances ≥ {minimum}) avec {protocol_id} : "
        f"plutôt que d'abandonner la rTMS, envisager un autre protocole ({listed}) ; reconsidérer l'ensemble des "
        "options, y compris l'ECT.",
        f"Non-response after an adequate course ({sessions_delivered} sessions ≥ {minimum}) with {protocol_id}: "
        f"rather than abandoning rTMS, consider another protocol ({listed_en}); reconsider all options, "
        "including ECT.",
        (*suggested, "reconsider_all_options"),
        confidence=worst,
    )


RESIDUAL_TASK_FR = "Renforcer la prise en charge : pharmacothérapie et thérapie cognitive et comportementale (TCC)."
RESIDUAL_TASK_EN = "Strengthen the overall care: pharmacotherapy and cognitive behavioural therapy (CBT)."


def residual_symptoms_prompt(status: ProgressStatus, gad7_end: int | None, settings: MbcSettings) -> Prompt:
    """R-MBC-08: response without remission, partial response, or GAD-7 ≥ ``mbc.residual_gad7`` at
    the end → "renforcer la prise en charge" plus a paragraph for the referrer's letter."""
    source = f"{SRC} R-MBC-08 (SEED)"
    threshold = settings.residual_gad7
    reasons_fr: list[str] = []
    reasons_en: list[str] = []
    if status == "response":
        reasons_fr.append("réponse sans rémission (symptômes dépressifs résiduels)")
        reasons_en.append("response without remission (residual depressive symptoms)")
    elif status == "partial_response":
        reasons_fr.append("réponse partielle (symptômes dépressifs résiduels)")
        reasons_en.append("partial response (residual depressive symptoms)")
    anxious = gad7_end is not None and gad7_end >= threshold
    if anxious:
        reasons_fr.append(f"anxiété résiduelle (GAD-7 = {gad7_end} ≥ {threshold})")
        reasons_en.append(f"residual anxiety (GAD-7 = {gad7_end} ≥ {threshold})")
    confidence = settings.confidence("mbc.residual_gad7")
    if not reasons_fr:
        return Prompt("reinforce_care", False, "R-MBC-08", source,
                      "Pas de symptôme résiduel retenu en fin de cure.",
                      "No residual symptoms at the end of the course.",
                      confidence=confidence)
    found_fr = " ; ".join(reasons_fr)
    letter_fr = (
        f"En fin de cure de rTMS, des symptômes résiduels persistent : {found_fr}. Les symptômes résiduels, "
        "anxieux ou dépressifs, sont prédictifs de rechute : ils doivent être recherchés systématiquement et "
        "traités rapidement. Nous vous proposons de renforcer la prise en charge, notamment par l'ajustement de "
        "la pharmacothérapie et une thérapie cognitive et comportementale (TCC). Vous connaissez le mieux votre "
        "patient ou votre patiente ; nous restons à votre disposition pour en discuter."
    )
    letter_en = (
        f"At the end of the rTMS course, residual symptoms persist: {'; '.join(reasons_en)}. Residual anxious or "
        "depressive symptoms predict relapse: they should be looked for systematically and treated quickly. We "
        "suggest strengthening the overall care, in particular by adjusting pharmacotherapy and by cognitive "
        "behavioural therapy (CBT). You know your patient best; we remain available to discuss it."
    )
    return Prompt(
        "reinforce_care", True, "R-MBC-08", source,
        f"Symptômes résiduels en fin de cure ({found_fr}). {RESIDUAL_TASK_FR} Un paragraphe est ajouté au "
        "courrier au médecin adresseur.",
        f"Residual symptoms at the end of the course ({'; '.join(reasons_en)}). {RESIDUAL_TASK_EN} A paragraph is "
        "added to the referrer letter.",
        ("pharmacotherapy", "cbt", "referrer_letter"),
        letter_paragraph_fr=letter_fr,
        letter_paragraph_en=letter_en,
        confidence="to_verify" if anxious and status not in ("response", "partial_response") else "verified",
    )


def maintenance_offer(status: ProgressStatus) -> Prompt:
    """R-MBC-09: after response or remission, propose maintenance (classic or cluster, neither
    preferred) or structured follow-up; rTMS is one step of a global strategy."""
    source = f"{SRC} R-MBC-09 (SEED, SENOVA19); §7.5"
    if status not in _RESPONDED:
        return Prompt("offer_maintenance", False, "R-MBC-09", source,
                      f"Pas de proposition d'entretien : statut {_STATUS_FR[status]} (réservée à la réponse ou à la "
                      "rémission).",
                      f"No maintenance offer: status {_STATUS_EN[status]} (only after response or remission).")
    return Prompt(
        "offer_maintenance", True, "R-MBC-09", source,
        f"{_STATUS_FR[status].capitalize()} en fin de cure : proposer un entretien (classique ou en grappes, "
        "aucun n'est à préférer faute de recul suffisant) ou un suivi structuré. La rTMS est une étape d'une "
        "stratégie globale.",
        f"{_STATUS_EN[status].capitalize()} at the end of the course: offer maintenance (classic or cluster; "
        "neither is preferred for lack of hindsight) or structured follow-up. rTMS is one step of a global strategy.",
        ("maintenance_classic", "maintenance_cluster", "structured_follow_up"),
    )


# -- R-MBC-10 ---------------------------------------------------------------------------------


def detect_relapse(
    definition: ScaleDefinition, course_baseline: int, end_value: int, current: int,
    end_status: ProgressStatus, settings: MbcSettings,
) -> RelapseCheck:
    """R-MBC-10 after a response or remission: "possible relapse" when (a) the score is back in the
    baseline severity band, (b) ≥ ``mbc.relapse_gain_loss_pct`` of the points gained are lost, or
    (c) a scale-specific cut-off is reached. The clinician then confirms relapse or recurrence."""
    source = f"{SRC} R-MBC-10 (MANTOVANI12 for (c))"
    errors = [FieldError(name, f"{value} is outside {definition.total_min}–{definition.total_max}")
              for name, value in (("course_baseline", course_baseline), ("end_value", end_value),
                                  ("current", current))
              if definition.total_max is not None
              and not (definition.total_min or 0) <= value <= definition.total_max]
    if errors:
        raise ValidationFailed(errors)
    if end_status not in _RESPONDED:
        return RelapseCheck(False, (), None, None, None, (Explanation(
            "R-MBC-10", source,
            f"Détection de rechute non applicable : la cure s'est terminée en {_STATUS_FR[end_status]} (elle "
            "s'applique après une réponse ou une rémission).",
            f"Relapse detection not applicable: the course ended in {_STATUS_EN[end_status]} (it applies after a "
            "response or remission).",
        ),))
    name = definition.code.upper()
    criteria: list[RelapseCriterion] = []
    notes: list[Explanation] = []
    # (a) back in the baseline severity band (or a worse one)
    base_index, cur_index = _band_index(definition, course_baseline), _band_index(definition, current)
    base_band = _band(definition, course_baseline)
    if base_index is not None and cur_index is not None and base_band is not None:
        met = cur_index >= base_index
        cur_band = definition.bands[cur_index]
        if met:
            criteria.append("baseline_band")
        notes.append(Explanation(
            "R-MBC-10", source,
            f"(a) {name} {current} : bande « {cur_band.label_fr.lower()} » ; ligne de base {course_baseline} : bande "
            f"« {base_band.label_fr.lower()} » → {'retour' if met else 'pas de retour'} dans la bande de sévérité "
            "initiale.",
            f"(a) {name} {current}: '{cur_band.label_en.lower()}' band; baseline {course_baseline}: "
            f"'{base_band.label_en.lower()}' band → {'back' if met else 'not back'} in the baseline severity band.",
        ))
    # (b) loss of the points gained
    gain = course_baseline - end_value
    loss: Fraction | None = None
    if gain > 0:
        loss = Fraction(current - end_value, gain)
        met = loss >= Fraction(settings.relapse_gain_loss_pct, 100)
        if met:
            criteria.append("gain_loss")
        notes.append(Explanation(
            "R-MBC-10", source,
            f"(b) Perte du gain : ({current} − {end_value}) / ({course_baseline} − {end_value}) = {_pct_fr(loss)} % "
            f"{'≥' if met else '<'} {settings.relapse_gain_loss_pct} %.",
            f"(b) Loss of gain: ({current} − {end_value}) / ({course_baseline} − {end_value}) = {_pct_en(loss)} % "
            f"{'≥' if met else '<'} {settings.relapse_gain_loss_pct} %.",
        ))
    else:
        notes.append(Explanation(
            "R-MBC-10", source, "(b) Aucun gain entre la ligne de base et la fin de cure : critère non calculable.",
            "(b) No gain between baseline and end of course: criterion not computable.",
        ))
    # (c) scale-specific cut-off
    for cutoff in settings.relapse_cutoffs:
        if cutoff.scale == definition.code:
            met = current >= cutoff.min
            if met:
                criteria.append("scale_cutoff")
            notes.append(Explanation(
                "R-MBC-10", f"{SRC} R-MBC-10 ({cutoff.source})",
                f"(c) {name} {current} {'≥' if met else '<'} seuil de rechute {cutoff.min}.",
                f"(c) {name} {current} {'≥' if met else '<'} relapse cut-off {cutoff.min}.",
            ))
    possible = bool(criteria)
    return RelapseCheck(
        possible_relapse=possible,
        criteria=tuple(criteria),
        loss_of_gain_numerator=None if loss is None else loss.numerator,
        loss_of_gain_denominator=None if loss is None else loss.denominator,
        loss_of_gain_pct=None if loss is None else percent_one_decimal(loss),
        explanations=tuple(notes),
        task_fr=("Rechute possible : revoir le patient. Le clinicien confirme une rechute (au cours de l'épisode) "
                 "ou une récidive (après guérison)." if possible else None),
        task_en=("Possible relapse: see the patient. The clinician confirms relapse (within the episode) or "
                 "recurrence (after recovery)." if possible else None),
    )


# -- R-MBC-11 / R-MBC-12 ----------------------------------------------------------------------


def retreatment_suggestion(
    earlier_course_status: ProgressStatus, protocol_id: str, course_number: int, settings: MbcSettings,
    *, relapse_confirmed: bool = True,
) -> Prompt:
    """After a confirmed relapse: an earlier responder gets a rescue cluster or a re-induction with
    the same protocol (new course ``course_number + 1``, R-MBC-11); an earlier non-responder gets
    the R-MBC-07 switch suggestions (R-MBC-12)."""
    if not relapse_confirmed:
        return Prompt("retreatment", False, "R-MBC-11", f"{SRC} R-MBC-11",
                      "Pas de proposition de reprise : la rechute n'est pas confirmée par le clinicien.",
                      "No re-treatment suggestion: the relapse is not confirmed by the clinician.")
    new_course = course_number + 1
    if earlier_course_status in _RESPONDED:
        return Prompt(
            "retreatment", True, "R-MBC-11", f"{SRC} R-MBC-11 (SEED; VA23; FITZ13; PRIDMORE22; DUNNER14)",
            f"Rechute confirmée après une cure répondeuse ({protocol_id}) : proposer une grappe de rattrapage "
            f"({settings.rescue_template}, {settings.rescue_sessions} séances) ou une ré-induction avec le même "
            f"protocole (nouvelle cure n° {new_course}). La rTMS reste efficace lorsqu'elle est reprise après une "
            "rechute (6 répondeurs antérieurs sur 6 ont de nouveau répondu, VA23).",
            f"Confirmed relapse after a responding course ({protocol_id}): offer a rescue cluster "
            f"({settings.rescue_template}, {settings.rescue_sessions} sessions) or a re-induction with the same "
            f"protocol (new course no. {new_course}). rTMS stays effective when reused after relapse (6/6 earlier "
            "responders responded again, VA23).",
            (settings.rescue_template, f"re_induction:{protocol_id}:course_{new_course}"),
        )
    suggested, confidence = switch_suggestions(protocol_id, settings)
    listed = ", ".join(suggested) if suggested else "un autre protocole à haut niveau de preuve"
    return Prompt(
        "retreatment", True, "R-MBC-12", f"{SRC} R-MBC-12, R-MBC-07 (SEED, MILEV16, VA23)",
        f"Rechute confirmée alors que la cure précédente ({protocol_id}) n'avait pas répondu : appliquer R-MBC-07, "
        f"changer de protocole ({listed}), nouvelle cure n° {new_course}. Pour information, 3 non-répondeurs "
        "antérieurs sur 6 ont répondu à une seconde cure (VA23).",
        f"Confirmed relapse while the earlier course ({protocol_id}) did not respond: apply R-MBC-07 and switch "
        f"protocol ({', '.join(suggested) or 'another high-evidence protocol'}), new course no. {new_course}. "
        "For information, 3/6 earlier non-responders responded to a second course (VA23).",
        (*suggested, "reconsider_all_options"),
        confidence=confidence,
    )


# -- R-MBC-13 ---------------------------------------------------------------------------------


def ymrs_check(
    current: int | None, previous: int | None, settings: MbcSettings, *, checkin_mood_elevation: bool = False
) -> YmrsCheck:
    """R-MBC-13 / §9.4: bipolar patient, YMRS ≥ ``mbc.ymrs.absolute_min`` or a rise ≥
    ``mbc.ymrs.rise_min`` since the previous YMRS, or mood elevation reported at check-in →
    physician review before the next session."""
    errors = [FieldError(name, f"{value} is outside 0–60") for name, value in (("current", current),
                                                                             ("previous", previous))
              if value is not None and not 0 <= value <= 60]
    if errors:
        raise ValidationFailed(errors)
    triggers: list[Literal["ymrs_absolute", "ymrs_rise", "checkin_mood_elevation"]] = []
    parts_fr: list[str] = []
    parts_en: list[str] = []
    if current is not None and current >= settings.ymrs_absolute:
        triggers.append("ymrs_absolute")
        parts_fr.append(f"YMRS {current} ≥ {settings.ymrs_absolute}")
        parts_en.append(f"YMRS {current} ≥ {settings.ymrs_absolute}")
    if current is not None and previous is not None and current - previous >= settings.ymrs_rise:
        triggers.append("ymrs_rise")
        parts_fr.append(f"hausse de {current - previous} points ({previous} → {current}) ≥ {settings.ymrs_rise}")
        parts_en.append(f"rise of {current - previous} points ({previous} → {current}) ≥ {settings.ymrs_rise}")
    if checkin_mood_elevation:
        triggers.append("checkin_mood_elevation")
        parts_fr.append("élévation de l'humeur signalée au questionnaire pré-séance")
        parts_en.append("mood elevation reported at check-in")
    source = "domain-rtms §10.2 R-MBC-13; §9.4 (SEED)"
    confidence = settings.confidence("mbc.ymrs.absolute_min")
    if triggers:
        explanation = Explanation(
            "R-MBC-13", source,
            f"Surveillance du virage de l'humeur : {' ; '.join(parts_fr)} → avis médical avant la prochaine séance "
            "(seuils à vérifier).",
            f"Switch monitoring: {'; '.join(parts_en)} → physician review before the next session (thresholds to "
            "verify).",
        )
    else:
        shown = "non renseignée" if current is None else str(current)
        explanation = Explanation(
            "R-MBC-13", source,
            f"Surveillance du virage de l'humeur : YMRS {shown}, sous les seuils (≥ {settings.ymrs_absolute} ou "
            f"hausse ≥ {settings.ymrs_rise}) ; pas d'alerte.",
            f"Switch monitoring: YMRS {current if current is not None else 'missing'}, below the triggers; no alert.",
        )
    return YmrsCheck(bool(triggers), tuple(triggers), explanation, confidence)


# -- R-MBC-14 / R-MBC-15 ----------------------------------------------------------------------


def combination_information_cards() -> tuple[Prompt, ...]:
    """R-MBC-14: information cards about combinations (no automatic action)."""
    source = f"{SRC} R-MBC-14 (SEED)"
    return (
        Prompt("card_antidepressants", True, "R-MBC-14", source,
               "Antidépresseurs : les données de synergie avec la rTMS, d'abord légèrement favorables, sont "
               "aujourd'hui contradictoires.",
               "Antidepressants: synergy data with rTMS, once slightly favourable, are now contradictory."),
        Prompt("card_psychostimulants", True, "R-MBC-14", source,
               "Psychostimulants : synergie possible, à confirmer. Le méthylphénidate est désormais utilisable chez "
               "l'adulte en France ; la comorbidité TDAH est fréquente.",
               "Psychostimulants: possible synergy, to be confirmed. Methylphenidate is now usable in adults in "
               "France; ADHD comorbidity is frequent."),
        Prompt("card_cbt", True, "R-MBC-14", source,
               "TCC : résultats encourageants, avec une forte persistance des effets.",
               "CBT: encouraging, with high persistence of effects."),
    )


def post_ect_offer(ect_response: bool) -> Prompt:
    """R-MBC-15: after an ECT response, offer rTMS maintenance (R-TRI-16)."""
    source = f"{SRC} R-MBC-15 (CORE); R-TRI-16"
    if not ect_response:
        return Prompt("post_ect_maintenance", False, "R-MBC-15", source,
                      "Pas de réponse à l'ECT : pas de proposition d'entretien par rTMS après ECT.",
                      "No ECT response: no post-ECT rTMS maintenance offer.")
    return Prompt(
        "post_ect_maintenance", True, "R-MBC-15", source,
        "Réponse à l'ECT : proposer un entretien par rTMS (R-TRI-16). Environ 50 % des patients rechutent dans les "
        "6 mois après l'ECT malgré une continuation pharmacologique.",
        "ECT response: offer rTMS maintenance (R-TRI-16). About 50 % relapse within 6 months after ECT despite "
        "pharmacological continuation.",
        ("bilateral_sequential_maintenance",),
    )


# -- §10.1 cadence ----------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def assessment_schedule(
    session_dates: Sequence[date],
    end_date: date,
    settings: MbcSettings,
    *,
    bipolar: bool = False,
    maintenance: MaintenancePlanKind = "none",
    maintenance_session_dates: Sequence[date] = (),
) -> tuple[AssessmentDue, ...]:
    """Assessment tasks for one course (§10.1, R-SCH-11), from the induction session dates (session 1
    first) and the end date of treatment (the last induction or taper session). Dates are arguments.

    - baseline: within ``mbc.baseline_window_days`` before session 1 (self-report, anxiety, primary, C-SSRS, YMRS
      if bipolar);
    - induction: self-report after every 5th session, primary after sessions 10 and 20 (when before the last one);
    - end of course: last session ± ``mbc.end_window_days`` (self-report, anxiety, primary);
    - without maintenance: follow-up self-report at 1, 3, 6, 12 months after the end, primary at 3 and 12;
    - with maintenance: self-report monthly, every 2 weeks inside the relapse-risk window (from 5 months after
      the last induction session), primary at each cluster (cluster maintenance) or every 3 months (classic),
      until ``mbc.cadence.horizon_months`` after the end.
    YMRS is added to every assessment of a bipolar patient (R-MBC-13).
    """
    errors: list[FieldError] = []
    if not session_dates:
        errors.append(FieldError("session_dates", "at least one session is required"))
    elif list(session_dates) != sorted(session_dates):
        errors.append(FieldError("session_dates", "must be in chronological order"))
    elif end_date < session_dates[-1]:
        errors.append(FieldError("end_date", "must not be before the last session"))
    if maintenance == "none" and maintenance_session_dates:
        errors.append(FieldError("maintenance_session_dates", "given without a maintenance plan"))
    if errors:
        raise ValidationFailed(errors)

    mania = (settings.mania_scale,) if bipolar else ()
    self_scales = (settings.self_report_scale, *mania)
    tasks: list[AssessmentDue] = []
    first, last, count = session_dates[0], session_dates[-1], len(session_dates)
    source = "R-MBC-01"
    tasks.append(AssessmentDue(
        "baseline", first, first - timedelta(days=settings.baseline_window_days), first,
        (settings.self_report_scale, settings.anxiety_scale, settings.primary_scale, settings.risk_scale, *mania),
        source, "Évaluation initiale (ligne de base de la cure)", "Baseline assessment (course baseline)",
        after_session=0,
    ))
    every = settings.induction_self_every_sessions
    clinician = set(settings.induction_clinician_after_sessions)
    for k in range(1, count):
        self_due, clin_due = k % every == 0, k in clinician
        if not (self_due or clin_due):
            continue
        scales = (*((settings.self_report_scale,) if self_due else ()),
                  *((settings.primary_scale,) if clin_due else ()), *mania)
        label_fr = f"Évaluation après la séance {k}" + (" (hétéro-évaluation)" if clin_due else "")
        label_en = f"Assessment after session {k}" + (" (clinician rating)" if clin_due else "")
        tasks.append(AssessmentDue("induction", session_dates[k - 1], session_dates[k - 1], session_dates[k],
                                   scales, "R-MBC-03" if clin_due else "R-MBC-04", label_fr, label_en,
                                   after_session=k))
    window = timedelta(days=settings.end_window_days)
    tasks.append(AssessmentDue(
        "end_of_course", last, last - window, last + window,
        (settings.self_report_scale, settings.anxiety_scale, settings.primary_scale, *mania),
        "R-MBC-05", "Évaluation de fin de cure", "End-of-course assessment", after_session=count,
    ))
    if maintenance == "none":
        tasks += _follow_up(end_date, settings, self_scales, mania)
    else:
        tasks += _maintenance(last, end_date, settings, self_scales, mania, maintenance, maintenance_session_dates)
    order: dict[TimePoint, int] = {"baseline": 0, "induction": 1, "end_of_course": 2, "maintenance": 3,
                                   "follow_up": 4}
    return tuple(sorted(tasks, key=lambda t: (t.due_on, order[t.time_point])))


def _follow_up(
    end_date: date, settings: MbcSettings, self_scales: tuple[str, ...], mania: tuple[str, ...]
) -> list[AssessmentDue]:
    window = timedelta(days=settings.follow_up_window_days)
    months = sorted(set(settings.follow_up_self_months) | set(settings.follow_up_clinician_months))
    tasks = []
    for m in months:
        due = add_months(end_date, m)
        scales: tuple[str, ...] = ()
        if m in settings.follow_up_self_months:
            scales += (settings.self_report_scale,)
        if m in settings.follow_up_clinician_months:
            scales += (settings.primary_scale,)
        scales += tuple(s for s in mania if s not in scales)
        tasks.append(AssessmentDue(
            "follow_up", due, due - window, due + window, scales, "R-MBC-10",
            f"Suivi à {m} mois de la fin de cure", f"Follow-up {m} month{'s' if m > 1 else ''} after the end",
            months_after_end=m,
        ))
    return tasks


def _maintenance(
    induction_end: date, end_date: date, settings: MbcSettings, self_scales: tuple[str, ...],
    mania: tuple[str, ...], kind: MaintenancePlanKind, maintenance_dates: Sequence[date],
) -> list[AssessmentDue]:
    window = timedelta(days=settings.follow_up_window_days)
    horizon = add_months(end_date, settings.horizon_months)
    relapse_start = add_months(induction_end, settings.relapse_window_months)
    tasks: list[AssessmentDue] = []
    # self-report: monthly, then every 2 weeks inside the relapse-risk window (R-SCH-13)
    step = 1
    due = add_months(end_date, settings.maintenance_self_every_months)
    while due < relapse_start and due <= horizon:
        tasks.append(AssessmentDue("maintenance", due, due - window, due + window, self_scales, "R-MBC-10",
                                   "Auto-évaluation mensuelle (entretien)", "Monthly self-report (maintenance)"))
        step += 1
        due = add_months(end_date, settings.maintenance_self_every_months * step)
    every = timedelta(days=settings.relapse_window_self_every_days)
    # Keep consecutive windows from overlapping.
    tight = timedelta(days=min(settings.follow_up_window_days, every.days // 2))
    due = max(relapse_start, end_date + every)
    while due <= horizon:
        tasks.append(AssessmentDue(
            "maintenance", due, due - tight, due + tight, self_scales, "R-MBC-10",
            f"Auto-évaluation tous les {every.days} jours (fenêtre de risque de rechute)",
            f"Self-report every {every.days} days (relapse-risk window)",
        ))
        due += every
    # clinician rating: at each cluster, or every 3 months
    if kind == "cluster" and maintenance_dates:
        for start in _cluster_starts(maintenance_dates):
            if start <= horizon:
                tasks.append(AssessmentDue("maintenance", start, start, start, (settings.primary_scale, *mania),
                                           "R-MBC-10", "Hétéro-évaluation à la grappe d'entretien",
                                           "Clinician rating at the maintenance cluster"))
    else:
        months = settings.maintenance_clinician_every_months
        step = 1
        due = add_months(end_date, months)
        while due <= horizon:
            tasks.append(AssessmentDue("maintenance", due, due - window, due + window,
                                       (settings.primary_scale, *mania), "R-MBC-10",
                                       f"Hétéro-évaluation trimestrielle ({months * step} mois)",
                                       f"Clinician rating every {months} months ({months * step} months)",
                                       months_after_end=months * step))
            step += 1
            due = add_months(end_date, months * step)
    return tasks


def _cluster_starts(dates: Sequence[date]) -> list[date]:
    """First day of each cluster: a session more than 3 days after the previous one starts a cluster."""
    ordered = sorted(set(dates))
    return [d for i, d in enumerate(ordered) if i == 0 or (d - ordered[i - 1]).days > 3]
