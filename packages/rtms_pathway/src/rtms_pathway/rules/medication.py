"""Medication review, R-MED-01..07 (domain-rtms §4.4). Pure: the drug table, the settings and the
reference date are arguments; nothing here reads a file or the clock.

SEED's framing drives the wording: excitability-raising drugs (antipsychotics, clozapine above all,
tricyclics, alcohol) "ne contre-indiquent en rien la rTMS" but call for adapted protocols and
closer monitoring; a recent decrease or stop of an excitability-lowering drug raises the same
problem; benzodiazepines may reduce efficacy; anticonvulsants may push the needed output beyond
the device limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import msgspec

from rtms_pathway.model.medication import (
    DrugCatalogue,
    DrugFinding,
    MedicationEntry,
    MedicationReviewResult,
)
from rtms_pathway.model.screening import CheckinMedicationChange, Precaution, Reason, RuleSpec
from rtms_pathway.model.triage import ClinicalSettings
from shared_core.text import fold

__all__ = [
    "PRECAUTION_CODES",
    "RULES",
    "MedicationChangeAssessment",
    "assess_medication_changes",
    "lookup_drug",
    "review_medications",
]

_SECTION = "§4.4"

RULES: dict[str, RuleSpec] = {
    "R-MED-01": RuleSpec(
        rule_id="R-MED-01",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Molécule abaissant fortement le seuil épileptogène : elle ne contre-indique pas la rTMS, mais "
            "demande une adaptation du protocole et une surveillance accrue (adaptation plus fréquente de "
            "l'intensité de stimulation) ; accord du médecin de neuromodulation avant la première séance."
        ),
        text_en=(
            "Strong seizure-threshold-lowering drug: not a contraindication, but protocols may be adapted and "
            "monitoring increased (more frequent intensity adjustment); physician sign-off before session 1."
        ),
    ),
    "R-MED-02": RuleSpec(
        rule_id="R-MED-02",
        section=_SECTION,
        sources=("ROSSI09",),
        confidence="to_verify",
        text_fr=(
            "Molécule à risque relatif d'abaissement du seuil épileptogène : signalée dans la revue, sans "
            "changement du circuit (catégorie à vérifier)."
        ),
        text_en="Relative seizure-threshold hazard: listed in the review, no workflow change (category to verify).",
    ),
    "R-MED-03": RuleSpec(
        rule_id="R-MED-03",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Diminution ou arrêt récent d'une molécule qui diminuait l'excitabilité corticale : le problème est "
            "le même que l'introduction d'une molécule qui l'augmente. Séance suivante suspendue jusqu'à l'avis "
            "du médecin, avec recontrôle du seuil moteur."
        ),
        text_en=(
            "Recent decrease or stop of an excitability-lowering drug raises the same problem as starting an "
            "excitability-raising one: hold the next session for physician review and an MT re-check."
        ),
    ),
    "R-MED-04": RuleSpec(
        rule_id="R-MED-04",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Benzodiazépine : plusieurs études suggèrent une diminution de l'efficacité de la rTMS (données "
            "discordantes). Si elle ne peut être arrêtée, la modifier comme pour une ECT : molécule de demi-vie "
            "courte et suspension de la prise précédant la séance (avis d'expert)."
        ),
        text_en=(
            "Benzodiazepine: several studies suggest reduced rTMS efficacy (evidence conflicts). If it cannot be "
            "stopped, adapt it as for ECT: short half-life molecule, skip the dose before the session (expert advice)."
        ),
    ),
    "R-MED-05": RuleSpec(
        rule_id="R-MED-05",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr=(
            "Anticonvulsivant ou benzodiazépine : la puissance de stimulation nécessaire peut augmenter, "
            "dépassant parfois les limites de l'appareil ; vérifier le maximum de l'appareil à chaque mesure "
            "du seuil moteur."
        ),
        text_en=(
            "Anticonvulsant or benzodiazepine: a higher output may be needed, sometimes beyond the device limits; "
            "check the device maximum at every MT."
        ),
    ),
    "R-MED-06": RuleSpec(
        rule_id="R-MED-06",
        section=_SECTION,
        sources=("SEED",),
        confidence="verified",
        text_fr="Neuroleptique : pourrait limiter l'effet de la rTMS dans les troubles de l'humeur.",
        text_en="Antipsychotic: may limit the effect of rTMS in mood disorders.",
    ),
    "R-MED-07": RuleSpec(
        rule_id="R-MED-07",
        section=_SECTION,
        sources=("SEED",),
        confidence="design",
        text_fr=(
            "Nouveau traitement signalé au questionnaire de séance : revue médicamenteuse relancée ; séance "
            "suspendue jusqu'à l'avis du médecin si le risque épileptogène est fort."
        ),
        text_en="New drug reported at check-in: medication review re-run; session held if the hazard is strong.",
    ),
    # Not a numbered rule of §4.4: a drug the table does not know cannot be judged, so the
    # review says so rather than staying silent (§4.1: pharmacist review recommended).
    "MED-UNLISTED": RuleSpec(
        rule_id="MED-UNLISTED",
        section="§4.1",
        sources=(),
        confidence="design",
        text_fr=(
            "Molécule absente de la table : effet sur le seuil épileptogène inconnu, vérification par le pharmacien."
        ),
        text_en="Drug not in the table: effect on the seizure threshold unknown; pharmacist check.",
    ),
}

# Every precaution code this module can raise; the loader checks the settings define them all.
PRECAUTION_CODES: tuple[str, ...] = (
    "seizure_threshold_medication",
    "seizure_threshold_medication_relative",
    "benzodiazepine_reduces_efficacy",
    "mt_raising_medication",
    "neuroleptic_efficacy",
)


def lookup_drug(name: str, drugs: DrugCatalogue) -> DrugFinding:
    """What the table says about ``name`` (INN or alias, any case or accents), as a current drug."""
    return _finding(MedicationEntry(inn=name), drugs)


def _finding(entry: MedicationEntry, drugs: DrugCatalogue) -> DrugFinding:
    found = drugs.lookup(fold(entry.inn))
    if found is None:
        return DrugFinding(name=entry.inn, inn=None, known=False, status=entry.status)
    inn, drug = found
    klass = drugs.classes[drug.drug_class]
    return DrugFinding(
        name=entry.inn,
        inn=inn,
        known=True,
        status=entry.status,
        drug_class=drug.drug_class,
        seizure_threshold_lowering=drug.seizure_threshold_lowering.value,
        mt_raising=drug.mt_raising.value,
        efficacy_effect=drug.efficacy_effect.value,
        withdrawal_lowers_threshold=drug.withdrawal_lowers_threshold.value,
        actions=drug.actions,
        mood_stabilizer=drug.mood_stabilizer,
        antiepileptic=klass.antiepileptic,
        benzodiazepine=klass.benzodiazepine,
        antipsychotic=klass.antipsychotic,
        route=klass.route,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _names(subjects: Sequence[str]) -> str:
    return ", ".join(subjects)


def _about(text: str, subjects: Sequence[str], separator: str) -> str:
    """Name the drugs inside the rule's text: "Benzodiazépine (lorazepam) : plusieurs études…"."""
    head, found, tail = text.partition(separator)
    if not found:
        return f"{text} ({_names(subjects)})"
    return f"{head} ({_names(subjects)}){separator}{tail}"


