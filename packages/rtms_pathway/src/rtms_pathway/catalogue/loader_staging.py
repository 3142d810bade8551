"""Strict loaders of ``staging_settings.yaml`` and ``mbc_settings.yaml``.

Each setting is ``{value, confidence, source[, alternative]}`` (domain-rtms §0.1). The loader
refuses an unknown key, a missing key, a value of the wrong type or outside its plausible range,
and reports every problem at once, each message naming the file and the key, so that a typo in a
clinical threshold can never pass silently.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar

import msgspec
import yaml

from rtms_pathway.model.mbc import MbcSettings, RelapseCutoff, SwitchRule
from rtms_pathway.model.sessions import SessionSettings
from rtms_pathway.model.staging import (
    ChecklistItem,
    Confidence,
    MoleculeDose,
    MsmCategory,
    MsmTable,
    SettingProvenance,
    StagingSettings,
)
from shared_core.text import fold

STAGING_FILE = "staging_settings.yaml"
MBC_FILE = "mbc_settings.yaml"

Check = Callable[[Any], str | None]
T = TypeVar("T")


class SettingsError(ValueError):
    """A settings file is malformed. ``problems`` lists every problem as ``file: key: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: Any
    confidence: Confidence
    source: str
    alternative: str | None = None


class _Spec(NamedTuple):
    field: str
    type: Any
    check: Check | None = None


def _between(low: int | Decimal, high: int | Decimal) -> Check:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be in {low}–{high}, got {value}"

    return check


def _at_least(low: int) -> Check:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be ≥ {low}, got {value}"

    return check


def _ascending_positive(value: Any) -> str | None:
    items = list(value)
    if not items:
        return "must not be empty"
    if any(item <= 0 for item in items) or items != sorted(set(items)):
        return f"must be strictly increasing positive numbers, got {items}"
    return None


def _non_empty_strings(value: Any) -> str | None:
    items = [value] if isinstance(value, str) else list(value)
    if not items or any(not item.strip() for item in items):
        return "must be non-empty text"
    return None


_PCT = _between(1, 100)

_STAGING_SPEC: dict[str, _Spec] = {
    "stg.min_weeks": _Spec("min_weeks", int, _between(4, 6)),
    "stg.has_failure_below_pct": _Spec("has_failure_below_pct", int, _PCT),
    "stg.eu_pearl_failure_below_pct": _Spec("eu_pearl_failure_below_pct", int, _PCT),
    "stg.response_pct": _Spec("response_pct", int, _PCT),
    "stg.require_different_classes": _Spec("require_different_classes", bool),
    "stg.failure_definition": _Spec("failure_definition", Literal["has", "eu_pearl"]),
    "stg.eu_pearl_counts_augmentation": _Spec("eu_pearl_counts_augmentation", bool),
    "stg.high_resistance_definition": _Spec("high_resistance_definition", Literal["mtr_mdd", "msm"]),
    "stg.high_resistance_msm_min": _Spec("high_resistance_msm_min", int, _between(3, 15)),
    "stg.msm_trd_cutoff": _Spec("msm_trd_cutoff", Decimal, _between(Decimal(3), Decimal(15))),
    "stg.prd_min_partial_trials": _Spec("prd_min_partial_trials", int, _at_least(1)),
    "stg.bipolar_trd_min_failures": _Spec("bipolar_trd_min_failures", int, _at_least(1)),
    "mtr.min_antidepressant_failures": _Spec("mtr_min_antidepressant_failures", int, _at_least(1)),
    "mtr.min_augmentation_failures": _Spec("mtr_min_augmentation_failures", int, _at_least(0)),
    "mtr.min_psychotherapy_failures": _Spec("mtr_min_psychotherapy_failures", int, _at_least(0)),
    "mtr.evidence_based_psychotherapies": _Spec("evidence_based_psychotherapies", tuple[str, ...], _non_empty_strings),
}

