"""Protocol suggestions, R-PRO-01..06 (domain-rtms §2.5). Pure: the rankings are settings data.

A suggestion is advice: the physician chooses the protocol (§0.3). Each ranked protocol carries the
rule that put it where it is, so the screen can say why.
"""

from __future__ import annotations

import msgspec

from rtms_pathway.model.screening import Reason, RuleSpec
from rtms_pathway.model.triage import ProtocolSettings, ProtocolSuggestion

__all__ = ["RULES", "ProtocolContext", "suggest_protocols"]

_SECTION = "§2.5"

RULES: dict[str, RuleSpec] = {
    "R-PRO-01": RuleSpec(
        rule_id="R-PRO-01",
        section=_SECTION,
        sources=("LEFAUCHEUR20", "BLUMBERGER18"),
        confidence="verified",
        text_fr=(
            "Classement par défaut d'un épisode dépressif : haute fréquence du cortex préfrontal dorsolatéral "
            "gauche (niveau A), iTBS gauche (non inférieure au 10 Hz, séance de 3 minutes), TMS profonde par "
            "bobine H1 (niveau A), basse fréquence droite."
        ),
        text_en=(
            "Default ranking for a depressive episode: high-frequency left DLPFC (Level A), left iTBS (non-inferior "
            "to 10 Hz, 3-minute session), deep TMS with the H1 coil (Level A), low-frequency right."
        ),
    ),
    "R-PRO-02": RuleSpec(
        rule_id="R-PRO-02",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Comorbidité anxieuse : la stimulation basse fréquence du cortex préfrontal droit serait possiblement "
            "plus indiquée ; proposée en premier, la haute fréquence gauche en second."
        ),
        text_en=(
            "Anxious comorbidity: low-frequency right DLPFC is possibly more indicated; ranked first, HF left second."
        ),
    ),
    "R-PRO-03": RuleSpec(
        rule_id="R-PRO-03",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr="Trouble addictif : une stimulation à haute fréquence du cortex préfrontal gauche sera privilégiée.",
        text_en="Substance use disorder: high-frequency left DLPFC stimulation is preferred.",
    ),
    "R-PRO-04": RuleSpec(
        rule_id="R-PRO-04",
        section=_SECTION,
        sources=("SEED", "MILEV16"),
        confidence="verified",
        text_fr=(
            "Non-réponse à la haute fréquence gauche : proposer un autre protocole à haut niveau de preuve "
            "(stimulation bilatérale, puis basse fréquence droite) plutôt que de changer complètement d'approche."
        ),
        text_en=(
            "No response to HF left: switch to another high-evidence protocol (bilateral, then LF right) rather "
            "than abandon the approach."
        ),
    ),
    "R-PRO-05": RuleSpec(
        rule_id="R-PRO-05",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Réponse lors d'une cure antérieure : la rTMS demeure efficace lorsqu'elle est reproposée ; le "
            "protocole qui a été efficace est proposé en premier."
        ),
        text_en="Earlier response: rTMS remains effective when re-used; the protocol that worked is ranked first.",
    ),
    "R-PRO-06": RuleSpec(
        rule_id="R-PRO-06",
        section=_SECTION,
        sources=("COLE20", "COLE22"),
        confidence="design",
        text_fr=(
            "Protocole accéléré proposé uniquement parce que le centre déclare le ciblage par IRM fonctionnelle "
            "et la neuronavigation."
        ),
        text_en="Accelerated protocol suggested only because the site declares fcMRI targeting and neuronavigation.",
    ),
}


class ProtocolContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the triage found that bears on the ranking.

    ``prior_responses`` lists protocols of earlier courses that responded, most recent first;
    ``prior_nonresponses`` those of adequate earlier courses without response (R-TRI-15).
    """

    anxious: bool = False
    addiction: bool = False
    prior_responses: tuple[str, ...] = ()
    prior_nonresponses: tuple[str, ...] = ()
    post_ect_maintenance: bool = False
    site_capabilities: frozenset[str] = frozenset()


def suggest_protocols(
    context: ProtocolContext, settings: ProtocolSettings
) -> tuple[tuple[ProtocolSuggestion, ...], tuple[Reason, ...]]:
    """Rank the catalogue protocols for this patient (R-PRO-01..06, R-TRI-15, R-TRI-16).

    R-PRO-02..05 apply in ``protocol.rule_order``, so the last applicable one wins rank 1 when
    two disagree (anxiety and addiction both present, say). R-TRI-15 keeps a protocol that failed
    this patient out of rank 1 unless it also worked in another course.
    """
    ranking: list[tuple[str, str]] = [(pid, "R-PRO-01") for pid in settings.default_ranking.value]
    reasons: list[Reason] = [RULES["R-PRO-01"].reason()]

    def move_to(pid: str, position: int, rule_id: str) -> None:
        ranking[:] = [entry for entry in ranking if entry[0] != pid]
        ranking.insert(min(position, len(ranking)), (pid, rule_id))

    failed = set(context.prior_nonresponses)
    worked = set(context.prior_responses)
    hf_left = settings.hf_left_protocol.value
    for rule_id in settings.rule_order.value:
        if rule_id == "R-PRO-02" and context.anxious:
            for position, pid in enumerate(settings.anxious_head.value):
                move_to(pid, position, rule_id)
            reasons.append(RULES[rule_id].reason())
        elif rule_id == "R-PRO-03" and context.addiction:
            high_frequency = {settings.addiction_first.value}
            if settings.itbs_counts_as_high_frequency.value:
                high_frequency.add(settings.itbs_protocol.value)
            if ranking[0][0] not in high_frequency:
                move_to(settings.addiction_first.value, 0, rule_id)
            else:
                ranking[0] = (ranking[0][0], rule_id)
            reasons.append(RULES[rule_id].reason())
        elif rule_id == "R-PRO-04" and failed:
            if hf_left in failed:
                for position, pid in enumerate(settings.nonresponse_hf_left_head.value):
                    move_to(pid, position, rule_id)
                reasons.append(RULES[rule_id].reason(subjects=(hf_left,)))
            _demote_failed(ranking, failed, worked)
        elif rule_id == "R-PRO-05" and context.prior_responses:
            for pid in reversed(context.prior_responses):
                move_to(pid, 0, rule_id)
            reasons.append(RULES[rule_id].reason(subjects=context.prior_responses[:1]))
    if failed:
        _demote_failed(ranking, failed, worked)
    if context.post_ect_maintenance:
        # R-TRI-16: the ECT response is to be maintained, so the maintenance protocol leads.
        move_to(settings.post_ect_maintenance_protocol.value, 0, "R-TRI-16")
    accelerated = settings.accelerated_protocol.value
    if set(settings.accelerated_requires_capabilities.value) <= context.site_capabilities:
        if all(pid != accelerated for pid, _ in ranking):
            ranking.append((accelerated, "R-PRO-06"))
            reasons.append(RULES["R-PRO-06"].reason())
    else:
        ranking[:] = [entry for entry in ranking if entry[0] != accelerated]
    suggestions = tuple(
        ProtocolSuggestion(protocol_id=pid, rank=rank, rule_id=rule_id)
        for rank, (pid, rule_id) in enumerate(ranking, start=1)
    )
    return suggestions, tuple(reasons)


def _demote_failed(ranking: list[tuple[str, str]], failed: set[str], worked: set[str]) -> None:
    """R-TRI-15: a protocol without response is excluded from rank 1 (moved to the end)."""
    for _ in range(len(ranking)):
        pid = ranking[0][0]
        if pid not in failed or pid in worked:
            return
        ranking.append((ranking.pop(0)[0], "R-TRI-15"))