def _lowers_on_decrease(finding: DrugFinding) -> bool:
    # R-MED-03 targets drugs that damp excitability: lowering them raises seizure risk.
    return finding.mt_raising == "yes" or finding.withdrawal_lowers_threshold


def _recent(on: date, as_of: date, days: int) -> int | None:
    """Days since ``on`` when 0 <= days <= the window, else None.

    A change dated after ``as_of`` is a plan, not an event: it is judged when it happens (at the
    check-in of that session), so it does not fire now.
    """
    elapsed = (as_of - on).days
    return elapsed if 0 <= elapsed <= days else None


def review_medications(
    entries: Sequence[MedicationEntry],
    *,
    drugs: DrugCatalogue,
    settings: ClinicalSettings,
    as_of: date | None = None,
) -> MedicationReviewResult:
    """R-MED-01..06 over the medication list (§4.4).

    ``as_of`` is the date R-MED-03's window is counted back from (the review or next session
    date); it is required as soon as an entry carries a dose change.
    """
    if as_of is None and any(entry.changes for entry in entries):
        raise ValueError("as_of is required to judge dose changes (R-MED-03)")
    findings = tuple(_finding(entry, drugs) for entry in entries)
    current = [f for f in findings if f.known and f.status == "current"]
    pharma = [f for f in current if f.route == "medication"]
    precautions: list[Precaution] = []
    reasons: list[Reason] = []

    def add(code: str, rule_id: str, subjects: tuple[str, ...], actions: tuple[str, ...]) -> None:
        precautions.append(
            Precaution(
                code=code,
                level=settings.precaution_level(code),
                status="open",
                rule_id=rule_id,
                subjects=subjects,
                actions=actions,
            )
        )

    strong = _unique(f.inn or f.name for f in pharma if f.seizure_threshold_lowering == "strong")
    if strong:
        add("seizure_threshold_medication", "R-MED-01", strong, ("A1", "A2"))
        interval = settings.mt.high_risk_interval_days.value
        reasons.append(
            RULES["R-MED-01"].reason(
                _about(RULES["R-MED-01"].text_fr, strong, " : ") + f" Seuil moteur tous les {interval} jours au plus "
                "et à la séance suivante ; ne pas introduire d'autre molécule de ce type sans avis.",
                _about(RULES["R-MED-01"].text_en, strong, ": ") + f" MT at least every {interval} days and at the "
                "next session.",
                strong,
            )
        )
    substances = _unique(f.inn or f.name for f in current if f.route == "substance_use")
    if substances:
        # §4.4 design note: alcohol and illicit drugs are handled by R-TRI-10, not duplicated here.
        reasons.append(
            RULES["R-MED-01"].reason(
                f"{_names(substances)} : consommation à renseigner dans les conduites addictives (R-TRI-10), "
                "pas comme traitement.",
                f"{_names(substances)}: record under substance use (R-TRI-10), not as a medication.",
                substances,
            )
        )

    relative = _unique(f.inn or f.name for f in pharma if f.seizure_threshold_lowering == "relative")
    if relative:
        combo = settings.medication.relative_combo_signoff.value and len(relative) >= (
            settings.medication.relative_combo_min_count.value
        )
        add("seizure_threshold_medication_relative", "R-MED-02", relative, ("A3", "A1") if combo else ("A3",))
        text_fr = _about(RULES["R-MED-02"].text_fr, relative, " : ")
        text_en = _about(RULES["R-MED-02"].text_en, relative, ": ")
        if combo:
            text_fr += (
                f" Association d'au moins {settings.medication.relative_combo_min_count.value} molécules à risque "
                "relatif : accord du médecin de neuromodulation avant la première séance (réglage à valider)."
            )
            text_en += (
                f" At least {settings.medication.relative_combo_min_count.value} relative-hazard drugs: "
                "physician sign-off before session 1 (setting to verify)."
            )
        reasons.append(RULES["R-MED-02"].reason(text_fr, text_en, relative))

    benzodiazepines = _unique(f.inn or f.name for f in pharma if f.benzodiazepine)
    if benzodiazepines:
        add("benzodiazepine_reduces_efficacy", "R-MED-04", benzodiazepines, ("A4",))
        reasons.append(
            RULES["R-MED-04"].reason(
                _about(RULES["R-MED-04"].text_fr, benzodiazepines, " : "),
                _about(RULES["R-MED-04"].text_en, benzodiazepines, ": "),
                benzodiazepines,
            )
        )

    raising = _unique(f.inn or f.name for f in pharma if f.mt_raising == "yes")
    if raising:
        add("mt_raising_medication", "R-MED-05", raising, ("A5",))
        reasons.append(
            RULES["R-MED-05"].reason(
                _about(RULES["R-MED-05"].text_fr, raising, " : "),
                _about(RULES["R-MED-05"].text_en, raising, ": "),
                raising,
            )
        )

    antipsychotics = _unique(f.inn or f.name for f in pharma if f.antipsychotic)
    if antipsychotics:
        add("neuroleptic_efficacy", "R-MED-06", antipsychotics, ("A7",))
        reasons.append(
            RULES["R-MED-06"].reason(
                _about(RULES["R-MED-06"].text_fr, antipsychotics, " : "),
                _about(RULES["R-MED-06"].text_en, antipsychotics, ": "),
                antipsychotics,
            )
        )

    hold = False
    if as_of is not None:
        window = settings.medication.recent_change_days.value
        for entry, finding in zip(entries, findings, strict=True):
            if not (finding.known and _lowers_on_decrease(finding)):
                continue
            for change in entry.changes:
                if change.kind not in ("decreased", "stopped"):
                    continue
                elapsed = _recent(change.on, as_of, window)
                if elapsed is None:
                    continue
                hold = True
                reasons.append(_decrease_reason(finding, change.kind, elapsed, window))

    unknown = _unique(f.name for f in findings if not f.known)
    if unknown:
        reasons.append(
            RULES["MED-UNLISTED"].reason(
                _about(RULES["MED-UNLISTED"].text_fr, unknown, " : "),
                _about(RULES["MED-UNLISTED"].text_en, unknown, ": "),
                unknown,
            )
        )
    return MedicationReviewResult(
        findings=findings,
        precautions=tuple(precautions),
        reasons=tuple(reasons),
        hold_next_session=hold,
        mt_recheck=hold,
        unknown_drugs=unknown,
        catalogue_version=drugs.version,
    )


