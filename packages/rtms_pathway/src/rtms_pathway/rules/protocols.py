"""Protocol arithmetic and catalogue validations (domain-rtms §6.3 derived formulas, §6.4 V-PRO-01..08).

Pure: exact arithmetic with :class:`fractions.Fraction` (§0.3 principle 5); rounding only where a
device needs an integer (% MSO), with the rounding mode passed in (setting
``pro.intensity_rounding``, default ``round_half_down``, *design*).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from fractions import Fraction

import msgspec

from rtms_pathway.model.planning import IntensityRounding
from rtms_pathway.model.protocols import (
    IssueSeverity,
    ProtocolBlock,
    ProtocolCatalogue,
    ProtocolDefinition,
    ProtocolIssue,
    ProtocolValidation,
)

__all__ = [
    "Number",
    "ProtocolArithmeticError",
    "block_active_seconds",
    "block_cycle_seconds",
    "block_pulses",
    "bursts_per_train",
    "check_intensity",
    "check_new_version",
    "cycle_seconds",
    "exact_intensity_pct_mso",
    "format_duration",
    "intensity_pct_mso",
    "new_version",
    "prescription_issues",
    "protocol_fingerprint",
    "round_fraction",
    "session_seconds",
    "session_seconds_int",
    "to_fraction",
    "total_pulses",
    "validate_catalogue",
    "validate_protocol",
]

SECTION_FORMULAS = "domain-rtms §6.3"
SECTION_VALIDATION = "domain-rtms §6.4"

Number = int | float | Fraction


class ProtocolArithmeticError(ValueError):
    """A block lacks the fields its shape needs, so a derived value cannot be computed."""


def to_fraction(value: Number | str) -> Fraction:
    """Exact value; a float is read through its shortest decimal form (``0.1`` is 1/10, not 2^-n)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


# --- §6.3 derived formulas ---------------------------------------------------------------------


def _need(block: ProtocolBlock, name: str, value: Number | None) -> Fraction:
    if value is None:
        raise ProtocolArithmeticError(f"block on {block.target}: {name} is required for this block shape")
    return to_fraction(value)


def bursts_per_train(block: ProtocolBlock) -> Fraction:
    """§6.3: ``bursts_per_train = train_duration_s × burst_rate_hz`` (V-PRO-03 wants an integer)."""
    if block.burst is None:
        raise ProtocolArithmeticError(f"block on {block.target}: not a theta-burst block")
    return _need(block, "train_duration_s", block.train_duration_s) * to_fraction(block.burst.burst_rate_hz)


def block_pulses(block: ProtocolBlock) -> Fraction:
    """§6.3 pulses of one block (rTMS trains, theta burst, or continuous)."""
    if block.continuous:
        return _need(block, "frequency_hz", block.frequency_hz) * _need(block, "duration_s", block.duration_s)
    n_trains = _need(block, "n_trains", block.n_trains)
    if block.burst is not None:
        return n_trains * bursts_per_train(block) * block.burst.pulses_per_burst
    return n_trains * _need(block, "frequency_hz", block.frequency_hz) * _need(
        block, "train_duration_s", block.train_duration_s
    )


def total_pulses(definition: ProtocolDefinition) -> Fraction:
    """Sum of the blocks' computed pulses."""
    return sum((block_pulses(b) for b in definition.blocks), Fraction(0))


def block_active_seconds(block: ProtocolBlock) -> Fraction:
    """``n_trains × train_duration_s + (n_trains − 1) × iti_s``; a continuous block lasts ``duration_s``."""
    if block.continuous:
        return _need(block, "duration_s", block.duration_s)
    n_trains = _need(block, "n_trains", block.n_trains)
    train = _need(block, "train_duration_s", block.train_duration_s)
    iti = to_fraction(block.iti_s) if block.iti_s is not None else Fraction(0)
    if n_trains > 1 and block.iti_s is None:
        raise ProtocolArithmeticError(f"block on {block.target}: iti_s is required with several trains")
    return n_trains * train + (n_trains - 1) * iti


def block_cycle_seconds(block: ProtocolBlock) -> Fraction:
    """``n_trains × (train_duration_s + iti_s)``, the published "37.5 min" convention."""
    if block.continuous:
        return _need(block, "duration_s", block.duration_s)
    n_trains = _need(block, "n_trains", block.n_trains)
    iti = to_fraction(block.iti_s) if block.iti_s is not None else Fraction(0)
    return n_trains * (_need(block, "train_duration_s", block.train_duration_s) + iti)


def session_seconds(definition: ProtocolDefinition) -> Fraction:
    """§6.3 ``session_seconds`` = Σ block active time + ``inter_block_pause_s``."""
    total = sum((block_active_seconds(b) for b in definition.blocks), Fraction(0))
    return total + to_fraction(definition.inter_block_pause_s)