_MBC_SPEC: dict[str, _Spec] = {
    "mbc.early.sessions": _Spec("early_sessions", int, _at_least(1)),
    "mbc.early.min_pct": _Spec("early_min_pct", int, _PCT),
    "mbc.response_pct": _Spec("response_pct", int, _PCT),
    "mbc.partial_low": _Spec("partial_low_pct", int, _PCT),
    "mbc.adequate_course_sessions": _Spec("adequate_course_sessions", int, _at_least(1)),
    "mbc.residual_gad7": _Spec("residual_gad7", int, _between(0, 21)),
    "mbc.relapse_gain_loss_pct": _Spec("relapse_gain_loss_pct", int, _PCT),
    "mbc.extension_sessions": _Spec("extension_sessions", tuple[int, ...], _ascending_positive),
    "mbc.rescue_template": _Spec("rescue_template", str, _non_empty_strings),
    "mbc.rescue_sessions": _Spec("rescue_sessions", int, _at_least(1)),
    "mbc.ymrs.absolute_min": _Spec("ymrs_absolute", int, _between(0, 60)),
    "mbc.ymrs.rise_min": _Spec("ymrs_rise", int, _between(1, 60)),
    "mbc.primary_scale": _Spec("primary_scale", str, _non_empty_strings),
    "mbc.self_report_scale": _Spec("self_report_scale", str, _non_empty_strings),
    "mbc.anxiety_scale": _Spec("anxiety_scale", str, _non_empty_strings),
    "mbc.risk_scale": _Spec("risk_scale", str, _non_empty_strings),
    "mbc.mania_scale": _Spec("mania_scale", str, _non_empty_strings),
    "mbc.baseline_window_days": _Spec("baseline_window_days", int, _between(0, 60)),
    "mbc.end_window_days": _Spec("end_window_days", int, _between(0, 30)),
    "mbc.cadence.induction_self_every_sessions": _Spec("induction_self_every_sessions", int, _at_least(1)),
    "mbc.cadence.induction_clinician_after_sessions": _Spec(
        "induction_clinician_after_sessions", tuple[int, ...], _ascending_positive
    ),
    "mbc.cadence.follow_up_self_months": _Spec("follow_up_self_months", tuple[int, ...], _ascending_positive),
    "mbc.cadence.follow_up_clinician_months": _Spec(
        "follow_up_clinician_months", tuple[int, ...], _ascending_positive
    ),
    "mbc.cadence.maintenance_self_every_months": _Spec("maintenance_self_every_months", int, _between(1, 12)),
    "mbc.cadence.maintenance_clinician_every_months": _Spec(
        "maintenance_clinician_every_months", int, _between(1, 12)
    ),
    "mbc.cadence.relapse_window_months": _Spec("relapse_window_months", int, _between(1, 36)),
    "mbc.cadence.relapse_window_self_every_days": _Spec("relapse_window_self_every_days", int, _between(1, 90)),
    "mbc.cadence.follow_up_window_days": _Spec("follow_up_window_days", int, _between(0, 60)),
    "mbc.cadence.horizon_months": _Spec("horizon_months", int, _between(1, 60)),
}

_SESSION_SPEC: dict[str, _Spec] = {
    "ses.partial_threshold_pct": _Spec("partial_threshold_pct", int, _PCT),
    "ses.seizure_always_sae": _Spec("seizure_always_sae", bool),
}


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{self.name}: {key}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise SettingsError(self.items)


# -- public API -------------------------------------------------------------------------------


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_staging_settings(path: Path | None = None) -> StagingSettings:
    """The shipped staging settings, or those of ``path`` (a site's validated copy)."""
    if path is None:
        return _shipped_staging()
    return parse_staging_settings(_read(path), str(path))


@functools.cache
def load_mbc_settings(path: Path | None = None) -> MbcSettings:
    if path is None:
        return _shipped_mbc()[0]
    return parse_mbc_settings(_read(path), str(path))


@functools.cache
def load_session_settings(path: Path | None = None) -> SessionSettings:
    """The ``ses.*`` settings, which live in ``mbc_settings.yaml``."""
    if path is None:
        return _shipped_mbc()[1]
    return _parse_mbc_file(_read(path), str(path))[1]


def parse_staging_settings(text: str, name: str = STAGING_FILE) -> StagingSettings:
    problems = _Problems(name)
    raw = _document(text, problems, {"version", "settings", "msm", "molecules", "pseudo_resistance"})
    values, provenance = _settings(raw.get("settings"), _STAGING_SPEC, problems)
    msm = _convert(raw.get("msm"), MsmTable, "msm", problems)
    molecules = _convert(raw.get("molecules"), tuple[MoleculeDose, ...], "molecules", problems)
    checklist = _checklist(raw.get("pseudo_resistance"), problems)
    if msm is not None:
        provenance["msm"] = SettingProvenance(msm.confidence, msm.source)
        _check_msm(msm, problems)
    if molecules is not None:
        _check_molecules(molecules, problems)
    if checklist is not None:
        provenance["pseudo_resistance"] = checklist[1]
    _check_staging_values(values, problems)
    problems.raise_if_any()
    assert msm is not None and molecules is not None and checklist is not None
    return StagingSettings(
        version=str(raw["version"]),
        msm=msm,
        molecules=molecules,
        pseudo_resistance=checklist[0],
        provenance=provenance,
        **values,
    )


