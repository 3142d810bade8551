"""Medication review vocabulary (domain-rtms §4): the drug table, the actions, the review result.

The drug table is data keyed by INN (catalogue/drugs.yaml). Each effect is a :class:`Cell` that
carries its own confidence and sources, because §4.1 asks for provenance per cell, not per row:
a class can be [verified] while one molecule's category is still [to verify].
"""

from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

import msgspec

from rtms_pathway.model.screening import Confidence, Precaution, Reason, Setting

__all__ = [
    "ActionCode",
    "ActionDefinition",
    "Cell",
    "DoseChange",
    "DrugCatalogue",
    "DrugClass",
    "DrugEntry",
    "DrugFinding",
    "EfficacyEffect",
    "MedicationEntry",
    "MedicationReviewResult",
    "MedicationSettings",
    "MtRaising",
    "MtSettings",
    "ThresholdEffect",
]

T = TypeVar("T")

ThresholdEffect = Literal["strong", "relative", "none", "unknown"]
MtRaising = Literal["yes", "no", "unknown"]
EfficacyEffect = Literal["reducing", "possibly_reducing", "possibly_enhancing", "none", "unknown"]
ActionCode = Literal["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"]
HalfLifeClass = Literal["short", "intermediate", "long"]


class _Data(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unknown keys in drugs.yaml are typos and must fail the load."""


class Cell(_Data, Generic[T], frozen=True):
    value: T
    confidence: Confidence
    sources: tuple[str, ...]
    note: str = ""


class ActionDefinition(_Data, frozen=True):
    """A row of §4.3."""

    name: str
    label_fr: str
    label_en: str
    sources: tuple[str, ...]
    confidence: Confidence


class DrugClass(_Data, frozen=True):
    label_fr: str
    label_en: str
    sources: tuple[str, ...]
    # Which class-level rules read this class: R-MED-06 (antipsychotic), R-MED-04 (benzodiazepine).
    antipsychotic: bool = False
    benzodiazepine: bool = False
    antiepileptic: bool = False
    # "substance_use": alcohol and illicit drugs reach the triage through the substance-use
    # fields (R-TRI-10), never as a duplicate seizure_threshold_medication (§4.4 R-MED-01, design).
    route: Literal["medication", "substance_use"] = "medication"
    note: str = ""


class DrugEntry(_Data, frozen=True):
    drug_class: str = msgspec.field(name="class")
    seizure_threshold_lowering: Cell[ThresholdEffect]
    mt_raising: Cell[MtRaising]
    efficacy_effect: Cell[EfficacyEffect]
    withdrawal_lowers_threshold: Cell[bool]
    actions: tuple[ActionCode, ...]
    aliases: tuple[str, ...] = ()
    atc: str | None = None
    # A mood stabilizer resolves R-TRI-12's precondition when it is on the current list.
    mood_stabilizer: bool = False
    half_life_class: Cell[HalfLifeClass] | None = None
    note: str = ""


class DrugCatalogue(_Data, frozen=True):
    schema: str
    version: str
    actions: dict[str, ActionDefinition]
    classes: dict[str, DrugClass]
    drugs: dict[str, DrugEntry]
    # Substance-use codes (R-TRI-10) to the table entries whose actions apply (A1 A2 A8).
    substances: dict[str, tuple[str, ...]]
    note: str = ""

    def lookup(self, name: str) -> tuple[str, DrugEntry] | None:
        """INN or alias (already folded: lower case, no accents) to (INN, entry)."""
        entry = self.drugs.get(name)
        if entry is not None:
            return name, entry
        for inn, candidate in self.drugs.items():
            if name in candidate.aliases:
                return inn, candidate
        return None


class MedicationSettings(_Data, frozen=True):
    recent_change_days: Setting[int]
    relative_combo_signoff: Setting[bool]
    relative_combo_min_count: Setting[int]


class MtSettings(_Data, frozen=True):
    high_risk_interval_days: Setting[int]


# ---------------------------------------------------------------------------------------------
# Review input and output
# ---------------------------------------------------------------------------------------------


class DoseChange(msgspec.Struct, frozen=True):
    kind: Literal["started", "increased", "decreased", "stopped"]
    on: date


class MedicationEntry(msgspec.Struct, frozen=True):
    """One line of the medication list. A stopped drug stays listed so R-MED-03 can see its stop."""

    inn: str
    status: Literal["current", "stopped"] = "current"
    changes: tuple[DoseChange, ...] = ()
    dose_text: str = ""


class DrugFinding(msgspec.Struct, frozen=True):
    """What the table says about one listed drug; ``known`` False when the table lacks it."""

    name: str
    inn: str | None
    known: bool
    status: Literal["current", "stopped"]
    drug_class: str | None = None
    seizure_threshold_lowering: ThresholdEffect = "unknown"
    mt_raising: MtRaising = "unknown"
    efficacy_effect: EfficacyEffect = "unknown"
    withdrawal_lowers_threshold: bool = False
    actions: tuple[str, ...] = ()
    mood_stabilizer: bool = False
    antiepileptic: bool = False
    benzodiazepine: bool = False
    antipsychotic: bool = False
    route: Literal["medication", "substance_use"] = "medication"


class MedicationReviewResult(msgspec.Struct, frozen=True):
    findings: tuple[DrugFinding, ...]
    precautions: tuple[Precaution, ...]
    reasons: tuple[Reason, ...]
    # R-MED-03: the next session waits for a physician and an MT re-check.
    hold_next_session: bool = False
    mt_recheck: bool = False
    unknown_drugs: tuple[str, ...] = ()
    catalogue_version: str = ""

    def current_mood_stabilizers(self) -> tuple[str, ...]:
        return tuple(f.inn or f.name for f in self.findings if f.status == "current" and f.mood_stabilizer)

    def current_antiepileptics(self) -> tuple[str, ...]:
        return tuple(f.inn or f.name for f in self.findings if f.status == "current" and f.antiepileptic)

    def has_current_drugs(self) -> bool:
        return any(f.status == "current" for f in self.findings)