def session_seconds_int(definition: ProtocolDefinition) -> int:
    """Whole seconds a session occupies (rounded up: a slot must hold the whole session)."""
    return math.ceil(session_seconds(definition))


def cycle_seconds(definition: ProtocolDefinition) -> Fraction:
    """§6.3 ``cycle_seconds`` (alternative convention), summed over blocks plus the pause."""
    total = sum((block_cycle_seconds(b) for b in definition.blocks), Fraction(0))
    return total + to_fraction(definition.inter_block_pause_s)


def round_fraction(value: Fraction, rounding: IntensityRounding) -> int:
    """Round an exact value to an integer with the named mode (ties matter only for the half modes)."""
    if rounding == "floor":
        return math.floor(value)
    if rounding == "ceil":
        return math.ceil(value)
    if rounding == "round_half_even":
        return round(value)
    whole = math.floor(value)
    rest = value - whole
    if rounding == "round_half_down":
        return whole + 1 if rest > Fraction(1, 2) else whole
    if rounding == "round_half_up":
        return whole + 1 if rest >= Fraction(1, 2) else whole
    raise ValueError(f"unknown rounding mode {rounding!r}")


def exact_intensity_pct_mso(mt_pct_mso: Number, intensity_pct_mt: Number) -> Fraction:
    """``mt_pct_mso × intensity_pct_mt / 100``, exact (R-MT-05 compares this value)."""
    return to_fraction(mt_pct_mso) * to_fraction(intensity_pct_mt) / 100


def intensity_pct_mso(
    mt_pct_mso: Number, intensity_pct_mt: Number, rounding: IntensityRounding = "round_half_down"
) -> int:
    """§6.3 ``intensity_pct_mso = round_half_down(mt_pct_mso × intensity_pct_mt / 100)`` (*design*).

    MT 52 % MSO at 120 % MT gives 62.4, so 62 % MSO. Never capped at the device maximum: R-MT-05
    (``rules.motor_threshold.check_device_max``) alerts instead.
    """
    return round_fraction(exact_intensity_pct_mso(mt_pct_mso, intensity_pct_mt), rounding)


def format_duration(seconds: Number) -> str:
    """``2224`` → ``"37 min 04 s"`` (whole seconds, rounded up)."""
    total = math.ceil(to_fraction(seconds))
    minutes, secs = divmod(total, 60)
    return f"{minutes} min {secs:02d} s"


# --- V-PRO-08 fingerprint and versions --------------------------------------------------------


def protocol_fingerprint(definition: ProtocolDefinition) -> str:
    """``sha256:<hex>`` of every field except ``content_hash`` (canonical JSON, sorted keys)."""
    blank = msgspec.structs.replace(definition, content_hash="")
    payload = msgspec.json.encode(blank, order="sorted")
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def new_version(definition: ProtocolDefinition, **changes: object) -> ProtocolDefinition:
    """V-PRO-08: an edit is a new definition with ``version + 1`` and a fresh fingerprint."""
    edited = msgspec.structs.replace(definition, **changes)
    edited = msgspec.structs.replace(edited, version=definition.version + 1, content_hash="")
    return msgspec.structs.replace(edited, content_hash=protocol_fingerprint(edited))


def check_new_version(previous: ProtocolDefinition, edited: ProtocolDefinition) -> list[ProtocolIssue]:
    """V-PRO-08: same id; changed content needs exactly ``version + 1``; same version, same content."""
    issues: list[ProtocolIssue] = []
    if previous.id != edited.id:
        issues.append(_issue("V-PRO-08", "error", "id",
                             "L'identifiant d'un protocole ne change pas d'une version à l'autre.",
                             "A protocol keeps its id across versions."))
        return issues
    same_content = protocol_fingerprint(previous) == protocol_fingerprint(
        msgspec.structs.replace(edited, version=previous.version)
    )
    if edited.version == previous.version and not same_content:
        following = previous.version + 1
        issues.append(_issue("V-PRO-08", "error", "version",
                             f"Modifier {previous.ref} crée la version {following} ; une version publiée est immuable.",
                             f"Editing {previous.ref} creates version {following}; a published version is immutable."))
    elif edited.version != previous.version and edited.version != previous.version + 1:
        issues.append(_issue("V-PRO-08", "error", "version",
                             f"La nouvelle version doit être {previous.version + 1}.",
                             f"The new version must be {previous.version + 1}."))
    return issues


# --- §6.4 validations --------------------------------------------------------------------------


def _issue(rule_id: str, severity: IssueSeverity, field: str, fr: str, en: str) -> ProtocolIssue:
    return ProtocolIssue(rule_id=rule_id, severity=severity, field=field, message_fr=fr, message_en=en,
                         source=f"{SECTION_VALIDATION} {rule_id}")


