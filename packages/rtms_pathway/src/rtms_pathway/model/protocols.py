"""Protocol catalogue vocabulary (domain-rtms §6.1 ``ProtocolDefinition``, versioned, immutable per version).

Every clinical value of a protocol is data (``catalogue/protocols.yaml``); the Structs here only
give it a shape. Confidence markers follow domain-rtms §0.1: the protocol-level ``confidence`` is
the weakest marker of its facts, and ``fact_confidence`` names the facts that differ (for example
``itbs_left``: pulses [verified], burst structure [to verify]).
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "CONFIDENCE_ORDER",
    "Burst",
    "CoilType",
    "Confidence",
    "Evidence",
    "IntensityRange",
    "IsiAnchor",
    "IssueSeverity",
    "Pattern",
    "ProtocolBlock",
    "ProtocolCatalogue",
    "ProtocolDefinition",
    "ProtocolIssue",
    "ProtocolValidation",
    "Target",
    "TargetingMethod",
    "weakest_confidence",
]

Confidence = Literal["verified", "to_verify", "conflict", "design"]
Pattern = Literal["rtms", "itbs", "ctbs", "sequential_bilateral"]
Target = Literal["L_DLPFC", "R_DLPFC", "BILATERAL_PFC", "DMPFC", "MPFC", "other"]
TargetingMethod = Literal[
    "five_cm_rule",
    "beam_f3",
    "eeg_10_20",
    "hotspot_6cm_ant_1cm_lat",
    "mri_neuronav",
    "fcmri_sgacc_neuronav",
    "h_coil_helmet",
]
CoilType = Literal["figure8", "figure8_iron_core", "h1", "h7", "other"]
IsiAnchor = Literal["end_to_start", "start_to_start"]
IssueSeverity = Literal["error", "warning", "needs_override"]

# How far a marker is from settled clinical fact. A protocol whose facts mix markers carries the
# weakest one (§0.1: a [to verify] fact makes the whole definition configuration to be validated).
# *design* is a product decision, not a clinical claim, so it does not weaken a [verified] entry.
CONFIDENCE_ORDER: dict[Confidence, int] = {"verified": 0, "design": 0, "conflict": 1, "to_verify": 2}


def weakest_confidence(markers: list[Confidence]) -> Confidence:
    """The first of the weakest markers in ``markers`` (``verified`` when empty)."""
    if not markers:
        return "verified"
    return max(markers, key=lambda marker: CONFIDENCE_ORDER[marker])


class Burst(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Theta-burst structure (TBS blocks only): e.g. 3 pulses at 50 Hz, bursts repeated at 5 Hz."""

    pulses_per_burst: int
    intra_burst_hz: float
    burst_rate_hz: float


class IntensityRange(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Allowed ``intensity_pct_mt`` range; outside it a physician override is needed (V-PRO-04)."""

    min: float
    max: float


class ProtocolBlock(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One stimulation block (one target). Bilateral sequential protocols have two.

    Three shapes, checked by the loader:
    - rTMS trains: ``frequency_hz``, ``train_duration_s``, ``iti_s``, ``n_trains``;
    - theta burst: ``burst``, ``train_duration_s``, ``iti_s``, ``n_trains``;
    - continuous (``continuous: true``, e.g. 1 Hz): ``frequency_hz`` and ``duration_s``.
    ``pulses`` is declared and must equal the computed value (V-PRO-01).
    """

    target: Target
    targeting_method: TargetingMethod
    coil_type: CoilType
    pulses: int
    intensity_pct_mt: float
    intensity_range_pct_mt: IntensityRange
    frequency_hz: float | None = None
    burst: Burst | None = None
    continuous: bool = False
    duration_s: float | None = None
    train_duration_s: float | None = None
    iti_s: float | None = None
    n_trains: int | None = None
    intensity_note: str = ""


class Evidence(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An evidence statement, e.g. ``{body: LEFAUCHEUR20, level: "A", year: 2020}``."""

    body: str
    level: str | None
    year: int
    note: str = ""


class ProtocolDefinition(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """domain-rtms §6.1. ``(id, version)`` is immutable; an edit is ``version + 1`` (V-PRO-08).

    ``content_hash`` is the fingerprint of every other field (``rules.protocols.protocol_fingerprint``);
    the loader refuses a file whose published version changed without a new version number.
    """

    id: str
    version: int
    name: str
    label_fr: str
    pattern: Pattern
    blocks: list[ProtocolBlock]
    sessions_per_day: int
    days_per_week: int
    consecutive_days_required: bool
    evidence: list[Evidence]
    sources: list[str]
    confidence: Confidence
    content_hash: str = ""
    inter_block_pause_s: float = 0.0
    sessions_per_day_options: list[int] = msgspec.field(default_factory=list)
    min_isi_min: int | None = None
    isi_anchor: IsiAnchor | None = None
    induction: bool = True
    acute_sessions_default: int | None = None
    acute_sessions_range: tuple[int, int] | None = None
    acute_weeks_range: tuple[int, int] | None = None
    maintenance_sessions_per_week_range: tuple[int, int] | None = None
    default_maintenance_template: str | None = None
    declared_duration_s: int | None = None
    declared_duration_note: str = ""
    fact_confidence: dict[str, Confidence] = msgspec.field(default_factory=dict)
    confidence_note: str = ""
    notes: list[str] = msgspec.field(default_factory=list)

    @property
    def ref(self) -> str:
        """``protocol_id@version``, the form sessions store (V-PRO-08)."""
        return f"{self.id}@{self.version}"


class ProtocolCatalogue(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Every published version of every protocol, in file order."""

    catalogue_version: str
    protocols: list[ProtocolDefinition]

    def ids(self) -> list[str]:
        """Protocol ids, each once, in file order."""
        return list(dict.fromkeys(p.id for p in self.protocols))

    def versions(self, protocol_id: str) -> list[ProtocolDefinition]:
        """Every version of ``protocol_id``, oldest first (empty when unknown)."""
        return sorted((p for p in self.protocols if p.id == protocol_id), key=lambda p: p.version)

    def get(self, protocol_id: str, version: int | None = None) -> ProtocolDefinition:
        """The given version, or the latest one; ``KeyError`` when absent."""
        versions = self.versions(protocol_id)
        if not versions:
            raise KeyError(protocol_id)
        if version is None:
            return versions[-1]
        for definition in versions:
            if definition.version == version:
                return definition
        raise KeyError(f"{protocol_id}@{version}")

    def by_ref(self, ref: str) -> ProtocolDefinition:
        """Look up ``protocol_id@version``."""
        protocol_id, _, version = ref.partition("@")
        if not version.isdigit():
            raise KeyError(ref)
        return self.get(protocol_id, int(version))

    def __contains__(self, protocol_id: object) -> bool:
        return any(p.id == protocol_id for p in self.protocols)


class ProtocolIssue(msgspec.Struct, frozen=True, kw_only=True):
    """One finding of the V-PRO validations."""

    rule_id: str
    severity: IssueSeverity
    field: str
    message_fr: str
    message_en: str
    source: str


class ProtocolValidation(msgspec.Struct, frozen=True, kw_only=True):
    """V-PRO-01..08 findings. Only ``errors`` block saving; ``needs_override`` needs a physician."""

    errors: list[ProtocolIssue]
    warnings: list[ProtocolIssue]
    needs_override: list[ProtocolIssue]

    @property
    def ok(self) -> bool:
        return not self.errors
