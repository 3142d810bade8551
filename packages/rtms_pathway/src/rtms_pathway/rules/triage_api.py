"""The API contract's ``POST /api/v1/rtms/triage`` over the internal rules (api-contract; domain-rtms §2-§4).

The contract body is simpler than the triage form of §2.1; this module says exactly how it maps:

- ``diagnosis``, ``suicide_risk``, ``substance_use``, ``patient_preference``: through the
  ``contract.*_map`` settings (low and moderate suicide risk are non-urgent ideation, R-TRI-05;
  only ``high_urgent`` is R-TRI-04; a listed substance is an active use disorder).
- The episode is a depressive one (the pathway's scope); severity is not collected by this form,
  so R-TRI-06 does not ask for it.
- ``failed_adequate_trials`` is the §5 count; augmentation, psychotherapy and MSM are not carried,
  so R-TRI-08 uses ``triage.high_resistance_fallback_min_failures``.
- ``safety_findings`` are the screening items answered yes (item codes or their aliases, e.g.
  ``cochlear_implant``); every other item counts as answered no, so the screening is complete.
- ``medications`` are current drugs by INN (case and accents do not matter).
- ``mood_stabilizer`` true, or a mood stabilizer on the list, resolves R-TRI-12's precondition.

``needs_more_information`` for this body (R-TRI-06, "clinically incomplete in a way your triage form
defines"): the body is valid JSON but
  (a) ``failed_adequate_trials`` cannot fit in ``episode_months`` (N trials of at least
      ``triage.min_weeks_per_failed_trial`` weeks each need more than the episode's months), or
  (b) ``safety_findings`` says the patient takes medications (IFCN item 11) while ``medications``
      is empty.
Both need the referrer's answer before any orientation other than safety or ECT can be given.

The answer lists the precautions still in force: a ``resolved`` one (a bipolar patient who has a
mood stabilizer) is left out, as the contract's "mood_stabilizer_required (bipolar without one)" says.
Reasons carry the rule id as ``code``, the French text, and the citation keys with the doc section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, get_args

import msgspec

from rtms_pathway.model.medication import MedicationEntry
from rtms_pathway.model.screening import LEVEL_RANK, ItemAnswer, ScreeningCatalogue, ScreeningLevel
from rtms_pathway.model.triage import (
    ClinicalCatalogues,
    ClinicalSettings,
    Orientation,
    SubstanceUse,
    TreatmentHistory,
    TriageInput,
)
from rtms_pathway.rules.medication import review_medications
from rtms_pathway.rules.screening import evaluate_screening, rule_matches
from rtms_pathway.rules.triage import triage
from shared_core.errors import FieldError, ValidationFailed
from shared_core.text import fold

__all__ = [
    "ContractDiagnosis",
    "ContractPreference",
    "ContractReason",
    "ContractSubstance",
    "ContractSuicideRisk",
    "ContractTriageAnswer",
    "ContractTriageInput",
    "contract_to_triage_input",
    "parse_contract_triage",
    "run_contract_triage",
    "triage_contract",
    "validate_contract_triage",
]

ContractDiagnosis = Literal["unipolar", "bipolar_i", "bipolar_ii"]
ContractSuicideRisk = Literal["none", "low", "moderate", "high_urgent"]
ContractSubstance = Literal["alcohol", "cannabis", "opioids", "stimulants", "other"]
ContractPreference = Literal["rtms", "ect", "none"]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class ContractTriageInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The contract body, field for field; every field is required (the contract marks none optional)."""

    diagnosis: ContractDiagnosis
    psychotic_features: bool
    catatonia: bool
    suicide_risk: ContractSuicideRisk
    failed_adequate_trials: NonNegative
    episode_months: NonNegative
    anxiety_comorbidity: bool
    substance_use: list[ContractSubstance]
    mood_stabilizer: bool
    safety_findings: list[str]
    medications: list[str]
    patient_preference: ContractPreference


class ContractReason(msgspec.Struct, frozen=True):
    code: str
    text: str
    source: str


class ContractTriageAnswer(msgspec.Struct, frozen=True):
    orientation: Orientation
    precautions: list[str]
    protocol_suggestions: list[str]
    reasons: list[ContractReason]


_BOOLS = ("psychotic_features", "catatonia", "anxiety_comorbidity", "mood_stabilizer")
_ENUMS: dict[str, tuple[str, ...]] = {
    "diagnosis": get_args(ContractDiagnosis),
    "suicide_risk": get_args(ContractSuicideRisk),
    "patient_preference": get_args(ContractPreference),
}
_SUBSTANCES: tuple[str, ...] = get_args(ContractSubstance)


def validate_contract_triage(raw: object, catalogues: ClinicalCatalogues) -> list[FieldError]:
    """Every invalid field of a decoded JSON body, all at once (HTTP 422), in the contract's field order.

    Field paths follow the contract's style: ``substance_use[1]``, ``safety_findings[0]``.
    """
    if not isinstance(raw, Mapping):
        return [FieldError("body", "must be a JSON object")]
    errors: list[FieldError] = []
    limits = catalogues.settings.contract
    for name in ContractTriageInput.__struct_fields__:
        if name not in raw:
            errors.append(FieldError(name, "required"))
            continue
        value = raw[name]
        if name in _BOOLS:
            if not isinstance(value, bool):
                errors.append(FieldError(name, "must be true or false"))
        elif name in _ENUMS:
            if not isinstance(value, str) or value not in _ENUMS[name]:
                errors.append(FieldError(name, "must be one of " + ", ".join(_ENUMS[name])))
        elif name in ("failed_adequate_trials", "episode_months"):
            maximum = (limits.max_failed_adequate_trials if name == "failed_adequate_trials"
                       else limits.max_episode_months).value
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(FieldError(name, "must be an integer"))
            elif not 0 <= value <= maximum:
                errors.append(FieldError(name, f"must be between 0 and {maximum}"))
        else:
            errors.extend(_list_errors(name, value, catalogues.screening))
    fields = ContractTriageInput.__struct_fields__
    errors.extend(FieldError(str(key), "unknown field") for key in raw if key not in fields)
    return errors