def check_intensity(
    definition: ProtocolDefinition, block_index: int, intensity_pct_mt: Number
) -> ProtocolIssue | None:
    """V-PRO-04: an intensity outside the block's catalogue range needs a physician override."""
    block = definition.blocks[block_index]
    value = to_fraction(intensity_pct_mt)
    low = to_fraction(block.intensity_range_pct_mt.min)
    high = to_fraction(block.intensity_range_pct_mt.max)
    if low <= value <= high:
        return None
    shown = float(value)
    return _issue(
        "V-PRO-04", "needs_override", f"blocks[{block_index}].intensity_pct_mt",
        f"Intensité {shown:g} % du seuil moteur hors de la plage du catalogue ({low} à {high} %) : "
        "dérogation du médecin requise.",
        f"Intensity {shown:g} % MT is outside the catalogue range ({low}-{high} %): a physician override is needed.",
    )


def validate_protocol(
    definition: ProtocolDefinition,
    *,
    tolerance_pct: int,
    catalogue: ProtocolCatalogue | None = None,
) -> ProtocolValidation:
    """Run V-PRO-01..08 on one definition; every finding is returned, none stops the others.

    ``tolerance_pct`` is the V-PRO-02 setting ``pro.duration_tolerance_pct`` (5, *design*). With a
    ``catalogue``, V-PRO-04 uses the catalogue's range for the same protocol id, V-PRO-06 asks for
    an override when the definition is not a published catalogue version, and V-PRO-08 checks the
    version number against the published ones.
    """
    issues: list[ProtocolIssue] = []
    issues += _v_pro_01(definition)
    issues += _v_pro_02(definition, tolerance_pct)
    issues += _v_pro_03(definition)
    issues += _v_pro_04(definition, catalogue)
    issues += _v_pro_05(definition)
    issues += _v_pro_07(definition)
    if catalogue is not None:
        issues += _v_pro_06(definition, catalogue)
        issues += _v_pro_08(definition, catalogue)
    return ProtocolValidation(
        errors=[i for i in issues if i.severity == "error"],
        warnings=[i for i in issues if i.severity == "warning"],
        needs_override=[i for i in issues if i.severity == "needs_override"],
    )


def _v_pro_01(definition: ProtocolDefinition) -> list[ProtocolIssue]:
    issues: list[ProtocolIssue] = []
    for index, block in enumerate(definition.blocks):
        field = f"blocks[{index}].pulses"
        try:
            computed = block_pulses(block)
        except ProtocolArithmeticError as exc:
            issues.append(_issue("V-PRO-01", "error", field, f"Nombre d'impulsions non calculable : {exc}.",
                                 f"Pulses cannot be computed: {exc}."))
            continue
        if computed != block.pulses:
            issues.append(_issue(
                "V-PRO-01", "error", field,
                f"Impulsions déclarées {block.pulses} ≠ calculées {float(computed):g}.",
                f"Declared pulses {block.pulses} differ from the computed {float(computed):g}.",
            ))
    return issues


def _v_pro_02(definition: ProtocolDefinition, tolerance_pct: int) -> list[ProtocolIssue]:
    declared = definition.declared_duration_s
    if declared is None:
        return []
    try:
        by_session = session_seconds(definition)
        by_cycle = cycle_seconds(definition)
    except ProtocolArithmeticError:
        return []  # V-PRO-01 already reports the missing fields

    def off(computed: Fraction) -> bool:
        return computed == 0 or abs(declared - computed) * 100 > tolerance_pct * computed

    if off(by_session) and off(by_cycle):
        return [_issue(
            "V-PRO-02", "warning", "declared_duration_s",
            f"Durée déclarée {format_duration(declared)} éloignée de plus de {tolerance_pct} % de la durée calculée "
            f"({format_duration(by_session)}) et de la durée par cycles ({format_duration(by_cycle)}).",
            f"Declared duration {format_duration(declared)} is more than {tolerance_pct} % away from the computed "
            f"session ({format_duration(by_session)}) and cycle ({format_duration(by_cycle)}) durations.",
        )]
    return []