def parse_mbc_settings(text: str, name: str = MBC_FILE) -> MbcSettings:
    return _parse_mbc_file(text, name)[0]


def parse_session_settings(text: str, name: str = MBC_FILE) -> SessionSettings:
    return _parse_mbc_file(text, name)[1]


# -- internals --------------------------------------------------------------------------------


@functools.cache
def _shipped_staging() -> StagingSettings:
    return parse_staging_settings(_package_text(STAGING_FILE), STAGING_FILE)


@functools.cache
def _shipped_mbc() -> tuple[MbcSettings, SessionSettings]:
    return _parse_mbc_file(_package_text(MBC_FILE), MBC_FILE)


def _package_text(file_name: str) -> str:
    return resources.files("rtms_pathway.catalogue").joinpath(file_name).read_text(encoding="utf-8")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError([f"{path}: cannot be read ({exc.strerror})"]) from exc


def _parse_mbc_file(text: str, name: str) -> tuple[MbcSettings, SessionSettings]:
    problems = _Problems(name)
    raw = _document(text, problems, {"version", "settings", "relapse_cutoffs", "switch_map"})
    spec = {**_MBC_SPEC, **_SESSION_SPEC}
    values, provenance = _settings(raw.get("settings"), spec, problems)
    cutoffs = _convert(raw.get("relapse_cutoffs"), tuple[RelapseCutoff, ...], "relapse_cutoffs", problems)
    switch_map = _convert(raw.get("switch_map"), tuple[SwitchRule, ...], "switch_map", problems)
    if switch_map is not None:
        _check_switch_map(switch_map, problems)
    _check_mbc_values(values, problems)
    problems.raise_if_any()
    assert cutoffs is not None and switch_map is not None
    version = str(raw["version"])
    mbc_fields = {spec_.field for spec_ in _MBC_SPEC.values()}
    mbc = MbcSettings(
        version=version,
        relapse_cutoffs=cutoffs,
        switch_map=switch_map,
        provenance={key: prov for key, prov in provenance.items() if key in _MBC_SPEC},
        **{field: value for field, value in values.items() if field in mbc_fields},
    )
    sessions = SessionSettings(
        version=version,
        partial_threshold_pct=values["partial_threshold_pct"],
        seizure_always_sae=values["seizure_always_sae"],
        provenance={key: prov for key, prov in provenance.items() if key in _SESSION_SPEC},
    )
    return mbc, sessions


def _document(text: str, problems: _Problems, keys: set[str]) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError([f"{problems.name}: not valid YAML ({exc})"]) from exc
    if not isinstance(raw, dict):
        raise SettingsError([f"{problems.name}: expected a mapping at the top level"])
    for key in sorted(set(raw) - keys, key=str):
        problems.add(str(key), "unknown key")
    # Missing sections are reported where they are read; only the version is checked here.
    if "version" not in raw:
        problems.add("version", "missing")
    version = raw.get("version")
    if "version" in raw and (not isinstance(version, str) or not version.strip()):
        problems.add("version", "must be non-empty text (quote it)")
    return raw


def _settings(
    raw: Any, spec: Mapping[str, _Spec], problems: _Problems
) -> tuple[dict[str, Any], dict[str, SettingProvenance]]:
    values: dict[str, Any] = {}
    provenance: dict[str, SettingProvenance] = {}
    if raw is None:
        problems.add("settings", "missing")
        return values, provenance
    if not isinstance(raw, dict):
        problems.add("settings", "expected a mapping of setting keys")
        return values, provenance
    for key in sorted(set(raw) - set(spec), key=str):
        problems.add(f"settings.{key}", "unknown key")
    for key, item in spec.items():
        where = f"settings.{key}"
        if key not in raw:
            problems.add(where, "missing")
            continue
        try:
            entry = msgspec.convert(raw[key], _Entry)
            value = msgspec.convert(entry.value, item.type)
        except msgspec.ValidationError as exc:
            problems.add(where, str(exc))
            continue
        message = item.check(value) if item.check is not None else None
        if message is not None:
            problems.add(where, message)
            continue
        values[item.field] = value
        provenance[key] = SettingProvenance(entry.confidence, entry.source, entry.alternative)
    return values, provenance


def _convert(raw: Any, kind: type[T], where: str, problems: _Problems) -> T | None:
    if raw is None:
        problems.add(where, "missing")
        return None
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        problems.add(where, str(exc))
        return None


