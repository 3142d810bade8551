"""Safety screening, R-SAF-01..04 (domain-rtms §3). Pure: the catalogue, settings and dates are arguments.

A BLOCK is a product default, not a legal absolute: the IFCN update says a "yes" is not an absolute
contraindication and the physician weighs risk against benefit (ROSSI11). So every hit is kept
(R-SAF-02), and a BLOCK can be lifted by a physician override with a reason and, by default, a
second physician's co-signature (§3.1, §3.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from rtms_pathway.model.medication import DrugCatalogue
from rtms_pathway.model.screening import (
    LEVEL_RANK,
    CheckinAnswers,
    CheckinOutcome,
    CheckinStatus,
    HitStatus,
    ItemAnswer,
    Precaution,
    PrecautionStatus,
    Reason,
    ReviewDecision,
    RuleSpec,
    SafetyScreeningResult,
    ScreeningCatalogue,
    ScreeningHit,
    ScreeningLevel,
    ScreeningOverride,
    ScreeningRule,
)
from rtms_pathway.model.triage import ClinicalSettings
from rtms_pathway.rules.medication import assess_medication_changes
from shared_core.errors import FieldError

__all__ = [
    "PRECAUTION_CODES",
    "RULES",
    "evaluate_checkin",
    "evaluate_screening",
    "rule_matches",
    "screening_is_valid",
    "validate_screening_answers",
]

RULES: dict[str, RuleSpec] = {
    "R-SAF-01": RuleSpec(
        rule_id="R-SAF-01",
        section="§3.3",
        sources=(),
        confidence="design",
        text_fr="Dépistage incomplet : les questions sans réponse rendent le triage incomplet.",
        text_en="Incomplete screening: unanswered items make the triage input incomplete.",
    ),
    "R-SAF-02": RuleSpec(
        rule_id="R-SAF-02",
        section="§3.3",
        sources=(),
        confidence="design",
        text_fr="Toutes les règles déclenchées sont conservées ; le niveau d'un item est le plus élevé.",
        text_en="Every rule hit is kept; an item's level is the maximum.",
    ),
    "R-SAF-03": RuleSpec(
        rule_id="R-SAF-03",
        section="§3.3",
        sources=(),
        confidence="design",
        text_fr=(
            "Le dépistage est à refaire à chaque nouvelle cure, après sa durée de validité, et dès que le "
            "questionnaire de séance signale un changement ; la séance attend le nouveau dépistage."
        ),
        text_en=(
            "Screening is repeated at each new course, after its validity period, and whenever check-in reports "
            "a change; the session waits for the new screening."
        ),
    ),
    "R-SAF-04": RuleSpec(
        rule_id="R-SAF-04",
        section="§3.4",
        sources=("DOBEK15", "SEED"),
        confidence="verified",
        text_fr=(
            "Changement depuis la dernière séance (traitement signalé par la revue médicamenteuse, privation de "
            "sommeil, prise d'alcool ou de drogue, crise ou syncope) : facteurs de risque de crise ; séance "
            "suspendue jusqu'à la levée par un médecin, avec recontrôle du seuil moteur."
        ),
        text_en=(
            "Change since the last session (medication change flagged by §4, sleep deprivation, alcohol or drug "
            "intake, seizure or syncope): seizure risk factors; session held until a physician releases it, with "
            "an MT re-check."
        ),
    ),
}

# safety_block comes from R-TRI-01's BLOCK hits, physician_review_safety from R-TRI-17's imports.
PRECAUTION_CODES: tuple[str, ...] = ("safety_block", "physician_review_safety")

_UNKNOWN = "unknown"


def rule_matches(rule: ScreeningRule, answer: ItemAnswer) -> bool:
    """Whether ``rule`` fires for ``answer``; a follow-up detail not given counts as ``unknown``."""
    if answer.answer != rule.when.answer:
        return False
    if rule.when.detail is None:
        return True
    value = answer.details.get(rule.when.detail, _UNKNOWN)
    if rule.when.values_in is not None and value not in rule.when.values_in:
        return False
    return not (rule.when.values_not_in is not None and value in rule.when.values_not_in)


def validate_screening_answers(answers: Mapping[str, ItemAnswer], catalogue: ScreeningCatalogue) -> list[FieldError]:
    """Every unknown item code and every detail value the item does not allow (all at once)."""
    errors: list[FieldError] = []
    known = {item.code: item for item in catalogue.items}
    for code, answer in answers.items():
        item = known.get(code)
        if item is None:
            errors.append(FieldError(code, "unknown screening item"))
            continue
        for detail, value in answer.details.items():
            allowed = item.details.get(detail)
            if allowed is None:
                errors.append(FieldError(f"{code}.details.{detail}", "this item has no such detail"))
            elif value not in allowed:
                errors.append(FieldError(f"{code}.details.{detail}", f"must be one of {', '.join(allowed)}"))
    return errors


def _valid_override(
    override: ScreeningOverride, rule: ScreeningRule, settings: ClinicalSettings
) -> str | None:
    """None when the override lifts the BLOCK, else why it does not (§3.5)."""
    policy = rule.override
    if override.role != policy.role:
        return f"{rule.id}: override needs the role {policy.role}"
    minimum = settings.safety.override_reason_min_chars.value
    if policy.reason_required and len(override.reason.strip()) < minimum:
        return f"{rule.id}: the reason must have at least {minimum} characters"
    cosign = policy.cosign_required and settings.safety.block_override_cosign.value
    if cosign and (not override.cosigned_by or override.cosigned_by == override.decided_by):
        return f"{rule.id}: a second physician must co-sign"
    return None


def evaluate_screening(
    answers: Mapping[str, ItemAnswer],
    catalogue: ScreeningCatalogue,
    settings: ClinicalSettings,
    *,
    overrides: Sequence[ScreeningOverride] = (),
    reviews: Sequence[ReviewDecision] = (),
) -> SafetyScreeningResult:
    """Apply the screening rules to the answers (R-SAF-01, R-SAF-02) and the physicians' decisions.

    - ``unknown`` or absent answers to required items make the screening incomplete (R-SAF-01);
    - every matching rule is a hit; an item's level is the maximum of its hits (R-SAF-02);
    - a valid override lifts a BLOCK hit (``overridden``); a refused PHYSICIAN_REVIEW hit weighs
      like a BLOCK, because the physician has decided against stimulation;
    - precautions: ``safety_block`` (open while a BLOCK or a refusal stands, ``overridden`` once
      every BLOCK is lifted) and ``physician_review_safety`` (open until every review hit is
      decided; ``overridden`` when accepted with measures; ``resolved`` when all are accepted).
    Answers for unknown item codes are ignored here; :func:`validate_screening_answers` reports them.
    """
    missing = tuple(
        item.code
        for item in catalogue.items
        if item.required and answers.get(item.code, ItemAnswer("unknown")).answer == "unknown"
    )
    override_by_rule: dict[str, ScreeningOverride] = {}
    rejected: list[str] = []
    rules_by_id = {rule.id: rule for rule in catalogue.rules}
    for override in overrides:
        rule = rules_by_id.get(override.rule_id)
        if rule is None or rule.level != "BLOCK":
            rejected.append(f"{override.rule_id}: not a BLOCK rule")
            continue
        problem = _valid_override(override, rule, settings)
        if problem is None:
            override_by_rule[rule.id] = override
        else:
            rejected.append(problem)
    review_by_rule: dict[str, ReviewDecision] = {}
    for review in reviews:
        rule = rules_by_id.get(review.rule_id)
        if rule is None or rule.level != "PHYSICIAN_REVIEW":
            rejected.append(f"{review.rule_id}: not a PHYSICIAN_REVIEW rule")
        elif not review.reason.strip():
            rejected.append(f"{review.rule_id}: a review decision needs a reason")
        else:
            review_by_rule[rule.id] = review

    hits: list[ScreeningHit] = []
    routes: list[str] = []
    for item in catalogue.items:
        answer = answers.get(item.code)
        if answer is None or answer.answer != "yes":
            continue
        if item.route is not None and item.route not in routes:
            routes.append(item.route)
        for rule in catalogue.rules:
            if rule.item == item.code and rule_matches(rule, answer):
                hits.append(_hit(rule, override_by_rule, review_by_rule))

    item_levels: dict[str, ScreeningLevel] = {}
    for hit in hits:
        previous = item_levels.get(hit.item)
        if previous is None or LEVEL_RANK[hit.level] > LEVEL_RANK[previous]:
            item_levels[hit.item] = hit.level
    in_force = [h for h in hits if h.status in ("open", "refused")]
    level = _max_level(h.level for h in in_force)

    precautions: list[Precaution] = []
    blocks = [h for h in hits if h.level == "BLOCK"]
    refused = [h for h in hits if h.status == "refused"]
    if blocks or refused:
        standing = [h for h in blocks if h.status == "open"] + refused
        precautions.append(
            Precaution(
                code="safety_block",
                level=settings.precaution_level("safety_block"),
                status="open" if standing else "overridden",
                rule_id="R-TRI-01",
                subjects=tuple(h.rule_id for h in (standing or blocks)),
            )
        )
    reviews_hit = [h for h in hits if h.level == "PHYSICIAN_REVIEW" and h.status != "refused"]
    if reviews_hit:
        status: PrecautionStatus
        if any(h.status == "open" for h in reviews_hit):
            status = "open"
        elif any(h.status == "accepted_with_measures" for h in reviews_hit):
            status = "overridden"
        else:
            status = "resolved"
        precautions.append(
            Precaution(
                code="physician_review_safety",
                level=settings.precaution_level("physician_review_safety"),
                status=status,
                rule_id="R-TRI-17",
                subjects=tuple(h.rule_id for h in reviews_hit),
                actions=tuple(dict.fromkeys(a for h in reviews_hit for a in h.actions)),
            )
        )
    reasons: list[Reason] = []
    if missing:
        reasons.append(
            RULES["R-SAF-01"].reason(
                f"{RULES['R-SAF-01'].text_fr} Sans réponse : {', '.join(missing)}.",
                f"{RULES['R-SAF-01'].text_en} Unanswered: {', '.join(missing)}.",
                missing,
            )
        )
    return SafetyScreeningResult(
        hits=tuple(hits),
        item_levels=item_levels,
        level=level,
        complete=not missing,
        missing_items=missing,
        precautions=tuple(precautions),
        reasons=tuple(reasons),
        routes=tuple(routes),
        rejected_decisions=tuple(rejected),
        catalogue_version=catalogue.version,
    )


def _hit(
    rule: ScreeningRule,
    overrides: Mapping[str, ScreeningOverride],
    reviews: Mapping[str, ReviewDecision],
) -> ScreeningHit:
    status: HitStatus = "open"
    if rule.level == "BLOCK" and rule.id in overrides:
        status = "overridden"
    elif rule.level == "PHYSICIAN_REVIEW" and rule.id in reviews:
        decision = reviews[rule.id].decision
        status = "accepted" if decision == "accept" else (
            "accepted_with_measures" if decision == "accept_with_measures" else "refused"
        )
    elif rule.level == "INFO":
        # Recorded, no action (§3.1): nothing to decide, so nothing stays open.
        status = "recorded"
    return ScreeningHit(
        rule_id=rule.id,
        item=rule.item,
        level=rule.level,
        status=status,
        label_fr=rule.label_fr,
        message_fr=rule.message_fr,
        message_en=rule.message_en,
        sources=rule.sources,
        confidence=rule.confidence,
        actions=rule.actions,
    )


def _max_level(levels: Iterable[ScreeningLevel]) -> ScreeningLevel | None:
    best: ScreeningLevel | None = None
    for level in levels:
        if best is None or LEVEL_RANK[level] > LEVEL_RANK[best]:
            best = level
    return best


def screening_is_valid(screened_on: date, as_of: date, settings: ClinicalSettings) -> bool:
    """R-SAF-03: a screening holds for ``safety.screening_validity_days`` days (day 0 = the screening day)."""
    return 0 <= (as_of - screened_on).days <= settings.safety.screening_validity_days.value


def evaluate_checkin(
    answers: CheckinAnswers,
    *,
    session_date: date,
    catalogue: ScreeningCatalogue,
    drugs: DrugCatalogue,
    settings: ClinicalSettings,
) -> CheckinOutcome:
    """R-SAF-04 (and R-SAF-03 for changes that invalidate the screening) before a session.

    Status precedence: ``hold_for_physician`` (a physician must release the session) over
    ``pending_metal_removal`` (the nurse removes metal objects first) over ``ready``. Each item's
    effect comes from the catalogue's ``checkin_items``, so a centre can re-classify a question.
    MT re-check follows R-MT-03: a change of a listed drug, sleep deprivation or alcohol.
    """
    effects = {item.code: item for item in catalogue.checkin_items}
    hold = rescreen = mt_recheck = rerun = metal_pending = False
    triggers: list[str] = []
    reasons: list[Reason] = []

    def fire(code: str, fr: str, en: str) -> None:
        nonlocal hold, rescreen, metal_pending
        item = effects[code]
        triggers.append(code)
        if item.effect == "hold_for_physician":
            hold = True
            reasons.append(RULES["R-SAF-04"].reason(f"{fr} : {RULES['R-SAF-04'].text_fr}",
                                                    f"{en}: {RULES['R-SAF-04'].text_en}", (code,)))
        elif item.effect == "rescreen":
            hold = rescreen = True
            reasons.append(RULES["R-SAF-03"].reason(f"{fr} : {RULES['R-SAF-03'].text_fr}",
                                                    f"{en}: {RULES['R-SAF-03'].text_en}", (code,)))
        elif item.effect == "remove_metal":
            metal_pending = True
        # "record" and "medication_review" add nothing here: the first is kept on the session
        # sheet; the second is judged by §4 below.

    if answers.medication_changes:
        assessment = assess_medication_changes(
            answers.medication_changes, session_date=session_date, drugs=drugs, settings=settings
        )
        rerun = assessment.rerun_review
        mt_recheck = mt_recheck or assessment.mt_recheck
        reasons.extend(assessment.reasons)
        if assessment.hold:
            triggers.append("medication_changes")
            hold = True
            reasons.append(RULES["R-SAF-04"].reason(
                f"Changement de traitement signalé par la revue médicamenteuse : {RULES['R-SAF-04'].text_fr}",
                f"Medication change flagged by §4: {RULES['R-SAF-04'].text_en}",
                ("medication_changes",),
            ))
    if answers.sleep_deprivation:
        mt_recheck = True
        fire("sleep_deprivation", "Privation de sommeil", "Sleep deprivation")
    window = settings.checkin.substance_window_hours.value
    recent = [s for s in answers.substance_intake if 0 <= s.hours_ago <= window]
    if recent:
        mt_recheck = mt_recheck or any(s.substance == "alcohol" for s in recent)
        names = ", ".join(dict.fromkeys(s.substance for s in recent))
        fire("substance_intake", f"Consommation dans les {window} dernières heures ({names})",
             f"Intake within the last {window} hours ({names})")
    if answers.seizure_or_syncope:
        fire("seizure_or_syncope", "Crise ou syncope depuis la dernière séance",
             "Seizure or syncope since the last session")
    if answers.new_implant:
        fire("new_implant", "Nouvel implant", "New implant")
    if answers.possible_pregnancy:
        fire("possible_pregnancy", "Grossesse possible", "Possible pregnancy")
    if answers.adverse_events:
        fire("adverse_events", "Effets indésirables", "Adverse events")
    if not answers.metal_objects_removed:
        fire("metal_objects_removed", "Objets métalliques non retirés", "Metal objects not removed")

    status: CheckinStatus = "hold_for_physician" if hold else ("pending_metal_removal" if metal_pending else "ready")
    return CheckinOutcome(
        status=status,
        mt_recheck=mt_recheck,
        rescreen_required=rescreen,
        medication_review_rerun=rerun,
        reasons=tuple(reasons),
        triggers=tuple(dict.fromkeys(triggers)),
    )