def _decrease_reason(finding: DrugFinding, kind: str, elapsed: int, window: int) -> Reason:
    name = finding.inn or finding.name
    verb_fr = "arrêtée" if kind == "stopped" else "diminuée"
    verb_en = "stopped" if kind == "stopped" else "decreased"
    return RULES["R-MED-03"].reason(
        f"{name} {verb_fr} il y a {elapsed} jour(s) (fenêtre de {window} jours) : {RULES['R-MED-03'].text_fr}",
        f"{name} {verb_en} {elapsed} day(s) ago (window {window} days): {RULES['R-MED-03'].text_en}",
        (name,),
    )


class MedicationChangeAssessment(msgspec.Struct, frozen=True):
    """What the check-in's medication answers mean for the session (R-MED-03, R-MED-07, R-SAF-04)."""

    hold: bool
    mt_recheck: bool
    rerun_review: bool
    reasons: tuple[Reason, ...]


def assess_medication_changes(
    changes: Sequence[CheckinMedicationChange],
    *,
    session_date: date,
    drugs: DrugCatalogue,
    settings: ClinicalSettings,
) -> MedicationChangeAssessment:
    """Check-in medication changes: hold when §4 flags them (R-SAF-04's "medication change flagged by §4").

    - decrease or stop of an MT-raising or withdrawal-sensitive drug within the window: R-MED-03,
      hold and MT re-check;
    - start of a strong-hazard drug: R-MED-07, hold (A1: sign-off before the next session);
    - any change of a drug the table lists: MT re-check (R-MT-03) and a re-run of the review;
    - a drug the table does not list: re-run of the review (pharmacist), no hold by itself.
    """
    hold = mt_recheck = rerun = False
    reasons: list[Reason] = []
    window = settings.medication.recent_change_days.value
    for change in changes:
        finding = _finding(MedicationEntry(inn=change.inn), drugs)
        rerun = True
        if not finding.known:
            reasons.append(
                RULES["MED-UNLISTED"].reason(
                    _about(RULES["MED-UNLISTED"].text_fr, (change.inn,), " : "),
                    _about(RULES["MED-UNLISTED"].text_en, (change.inn,), ": "),
                    (change.inn,),
                )
            )
            continue
        mt_recheck = True
        name = finding.inn or change.inn
        if change.kind in ("decreased", "stopped") and _lowers_on_decrease(finding):
            elapsed = _recent(change.on, session_date, window)
            if elapsed is not None:
                hold = True
                reasons.append(_decrease_reason(finding, change.kind, elapsed, window))
        elif change.kind == "started" and finding.seizure_threshold_lowering in ("strong", "relative"):
            strong = finding.seizure_threshold_lowering == "strong" and finding.route == "medication"
            hold = hold or strong
            reasons.append(
                RULES["R-MED-07"].reason(
                    f"{name} (risque {'fort' if strong else 'relatif'}) : {RULES['R-MED-07'].text_fr}",
                    f"{name} ({'strong' if strong else 'relative'} hazard): {RULES['R-MED-07'].text_en}",
                    (name,),
                )
            )
    return MedicationChangeAssessment(hold=hold, mt_recheck=mt_recheck, rerun_review=rerun, reasons=tuple(reasons))
