"""Session delivery rules (domain-rtms §8.1 R-SES-01..03, §8.3 R-SES-04 and the seizure/syncope
form): pure, no I/O, no clock.

- ``check_delivery``: prescribed vs delivered (R-SES-01), partial delivery (R-SES-02), %MSO
  consistent with the MT referenced (R-SES-03).
- ``sae_decision``: serious adverse event or seizure → SAE record, same-day physician
  notification, course suspended until a physician decides (R-SES-04).
- ``seizure_syncope_form_required`` and ``check_seizure_syncope_form``: the §8.3 form.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from rtms_pathway.model.sessions import (
    AdverseEvent,
    DeliveryCheck,
    Deviation,
    FormCheck,
    MtReference,
    SaeDecision,
    SeizureSyncopeForm,
    SessionDelivery,
    SessionPrescription,
    SessionSettings,
)
from rtms_pathway.model.staging import Explanation
from shared_core.errors import FieldError, ValidationFailed
from shared_core.rules.progress import percent_one_decimal
from shared_core.rules.scoring import round_half_up

__all__ = [
    "FORM_CLOSURE_FIELDS",
    "FORM_INITIAL_FIELDS",
    "check_delivery",
    "check_seizure_syncope_form",
    "expected_intensity_pct_mso",
    "sae_decision",
    "seizure_syncope_form_required",
]

SRC_81 = "domain-rtms §8.1"
SRC_83 = "domain-rtms §8.3"

# Parameters compared one to one (R-SES-01); pulses and trains are handled with interruptions.
_COMPARED: tuple[str, ...] = ("frequency_hz", "train_duration_s", "iti_s")


def expected_intensity_pct_mso(mt: MtReference, intensity_pct_mt: int) -> int:
    """round(MT × %MT / 100), rounded half up, computed exactly (R-SES-03)."""
    return round_half_up(Fraction(mt.value_pct_mso * intensity_pct_mt, 100))


def _fmt(value: Decimal | int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def check_delivery(
    prescription: SessionPrescription,
    delivery: SessionDelivery,
    mt: MtReference | None,
    settings: SessionSettings,
) -> DeliveryCheck:
    """R-SES-01..03 for one session. Impossible numbers raise ``ValidationFailed``; missing
    justifications are returned as ``problems`` (the record cannot be signed until fixed)."""
    _validate(prescription, delivery)
    notes: list[Explanation] = []
    problems: list[FieldError] = []
    deviations: list[Deviation] = []
    interrupted = any(not i.resumed for i in delivery.interruptions)
    had_interruptions = bool(delivery.interruptions)

    # R-SES-01: every parameter that differs, pulses/trains excused when an interruption explains them
    for field in _COMPARED:
        prescribed, delivered = getattr(prescription, field), getattr(delivery, field)
        if prescribed is not None and delivered is not None and prescribed != delivered:
            deviations.append(Deviation(field, _fmt(prescribed), _fmt(delivered), False))
    for field, p_value, d_value in (
        ("pulses", prescription.pulses, delivery.pulses_delivered),
        ("trains", prescription.trains, delivery.trains_delivered),
    ):
        if p_value != d_value:
            lost_to_interruption = had_interruptions and d_value < p_value
            deviations.append(Deviation(field, str(p_value), str(d_value), lost_to_interruption))
    higher = delivery.intensity_pct_mt > prescription.intensity_pct_mt
    if delivery.intensity_pct_mt != prescription.intensity_pct_mt:
        deviations.append(Deviation("intensity_pct_mt", str(prescription.intensity_pct_mt),
                                    str(delivery.intensity_pct_mt), False, higher_intensity=higher))
    unexplained = [d for d in deviations if not d.explained_by_interruption]
    reason_required = bool(unexplained)
    physician_required = higher
    if reason_required:
        listed = ", ".join(f"{d.field} {d.prescribed} → {d.delivered}" for d in unexplained)
        missing_reason = not (delivery.deviation_reason or "").strip()
        if missing_reason:
            problems.append(FieldError("deviation_reason", "a reason is required when delivery differs from the "
                                                           f"prescription ({listed})"))
        notes.append(Explanation(
            "R-SES-01", f"{SRC_81} R-SES-01",
            f"Paramètres délivrés différents de la prescription ({listed}) : un motif est requis"
            + (" (manquant)." if missing_reason else " (renseigné)."),
            f"Delivered parameters differ from the prescription ({listed}): a reason is required"
            + (" (missing)." if missing_reason else " (given)."),
        ))
    if physician_required:
        missing_physician = not (delivery.deviation_physician or "").strip()
        if missing_physician:
            problems.append(FieldError("deviation_physician", "a physician must authorise an intensity higher than "
                                                              "prescribed"))
        notes.append(Explanation(
            "R-SES-01", f"{SRC_81} R-SES-01",
            f"Intensité délivrée supérieure à la prescription ({delivery.intensity_pct_mt} % du seuil moteur > "
            f"{prescription.intensity_pct_mt} %) : validation par un médecin requise"
            + (" (manquante)." if missing_physician else " (présente)."),
            f"Delivered intensity above the prescription ({delivery.intensity_pct_mt} % MT > "
            f"{prescription.intensity_pct_mt} %): a physician must authorise it"
            + (" (missing)." if missing_physician else " (present)."),
        ))
    if had_interruptions and any(d.explained_by_interruption for d in deviations):
        notes.append(Explanation(
            "R-SES-01", f"{SRC_81} R-SES-01",
            "Impulsions perdues du fait d'une interruption : pas de motif supplémentaire requis.",
            "Pulses lost to an interruption: no further reason required.",
        ))

    # R-SES-02: partial delivery, compared exactly
    delivered = Fraction(delivery.pulses_delivered, prescription.pulses)
    threshold = settings.partial_threshold_pct
    partial = delivered < Fraction(threshold, 100)
    pct = percent_one_decimal(delivered)
    pct_fr = f"{pct:.1f}".replace(".", ",")
    to_verify = settings.provenance["ses.partial_threshold_pct"].confidence == "to_verify"
    caveat_fr = ", seuil à vérifier" if to_verify else ""
    if partial:
        notes.append(Explanation(
            "R-SES-02", f"{SRC_81} R-SES-02",
            f"{delivery.pulses_delivered} impulsions sur {prescription.pulses} prescrites ({pct_fr} % < "
            f"{threshold} %{caveat_fr}) : séance partiellement délivrée. Le médecin décide si elle compte dans le "
            "total de la cure" + (" (interruption non reprise)." if interrupted else "."),
            f"{delivery.pulses_delivered} of {prescription.pulses} prescribed pulses ({pct:.1f} % < {threshold} %): "
            "partially delivered session. The physician decides whether it counts towards the course total.",
        ))
    else:
        notes.append(Explanation(
            "R-SES-02", f"{SRC_81} R-SES-02",
            f"{delivery.pulses_delivered} impulsions sur {prescription.pulses} ({pct_fr} % ≥ {threshold} %"
            f"{caveat_fr}) : séance délivrée.",
            f"{delivery.pulses_delivered} of {prescription.pulses} pulses ({pct:.1f} % ≥ {threshold} %): delivered.",
        ))

    # R-SES-03: %MSO from the MT referenced
    expected: int | None = None
    matches: bool | None = None
    if mt is None:
        problems.append(FieldError("mt", "the MT measurement used must be referenced"))
        notes.append(Explanation(
            "R-SES-03", f"{SRC_81} R-SES-03",
            "Aucune mesure de seuil moteur référencée : l'intensité en % de la sortie maximale ne peut pas être "
            "vérifiée.",
            "No motor threshold referenced: the %MSO cannot be checked.",
        ))
    else:
        expected = expected_intensity_pct_mso(mt, delivery.intensity_pct_mt)
        matches = delivery.intensity_pct_mso == expected
        overridden = bool((delivery.mso_override_reason or "").strip())
        if not matches and not overridden:
            problems.append(FieldError(
                "intensity_pct_mso",
                f"{delivery.intensity_pct_mso} % MSO differs from round(MT {mt.value_pct_mso} × "
                f"{delivery.intensity_pct_mt} %) = {expected} %; give an override reason",
            ))
        verdict_fr = "conforme" if matches else ("écart justifié" if overridden else "écart non justifié")
        verdict_en = "consistent" if matches else ("overridden" if overridden else "unexplained difference")
        notes.append(Explanation(
            "R-SES-03", f"{SRC_81} R-SES-03",
            f"Seuil moteur {mt.value_pct_mso} % de la sortie maximale (mesuré le {mt.measured_on.isoformat()}) × "
            f"{delivery.intensity_pct_mt} % = {expected} % attendu ; {delivery.intensity_pct_mso} % délivré : "
            f"{verdict_fr}.",
            f"MT {mt.value_pct_mso} % MSO (measured {mt.measured_on.isoformat()}) × {delivery.intensity_pct_mt} % = "
            f"{expected} % expected; {delivery.intensity_pct_mso} % delivered: {verdict_en}.",
        ))
    return DeliveryCheck(
        status="partially_delivered" if partial else "delivered",
        delivered_numerator=delivered.numerator,
        delivered_denominator=delivered.denominator,
        delivered_pct=pct,
        deviations=tuple(deviations),
        reason_required=reason_required,
        physician_required=physician_required,
        expected_intensity_pct_mso=expected,
        mso_matches=matches,
        counts_towards_course=None if partial else True,
        problems=tuple(problems),
        explanations=tuple(notes),
    )


def _validate(prescription: SessionPrescription, delivery: SessionDelivery) -> None:
    errors: list[FieldError] = []
    positive = (("prescription.pulses", prescription.pulses), ("prescription.trains", prescription.trains),
                ("prescription.intensity_pct_mt", prescription.intensity_pct_mt))
    errors += [FieldError(name, "must be > 0") for name, value in positive if value <= 0]
    non_negative = (("pulses_delivered", delivery.pulses_delivered), ("trains_delivered", delivery.trains_delivered),
                    ("intensity_pct_mt", delivery.intensity_pct_mt), ("intensity_pct_mso", delivery.intensity_pct_mso))
    errors += [FieldError(name, "must be ≥ 0") for name, value in non_negative if value < 0]
    if delivery.intensity_pct_mso > 100:
        errors.append(FieldError("intensity_pct_mso", "cannot exceed 100 % of the maximal stimulator output"))
    for index, interruption in enumerate(delivery.interruptions):
        if interruption.pulses_so_far < 0:
            errors.append(FieldError(f"interruptions[{index}].pulses_so_far", "must be ≥ 0"))
    if errors:
        raise ValidationFailed(errors)


# -- §8.3 -------------------------------------------------------------------------------------


def seizure_syncope_form_required(event: AdverseEvent) -> bool:
    """Any suspected seizure or loss of consciousness needs the §8.3 form."""
    return event.type in ("seizure", "syncope") or event.loss_of_consciousness is True


def sae_decision(events: Sequence[AdverseEvent], settings: SessionSettings) -> SaeDecision:
    """R-SES-04: a serious AE, or a seizure (adjudicated or not), creates an SAE record: physician
    notified the same day, course suspended until the physician decides."""
    seizure_is_sae = settings.seizure_always_sae
    confidence = settings.provenance["ses.seizure_always_sae"].confidence
    triggering = tuple(
        i for i, e in enumerate(events) if e.serious or (seizure_is_sae and e.type == "seizure")
    )
    form = any(seizure_syncope_form_required(e) for e in events)
    form_fr = (" Le formulaire crise/syncope est requis (suspicion de crise ou perte de connaissance)."
               if form else "")
    form_en = " The seizure/syncope form is required (suspected seizure or loss of consciousness)." if form else ""
    if triggering:
        kinds_fr = ", ".join(
            "crise comitiale (toujours traitée comme grave, à vérifier selon la réglementation française)"
            if events[i].type == "seizure" and not events[i].serious else f"événement grave ({events[i].type})"
            for i in triggering
        )
        return SaeDecision(
            sae_required=True, triggering_events=triggering, notify_physician_same_day=True, suspend_course=True,
            seizure_syncope_form_required=form,
            explanation=Explanation(
                "R-SES-04", f"{SRC_83} R-SES-04",
                f"Événement indésirable grave : {kinds_fr}. Création d'une déclaration d'EIG, information du médecin "
                "le jour même, cure suspendue jusqu'à décision médicale." + form_fr,
                "Serious adverse event: an SAE record is created, the physician is notified the same day and the "
                "course is suspended until a physician decides." + form_en,
            ),
            confidence=confidence,
        )
    return SaeDecision(
        sae_required=False, triggering_events=(), notify_physician_same_day=False, suspend_course=False,
        seizure_syncope_form_required=form,
        explanation=Explanation(
            "R-SES-04", f"{SRC_83} R-SES-04",
            "Aucun événement grave ni crise comitiale : pas de déclaration d'EIG." + form_fr,
            "No serious event and no seizure: no SAE record." + form_en,
        ),
        confidence=confidence,
    )


FORM_INITIAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("session_index", "numéro de séance"),
    ("time_relative_to_train", "moment par rapport au train"),
    ("delivered_pct_mso", "intensité délivrée (% sortie maximale)"),
    ("delivered_pct_mt", "intensité délivrée (% seuil moteur)"),
    ("last_mt_date", "date du dernier seuil moteur"),
    ("last_mt_method", "méthode du dernier seuil moteur"),
    ("semiology", "sémiologie (focale / généralisée / tonico-clonique)"),
    ("duration_seconds", "durée"),
    ("loss_of_consciousness", "perte de connaissance"),
    ("incontinence", "perte d'urines"),
    ("tongue_bite", "morsure de langue"),
    ("post_event_confusion_minutes", "confusion post-critique (minutes)"),
    ("vital_signs", "constantes (fréquence cardiaque, pression artérielle)"),
    ("pallor", "pâleur"),
    ("brief_jerks", "brèves secousses"),
    ("rapid_recovery", "récupération rapide"),
    ("sleep_deprivation", "privation de sommeil"),
    ("alcohol", "alcool"),
    ("medication_change", "changement de traitement"),
    ("recent_intensity_increase", "augmentation récente de l'intensité"),
    ("stimulation_stopped", "arrêt de la stimulation"),
    ("recovery_position", "position latérale de sécurité"),
    ("emergency_call", "appel des secours"),
)
FORM_CLOSURE_FIELDS: tuple[tuple[str, str], ...] = (
    ("adjudication", "conclusion du neurologue ou du médecin (crise, syncope convulsivante, non épileptique, "
                     "incertain)"),
    ("adjudicated_by", "auteur de la conclusion"),
    ("eeg_done", "EEG réalisé"),
    ("continuation_decision", "décision sur la poursuite"),
)


def check_seizure_syncope_form(form: SeizureSyncopeForm) -> FormCheck:
    """Completeness of the §8.3 form: the initial report, then the closure (adjudication by a
    neurologist or physician, EEG, decision on continuation; TAYLOR21)."""
    def missing(fields: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
        return [(name, label) for name, label in fields if not _filled(form, name)]

    initial, closure = missing(FORM_INITIAL_FIELDS), missing(FORM_CLOSURE_FIELDS)
    if not initial and not closure:
        text_fr = "Formulaire crise/syncope complet."
        text_en = "Seizure/syncope form complete."
    else:
        parts_fr = []
        if initial:
            parts_fr.append("signalement initial incomplet : " + ", ".join(label for _, label in initial))
        if closure:
            parts_fr.append("clôture en attente : " + ", ".join(label for _, label in closure))
        text_fr = "Formulaire crise/syncope : " + " ; ".join(parts_fr) + "."
        text_en = (f"Seizure/syncope form: {len(initial)} initial field(s) and {len(closure)} closure field(s) "
                   "missing: " + ", ".join(name for name, _ in (*initial, *closure)) + ".")
    return FormCheck(
        complete=not initial and not closure,
        initial_complete=not initial,
        missing_initial=tuple(name for name, _ in initial),
        missing_closure=tuple(name for name, _ in closure),
        explanation=Explanation("SEIZURE-FORM", f"{SRC_83} seizure/syncope form (TAYLOR21)", text_fr, text_en),
    )


def _filled(form: SeizureSyncopeForm, name: str) -> bool:
    value = getattr(form, name)
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if name == "vital_signs":
        vitals = form.vital_signs
        return vitals is not None and None not in (vitals.heart_rate_bpm, vitals.systolic_mmhg, vitals.diastolic_mmhg)
    return True