class _Checklist(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    confidence: Confidence
    source: str
    items: tuple[ChecklistItem, ...]


def _checklist(
    raw: Any, problems: _Problems
) -> tuple[tuple[ChecklistItem, ...], SettingProvenance] | None:
    checklist = _convert(raw, _Checklist, "pseudo_resistance", problems)
    if checklist is None:
        return None
    codes = [item.code for item in checklist.items]
    if not codes:
        problems.add("pseudo_resistance.items", "must not be empty")
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.add(f"pseudo_resistance.items.{code}", "duplicate code")
    return checklist.items, SettingProvenance(checklist.confidence, checklist.source)


def _check_categories(categories: tuple[MsmCategory, ...], where: str, problems: _Problems) -> None:
    if not categories:
        problems.add(where, "must not be empty")
        return
    bounds = [c.max for c in categories]
    if bounds[-1] is not None:
        problems.add(where, "the last category must be open-ended (max: null)")
    finite = [b for b in bounds[:-1] if b is not None]
    if len(finite) != len(bounds) - 1 or finite != sorted(set(finite)):
        problems.add(where, "max values must be strictly increasing, only the last one null")


def _check_msm(msm: MsmTable, problems: _Problems) -> None:
    _check_categories(msm.duration_months, "msm.duration_months", problems)
    _check_categories(msm.antidepressant_failures, "msm.antidepressant_failures", problems)
    missing = {"subsyndromal", "mild", "moderate", "severe_without_psychosis", "severe_with_psychosis"} - set(
        msm.severity
    )
    if missing:
        problems.add("msm.severity", f"missing categories {sorted(missing)}")
    if not msm.bands or not msm.duration_months or not msm.antidepressant_failures or missing:
        if not msm.bands:
            problems.add("msm.bands", "must not be empty")
        return
    low = (min(c.points for c in msm.duration_months) + min(msm.severity.values())
           + min(c.points for c in msm.antidepressant_failures))
    high = (max(c.points for c in msm.duration_months) + max(msm.severity.values())
            + max(c.points for c in msm.antidepressant_failures) + msm.augmentation_used + msm.ect_used)
    bands = msm.bands
    if bands[0].min != low or bands[-1].max != high:
        problems.add("msm.bands", f"must cover the possible totals {low}–{high}")
    for first, second in itertools.pairwise(bands):
        if second.min != first.max + 1:
            problems.add("msm.bands", f"{first.code} and {second.code} are not contiguous")
    if any(band.min > band.max for band in bands):
        problems.add("msm.bands", "a band has min > max")


def _check_molecules(molecules: tuple[MoleculeDose, ...], problems: _Problems) -> None:
    seen: set[str] = set()
    for row in molecules:
        where = f"molecules.{row.agent}"
        names = {fold(row.agent), *(fold(alias) for alias in row.aliases)}
        if names & seen:
            problems.add(where, "duplicate agent or alias")
        seen |= names
        if row.agent != fold(row.agent):
            problems.add(where, "agent must be the lower-case, accent-free INN")
        if row.min_effective_dose <= 0:
            problems.add(where, "min_effective_dose must be > 0")
        if not row.unit.strip():
            problems.add(where, "unit must not be empty")


def _check_switch_map(rules: tuple[SwitchRule, ...], problems: _Problems) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        where = f"switch_map[{index}]"
        if not rule.from_protocols or not rule.suggest:
            problems.add(where, "from_protocols and suggest must not be empty")
        duplicated = seen & set(rule.from_protocols)
        if duplicated:
            problems.add(where, f"protocols {sorted(duplicated)} already mapped")
        seen |= set(rule.from_protocols)
        if set(rule.from_protocols) & set(rule.suggest):
            problems.add(where, "a protocol cannot be suggested after its own non-response")


def _check_staging_values(values: dict[str, Any], problems: _Problems) -> None:
    response = values.get("response_pct")
    for key, field in (("stg.has_failure_below_pct", "has_failure_below_pct"),
                       ("stg.eu_pearl_failure_below_pct", "eu_pearl_failure_below_pct")):
        value = values.get(field)
        if response is not None and value is not None and value > response:
            problems.add(f"settings.{key}", f"must not exceed stg.response_pct ({response})")


def _check_mbc_values(values: dict[str, Any], problems: _Problems) -> None:
    response, partial = values.get("response_pct"), values.get("partial_low_pct")
    if response is not None and partial is not None and partial >= response:
        problems.add("settings.mbc.partial_low", f"must be below mbc.response_pct ({response})")
    early = values.get("early_min_pct")
    if response is not None and early is not None and early >= response:
        problems.add("settings.mbc.early.min_pct", f"must be below mbc.response_pct ({response})")