def _list_errors(name: str, value: object, screening: ScreeningCatalogue) -> list[FieldError]:
    if not isinstance(value, list):
        return [FieldError(name, "must be a list")]
    errors: list[FieldError] = []
    for index, element in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(element, str):
            errors.append(FieldError(path, "must be a string"))
        elif name == "substance_use" and element not in _SUBSTANCES:
            errors.append(FieldError(path, "must be one of " + ", ".join(_SUBSTANCES)))
        elif name == "safety_findings" and screening.resolve_finding(element) is None:
            errors.append(FieldError(path, f"unknown screening finding {element!r}"))
        elif name == "medications" and not element.strip():
            errors.append(FieldError(path, "must not be empty"))
    return errors


def parse_contract_triage(raw: object, catalogues: ClinicalCatalogues) -> ContractTriageInput:
    """Validate then convert; raises ValidationFailed listing every bad field."""
    errors = validate_contract_triage(raw, catalogues)
    if errors:
        raise ValidationFailed(errors, "Invalid triage request")
    return msgspec.convert(raw, ContractTriageInput)


def _screening_answers(findings: list[str], screening: ScreeningCatalogue) -> dict[str, ItemAnswer]:
    """Findings to item answers: every listed item yes, every other item no.

    Two findings on one item with different details (``prior_tms`` and ``prior_tms_seizure``) keep
    the details that reach the highest level, so a more specific finding is never diluted.
    """
    options: dict[str, list[dict[str, str]]] = {}
    for finding in findings:
        resolved = screening.resolve_finding(finding)
        if resolved is None:
            raise ValueError(f"unknown screening finding {finding!r}")
        item, details = resolved
        options.setdefault(item, []).append(details)
    answers = {item.code: ItemAnswer("no") for item in screening.items}
    for item, candidates in options.items():
        answers[item] = max(
            (ItemAnswer("yes", details) for details in candidates),
            key=lambda answer: _answer_rank(item, answer, screening),
        )
    return answers


def _answer_rank(item: str, answer: ItemAnswer, screening: ScreeningCatalogue) -> int:
    levels: list[ScreeningLevel] = [r.level for r in screening.rules if r.item == item and rule_matches(r, answer)]
    return max((LEVEL_RANK[level] for level in levels), default=-1)


def contract_to_triage_input(body: ContractTriageInput, catalogues: ClinicalCatalogues) -> TriageInput:
    """Map the contract body onto the internal triage form, running §3 and §4 on the way."""
    settings: ClinicalSettings = catalogues.settings
    contract = settings.contract
    screening = evaluate_screening(_screening_answers(body.safety_findings, catalogues.screening),
                                   catalogues.screening, settings)
    names = list(dict.fromkeys(fold(m) for m in body.medications))
    review = review_medications([MedicationEntry(inn=name) for name in names],
                                drugs=catalogues.drugs, settings=settings)
    substances = tuple(dict.fromkeys(contract.substance_map.value[s] for s in body.substance_use))
    return TriageInput(
        diagnosis=contract.diagnosis_map.value[body.diagnosis],
        episode_polarity="depressive",
        episode_months=body.episode_months,
        severity=None,
        psychotic_features="yes" if body.psychotic_features else "no",
        catatonia="yes" if body.catatonia else "no",
        suicidal_risk=contract.suicide_risk_map.value[body.suicide_risk],
        treatment_trials=TreatmentHistory(failed_adequate_antidepressant_trials=body.failed_adequate_trials),
        safety_screening=screening,
        medication_review=review,
        anxiety_comorbidity=body.anxiety_comorbidity,
        substance_use=tuple(SubstanceUse(substance=s, status="active") for s in substances),
        patient_preference=contract.preference_map.value[body.patient_preference],
        mood_stabilizer_documented=body.mood_stabilizer,
        not_collected=frozenset({"severity"}),
    )


def triage_contract(body: ContractTriageInput, catalogues: ClinicalCatalogues) -> ContractTriageAnswer:
    """The contract answer for a valid body (pure: no I/O, no clock)."""
    decision = triage(contract_to_triage_input(body, catalogues), catalogues.settings)
    # The contract lists the precautions that ask something of the team (advice, monitoring,
    # precondition) and ranks `rtms_with_precautions` above `rtms_indicated` when there is any;
    # `info` precautions are displayed facts and stay in the reasons. The internal decision keeps
    # domain-rtms §2.2 (advice alone leaves rtms_indicated) for the pages.
    precautions = [p.code for p in decision.precautions if p.status != "resolved" and p.level != "info"]
    orientation = decision.orientation
    if orientation in ("rtms_indicated", "rtms_with_precautions"):
        orientation = "rtms_with_precautions" if precautions else "rtms_indicated"
    return ContractTriageAnswer(
        orientation=orientation,
        precautions=precautions,
        protocol_suggestions=[s.protocol_id for s in decision.protocol_suggestions],
        reasons=[ContractReason(code=r.rule_id, text=r.text_fr, source=r.source_label()) for r in decision.reasons],
    )


def run_contract_triage(raw: object, catalogues: ClinicalCatalogues) -> ContractTriageAnswer:
    """Validate, convert and triage a decoded JSON body; raises ValidationFailed (422) when invalid."""
    return triage_contract(parse_contract_triage(raw, catalogues), catalogues)