def _v_pro_03(definition: ProtocolDefinition) -> list[ProtocolIssue]:
    issues: list[ProtocolIssue] = []
    tbs = definition.pattern in ("itbs", "ctbs")
    for index, block in enumerate(definition.blocks):
        if block.burst is None:
            if tbs:
                issues.append(_issue("V-PRO-03", "error", f"blocks[{index}].burst",
                                     "Un protocole thêta-burst décrit ses salves.",
                                     "A theta-burst protocol must describe its bursts."))
            continue
        burst = block.burst
        field = f"blocks[{index}].burst"
        if block.train_duration_s is not None:
            per_train = bursts_per_train(block)
            if per_train.denominator != 1:
                issues.append(_issue("V-PRO-03", "error", f"blocks[{index}].train_duration_s",
                                     f"Nombre de salves par train non entier ({float(per_train):g}).",
                                     f"Bursts per train is not an integer ({float(per_train):g})."))
        if burst.intra_burst_hz <= 0 or burst.burst_rate_hz <= 0:
            issues.append(_issue("V-PRO-03", "error", field, "Fréquences de salve nulles ou négatives.",
                                 "Burst frequencies must be positive."))
            continue
        burst_span = Fraction(burst.pulses_per_burst) / to_fraction(burst.intra_burst_hz)
        if burst_span > 1 / to_fraction(burst.burst_rate_hz):
            issues.append(_issue(
                "V-PRO-03", "error", field,
                "Une salve (impulsions × période intra-salve) dépasse la période entre salves.",
                "A burst (pulses × intra-burst period) does not fit inside 1 / burst_rate_hz.",
            ))
    return issues


def _v_pro_04(definition: ProtocolDefinition, catalogue: ProtocolCatalogue | None) -> list[ProtocolIssue]:
    reference = definition
    if catalogue is not None and definition.id in catalogue:
        published = catalogue.get(definition.id)
        if len(published.blocks) == len(definition.blocks):
            reference = published
    issues: list[ProtocolIssue] = []
    for index, block in enumerate(definition.blocks):
        issue = check_intensity(reference, index, block.intensity_pct_mt)
        if issue is not None:
            issues.append(issue)
    return issues


def _v_pro_05(definition: ProtocolDefinition) -> list[ProtocolIssue]:
    issues: list[ProtocolIssue] = []
    for index, block in enumerate(definition.blocks):
        if block.continuous or block.iti_s is None:
            continue
        if to_fraction(block.intensity_pct_mt) > 100 and to_fraction(block.iti_s) <= 1:
            issues.append(_issue(
                "V-PRO-05", "error", f"blocks[{index}].iti_s",
                "Au-dessus de 100 % du seuil moteur, un intervalle entre trains ≤ 1 s n'est pas sûr (CHEN97).",
                "Above 100 % MT an inter-train interval ≤ 1 s is unsafe (CHEN97).",
            ))
    return issues


def _v_pro_06(definition: ProtocolDefinition, catalogue: ProtocolCatalogue) -> list[ProtocolIssue]:
    fingerprint = protocol_fingerprint(definition)
    if any(protocol_fingerprint(p) == fingerprint for p in catalogue.versions(definition.id)):
        return []
    return [_issue(
        "V-PRO-06", "needs_override", "id",
        "Protocole hors catalogue : la table de sécurité de Wassermann (1998) n'est pas encore transcrite, "
        "une dérogation du médecin est requise.",
        "Protocol not in the catalogue: the Wassermann 1998 safety table is not implemented yet, "
        "so a physician override is required.",
    )]


def _v_pro_07(definition: ProtocolDefinition) -> list[ProtocolIssue]:
    most = max([definition.sessions_per_day, *definition.sessions_per_day_options])
    if most > 1 and (definition.min_isi_min is None or definition.isi_anchor is None):
        return [_issue(
            "V-PRO-07", "error", "min_isi_min",
            "Plusieurs séances par jour : intervalle minimal entre séances et ancrage "
            "(fin→début ou début→début) requis.",
            "Several sessions a day require min_isi_min and isi_anchor.",
        )]
    return []


def _v_pro_08(definition: ProtocolDefinition, catalogue: ProtocolCatalogue) -> list[ProtocolIssue]:
    published = catalogue.versions(definition.id)
    if not published:
        return [] if definition.version == 1 else [_issue(
            "V-PRO-08", "error", "version", "Un nouveau protocole commence à la version 1.",
            "A new protocol starts at version 1.")]
    for candidate in published:
        if candidate.version == definition.version:
            return check_new_version(candidate, definition)
    return check_new_version(published[-1], definition)


def validate_catalogue(catalogue: ProtocolCatalogue, *, tolerance_pct: int) -> dict[str, ProtocolValidation]:
    """:func:`validate_protocol` for every published version, keyed by ``id@version``."""
    return {p.ref: validate_protocol(p, tolerance_pct=tolerance_pct) for p in catalogue.protocols}


def prescription_issues(
    definition: ProtocolDefinition, intensities_pct_mt: Sequence[Number]
) -> list[ProtocolIssue]:
    """V-PRO-04 on a prescription: one intensity per block against the catalogue range."""
    if len(intensities_pct_mt) != len(definition.blocks):
        raise ValueError(f"{definition.ref} has {len(definition.blocks)} blocks")
    return [i for i in (check_intensity(definition, n, v) for n, v in enumerate(intensities_pct_mt)) if i is not None]

