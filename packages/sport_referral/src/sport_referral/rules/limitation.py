"""Functional limitation level and who may supervise (domain-sport §3, rules L-1 to L-8).

L-1/L-5 are hard legal rules [verified]: one ticked criterion of annex 11-7-2 CSP makes the level
``severe`` (D.1172-3 CSP), and at that level only the three category-1° health professions may
supervise; clubs, venues and routes are never candidates. The supervision matrix of the other
levels and the L-7 condition are reference data, partly [to verify].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared_core.errors import FieldError, ValidationFailed
from sport_referral.model import Reason, cite
from sport_referral.model.eligibility import (
    LimitationAssessment,
    LimitationCatalogue,
    SupervisionFit,
    WalkingSuggestion,
)
from sport_referral.model.structures import (
    CATEGORY_1_PROFESSIONS,
    LIMITATION_LEVELS,
    NEVER_SEVERE_KINDS,
    PROFESSIONS,
    LimitationLevel,
    Profession,
    Structure,
)
from sport_referral.rules.supervision import SupervisionMatrix, allowed_professions

__all__ = [
    "assess_limitation",
    "check_complementary_referral",
    "check_level_change",
    "level_rank",
    "structures_failing_new_level",
    "suggest_walking_item",
    "supervision_fit",
]

SRC_ANNEX = "Annexe 11-7-2 CSP; art. D.1172-3 CSP"
SRC_D1172_3 = "Art. D.1172-3 CSP"
SRC_L7 = "Instruction DGS/EA3/DGESIP/DS/SG/2017/81, annexe 4 [à vérifier / to verify]"

_KIND_FR = {
    "mss": "Maison Sport-Santé",
    "esms": "établissement ou service médico-social",
    "club": "club",
    "venue": "équipement sportif",
    "apa_practice": "cabinet APA ou de kinésithérapie",
    "trail": "parcours de pleine nature",
}
_PROFESSION_FR = {
    "physiotherapist": "masseur-kinésithérapeute",
    "occupational_therapist": "ergothérapeute",
    "psychomotor_therapist": "psychomotricien",
    "apa_teacher": "enseignant en APA",
    "sport_educator": "éducateur sportif",
    "federal_certified": "titulaire d'une certification fédérale",
}


def level_rank(level: str) -> int:
    """0 (none) to 3 (severe)."""
    return LIMITATION_LEVELS.index(level)


def assess_limitation(
    ticked: Iterable[str],
    chosen: LimitationLevel | None,
    catalogue: LimitationCatalogue,
) -> LimitationAssessment:
    """L-1 and L-2: the level from the checklist and the physician's explicit choice.

    - A counted item makes the level ``severe`` (L-1); choosing a lower level while it stays
      ticked is refused. Vision items 9-10 count per ``cfg:limitation.vision_parts_rule``
      (``any``: either part; ``all``: both parts needed).
    - No counted item: the physician must pick ``none``, ``minimal`` or ``moderate`` (L-2, no
      default); ``severe`` without any criterion is refused.

    Raises ValidationFailed listing every problem. ``severe_criteria`` of the result is clinical
    data (L-4): it must never reach a coordinator.
    """
    ticked_list = list(ticked)
    errors: list[FieldError] = []
    known: list[str] = []
    for index, code in enumerate(ticked_list):
        if catalogue.criterion(code) is None:
            errors.append(FieldError(f"severe_criteria[{index}]", f"unknown checklist item {code!r}"))
        elif code not in known:
            known.append(code)
    ordered = [item.code for item in catalogue.criteria if item.code in known]
    vision = [item.code for item in catalogue.criteria if item.vision_part is not None]
    ticked_vision = [code for code in ordered if code in vision]
    warnings: list[Reason] = []
    if catalogue.vision_parts_rule == "all" and 0 < len(ticked_vision) < len(vision):
        counted = [code for code in ordered if code not in vision]
        warnings.append(
            Reason(
                rule="L-1",
                code="l1_vision_part_not_sufficient",
                source=cite(catalogue.provenance, "vision_parts_rule", SRC_ANNEX),
                text_fr="Une seule des deux parties du critère « capacité visuelle » est cochée ; avec la règle « all "
                "», "
                "elle ne suffit pas à classer la limitation comme sévère.",
                text_en="Only one of the two vision parts is ticked; under the 'all' rule it does not make the level "
                "severe.",
                kind="warning",
            )
        )
    else:
        counted = list(ordered)

    reasons: list[Reason] = []
    if counted:
        level: LimitationLevel = "severe"
        labels_fr = "; ".join(f"{c.number}. {c.label_fr}" for c in catalogue.criteria if c.code in counted)
        labels_en = "; ".join(f"{c.number}. {c.label_en}" for c in catalogue.criteria if c.code in counted)
        reasons.append(
            Reason(
                rule="L-1",
                code="l1_severe",
                source=SRC_ANNEX,
                text_fr=f"Limitation sévère : au moins un critère de l'annexe 11-7-2 est présent ({labels_fr}).",
                text_en=f"Severe limitation: at least one criterion of annex 11-7-2 is met ({labels_en}).",
                kind="pass",
            )
        )
        if "cereb_anxiety_depression" in counted:
            reasons.append(
                Reason(
                    rule="E-9",
                    code="e9_severe_anxiety_depression",
                    source=SRC_ANNEX,
                    text_fr="Manifestations sévères d'anxiété et/ou de dépression (critère 8) : niveau sévère, "
                    "orientation selon L-5 (professionnels de santé uniquement).",
                    text_en="Severe anxiety and/or depression (criterion 8): severe level, routed per L-5 "
                    "(health professionals only).",
                    kind="info",
                )
            )
        if chosen is not None and chosen != "severe":
            errors.append(
                FieldError(
                    "limitation_level",
                    "L-1: a severe criterion is ticked, the level is 'severe' and cannot be lowered while it stays "
                    "ticked / un critère de sévérité est coché : le niveau ne peut pas être abaissé",
                )
            )
    elif chosen is None:
        errors.append(
            FieldError(
                "limitation_level",
                "L-2: choose none, minimal or moderate explicitly (no default) / choix explicite requis",
            )
        )
        level = "none"
    elif chosen == "severe":
        errors.append(
            FieldError(
                "severe_criteria",
                "L-1: 'severe' is defined by annex 11-7-2 CSP; tick the criterion that applies / "
                "cochez le critère de l'annexe 11-7-2 qui justifie le niveau sévère",
            )
        )
        level = "severe"
    else:
        level = chosen
        definition = catalogue.level(chosen)
        reasons.append(
            Reason(
                rule="L-2",
                code=f"l2_{chosen}",
                source=cite(
                    catalogue.provenance, f"limitation_levels.{chosen}", definition.source if definition else SRC_ANNEX
                ),
                text_fr=f"Niveau choisi par le médecin : {definition.label_fr if definition else chosen}"
                + (f" ({definition.definition_fr})." if definition else "."),
                text_en=f"Level chosen by the physician: {definition.label_en if definition else chosen}"
                + (f" ({definition.definition_en})." if definition else "."),
                kind="pass",
            )
        )
    if errors:
        raise ValidationFailed(errors, "Limitation level is inconsistent")
    return LimitationAssessment(
        level=level, severe_criteria=ordered, counted_criteria=counted, reasons=reasons, warnings=warnings
    )


def suggest_walking_item(
    max_walking_distance_m: float | None,
    six_minute_walk_m: float | None,
    catalogue: LimitationCatalogue,
) -> WalkingSuggestion:
    """L-3: a recorded maximal walking distance below the threshold (150 m) suggests item 5; a
    6-minute walk result below it may also trigger the suggestion, with a note that it is not the
    same measure. The item is never ticked here: the physician confirms."""
    threshold = catalogue.walking_threshold_m
    source = cite(catalogue.provenance, "walking_threshold_m", SRC_ANNEX)
    if max_walking_distance_m is not None and max_walking_distance_m < threshold:
        return WalkingSuggestion(
            suggest_item="loco_walking",
            reasons=[
                Reason(
                    rule="L-3",
                    code="l3_suggest_walking_item",
                    source=source,
                    text_fr=f"Périmètre de marche maximal relevé de {max_walking_distance_m:g} m (< {threshold} m) : "
                    "le critère 5 « marche » est suggéré ; le médecin confirme.",
                    text_en=f"Recorded maximal walking distance {max_walking_distance_m:g} m (< {threshold} m): item 5 "
                    "'walking' is suggested; the physician confirms.",
                    kind="info",
                )
            ],
        )
    if six_minute_walk_m is not None and six_minute_walk_m < threshold:
        return WalkingSuggestion(
            suggest_item="loco_walking",
            reasons=[
                Reason(
                    rule="L-3",
                    code="l3_suggest_walking_item_from_6mwt",
                    source=source,
                    text_fr=f"Test de marche de 6 minutes : {six_minute_walk_m:g} m. Ce n'est pas le périmètre de "
                    "marche ; "
                    "le critère 5 est seulement suggéré, à vérifier par le médecin.",
                    text_en=f"6-minute walk test: {six_minute_walk_m:g} m. This is not the walking distance; item 5 "
                    "is only "
                    "suggested, for the physician to check.",
                    kind="info",
                )
            ],
        )
    return WalkingSuggestion(suggest_item=None, reasons=[])


def _first(professions: Iterable[str]) -> str:
    return sorted(professions)[0]


def _in_order(professions: Iterable[str]) -> list[Profession]:
    chosen = set(professions)
    return [p for p in PROFESSIONS if p in chosen]


def supervision_fit(
    level: LimitationLevel,
    structure: Structure,
    matrix: SupervisionMatrix,
    *,
    moderate_conditional: bool = True,
) -> SupervisionFit:
    """M-1 with L-5 and L-7: may this structure's declared staff supervise at ``level``?

    - ``severe`` (L-5, [verified] D.1172-3): kinds club, venue, trail never pass; others pass only
      when they declare a physiotherapist, occupational therapist or psychomotor therapist.
    - other levels: at least one declared profession allowed by ``cfg:supervision.matrix``;
      at ``moderate`` a conditional profession (sport educator) counts only with
      ``sport_health_qualification`` or ``multidisciplinary_team`` (L-7, ``moderate_conditional``).
    - no declared profession: passes only at none/minimal, flagged ``supervision_not_declared``.

    The code names one qualifying profession (the first in alphabetical order).
    """
    kind = structure.kind
    declared = set(structure.professions)
    if level == "severe":
        if kind in NEVER_SEVERE_KINDS:
            return SupervisionFit(
                ok=False,
                matched_professions=[],
                flags=[],
                code=f"m1_severe_kind_excluded:{kind}",
                reason=Reason(
                    rule="L-5",
                    code=f"m1_severe_kind_excluded:{kind}",
                    source=SRC_D1172_3,
                    text_fr=f"Limitation sévère : un {_KIND_FR[kind]} n'est jamais proposé, quel que soit son "
                    "personnel ; "
                    "seuls des professionnels de santé (kinésithérapeute, ergothérapeute, psychomotricien) "
                    "peuvent dispenser l'APA.",
                    text_en=f"Severe limitation: a {kind} is never a candidate, whatever its staff; only "
                    "physiotherapists, "
                    "occupational therapists and psychomotor therapists may deliver APA.",
                    kind="fail",
                ),
            )
        matched = declared & CATEGORY_1_PROFESSIONS
        if not matched:
            return SupervisionFit(
                ok=False,
                matched_professions=[],
                flags=[],
                code="m1_severe_no_health_professional",
                reason=Reason(
                    rule="L-5",
                    code="m1_severe_no_health_professional",
                    source=SRC_D1172_3,
                    text_fr="Limitation sévère : la structure ne déclare ni kinésithérapeute, ni ergothérapeute, "
                    "ni psychomotricien.",
                    text_en="Severe limitation: the structure declares no physiotherapist, occupational therapist or "
                    "psychomotor therapist.",
                    kind="fail",
                ),
            )
        named = _first(matched)
        return SupervisionFit(
            ok=True,
            matched_professions=_in_order(matched),
            flags=[],
            code=f"m1_supervision_ok:{named}",
            reason=Reason(
                rule="L-5",
                code=f"m1_supervision_ok:{named}",
                source=SRC_D1172_3,
                text_fr=f"Limitation sévère : encadrement par un professionnel de santé ({_PROFESSION_FR[named]}).",
                text_en=f"Severe limitation: supervision by a health professional ({named}).",
                kind="pass",
            ),
        )

    answer = allowed_professions(level, matrix)
    conditional = set(answer.conditional_professions) if (level == "moderate" and moderate_conditional) else set()
    unconditional = set(answer.allowed_professions) - conditional
    source = f"Art. D.1172-2 CSP; cfg:supervision.matrix ({answer.source})"
    if not declared:
        if level in ("none", "minimal"):
            return SupervisionFit(
                ok=True,
                matched_professions=[],
                flags=["supervision_not_declared"],
                code="m1_supervision_not_declared",
                reason=Reason(
                    rule="M-1",
                    code="m1_supervision_not_declared",
                    source=source,
                    text_fr="Aucun encadrant déclaré : lieu de pratique possible sans limitation ou avec limitations "
                    "minimes.",
                    text_en="No supervisor declared: acceptable as a practice place at none or minimal level.",
                    kind="warning",
                ),
            )
        return SupervisionFit(
            ok=False,
            matched_professions=[],
            flags=[],
            code="m1_supervision_not_declared",
            reason=Reason(
                rule="M-1",
                code="m1_supervision_not_declared",
                source=source,
                text_fr="Aucun encadrant déclaré : exclu pour une limitation modérée.",
                text_en="No supervisor declared: excluded at the moderate level.",
                kind="fail",
            ),
        )
    matched_plain = declared & unconditional
    qualified = bool(structure.sport_health_qualification) or bool(structure.multidisciplinary_team)
    matched_conditional = (declared & conditional) if qualified else set()
    matched_all = matched_plain | matched_conditional
    if not matched_all:
        if declared & conditional:
            return SupervisionFit(
                ok=False,
                matched_professions=[],
                flags=[],
                code="m1_l7_condition_not_met:sport_educator",
                reason=Reason(
                    rule="L-7",
                    code="m1_l7_condition_not_met:sport_educator",
                    source=SRC_L7,
                    text_fr="Limitation modérée : un éducateur sportif n'est retenu qu'avec une qualification "
                    "sport-santé "
                    "ou au sein d'une équipe pluridisciplinaire, non déclarées ici.",
                    text_en="Moderate limitation: a sport educator counts only with a sport-health qualification or a "
                    "multidisciplinary team, neither declared here.",
                    kind="fail",
                ),
            )
        return SupervisionFit(
            ok=False,
            matched_professions=[],
            flags=[],
            code="m1_no_allowed_profession",
            reason=Reason(
                rule="M-1",
                code="m1_no_allowed_profession",
                source=source,
                text_fr="Aucun encadrant déclaré n'est autorisé pour ce niveau de limitation.",
                text_en="No declared supervisor is allowed at this limitation level.",
                kind="fail",
            ),
        )
    named = _first(matched_plain) if matched_plain else _first(matched_conditional)
    rule = "L-7" if not matched_plain else "M-1"
    return SupervisionFit(
        ok=True,
        matched_professions=_in_order(matched_all),
        flags=[],
        code=f"m1_supervision_ok:{named}",
        reason=Reason(
            rule=rule,
            code=f"m1_supervision_ok:{named}",
            source=SRC_L7 if rule == "L-7" else source,
            text_fr=f"Encadrement autorisé à ce niveau : {_PROFESSION_FR[named]}"
            + (" (qualification sport-santé ou équipe pluridisciplinaire)." if rule == "L-7" else "."),
            text_en=f"Supervision allowed at this level: {named}"
            + (" (sport-health qualification or multidisciplinary team)." if rule == "L-7" else "."),
            kind="pass",
        ),
    )


def check_complementary_referral(
    *,
    primary_level: LimitationLevel,
    primary_structure: Structure,
    complement_structure: Structure,
    improved_autonomy_recorded: bool,
    assessed_by: Profession | None,
    primary_referral_id: str | None,
) -> list[Reason]:
    """L-6 [verified, D.1172-3]: at ``severe``, an APA teacher may be added *in complement* once a
    category-1° professional's assessment records improved autonomy. The complementary referral
    links to the primary one (``complements_referral_id``), which stays with a category-1° structure.

    Returns the reasons when allowed; raises ValidationFailed listing every unmet condition.
    """
    errors: list[FieldError] = []
    if primary_level != "severe":
        errors.append(FieldError("limitation_level", "L-6 applies to the severe level only; use M-1 otherwise"))
    if not primary_referral_id:
        errors.append(FieldError("complements_referral_id", "a complementary referral links to the primary referral"))
    if not improved_autonomy_recorded:
        errors.append(
            FieldError(
                "improved_autonomy_recorded",
                "a later assessment must record improved autonomy / amélioration de l'autonomie requise",
            )
        )
    if assessed_by not in CATEGORY_1_PROFESSIONS:
        errors.append(
            FieldError(
                "assessed_by",
                "the assessment must be by a physiotherapist, occupational therapist "
                "or psychomotor therapist (category 1°)",
            )
        )
    if primary_structure.kind in NEVER_SEVERE_KINDS or not (
        set(primary_structure.professions) & CATEGORY_1_PROFESSIONS
    ):
        errors.append(
            FieldError("primary_structure", "the primary referral must stay with a category-1° structure (L-5)")
        )
    if complement_structure.kind in NEVER_SEVERE_KINDS:
        errors.append(
            FieldError(
                "complement_structure", f"a {complement_structure.kind} is never a candidate at the severe level (L-5)"
            )
        )
    if "apa_teacher" not in complement_structure.professions:
        errors.append(FieldError("complement_structure", "the complementary performer is an APA teacher (apa_teacher)"))
    if errors:
        raise ValidationFailed(errors, "Complementary referral refused (L-6)")
    return [
        Reason(
            rule="L-6",
            code="l6_complement_allowed",
            source=SRC_D1172_3,
            text_fr="Autonomie améliorée selon le bilan d'un professionnel de santé : un enseignant en APA peut "
            "intervenir "
            "en complément ; l'orientation principale reste auprès du professionnel de santé.",
            text_en="Improved autonomy per a health professional's assessment: an APA teacher may act in complement; "
            "the "
            "primary referral stays with the health professional.",
            kind="pass",
        )
    ]


def check_level_change(old: LimitationLevel, new: LimitationLevel, *, new_assessment_signed: bool) -> list[Reason]:
    """L-8: lowering the level needs a new assessment signed by the physician; open referrals are
    then re-checked against M-1 (see :func:`structures_failing_new_level`)."""
    if level_rank(new) < level_rank(old) and not new_assessment_signed:
        raise ValidationFailed(
            [
                FieldError(
                    "limitation_level",
                    "L-8: the level goes down only through a new assessment signed by the physician / "
                    "un nouveau bilan signé par le médecin est nécessaire",
                )
            ]
        )
    if new == old:
        return []
    return [
        Reason(
            rule="L-8",
            code="l8_recheck_open_referrals",
            source="domain-sport L-8; M-1",
            text_fr="Niveau de limitation modifié : les orientations en cours sont revérifiées (encadrement autorisé).",
            text_en="Limitation level changed: open referrals are re-checked against M-1.",
            kind="info",
        )
    ]


def structures_failing_new_level(
    new_level: LimitationLevel,
    structures: Sequence[Structure],
    matrix: SupervisionMatrix,
    *,
    moderate_conditional: bool = True,
) -> list[str]:
    """L-8: ids of the structures of open referrals that no longer pass M-1 at ``new_level``."""
    return [
        s.structure_id
        for s in structures
        if not supervision_fit(new_level, s, matrix, moderate_conditional=moderate_conditional).ok
    ]
