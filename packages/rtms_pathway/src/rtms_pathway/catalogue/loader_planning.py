"""Strict loaders of ``protocols.yaml``, ``planning_templates.yaml`` and ``planning_settings.yaml``.

Each loader refuses an unknown key, a missing key, a duplicated key, a value of the wrong type or
outside its plausible range, and reports every problem it can find at once; each message names
the file and the key (``protocols.yaml: protocols[itbs_left@1].blocks[0].pulses: ...``), so a typo
in a clinical value can never pass silently. The protocol catalogue is also checked against
V-PRO-01..08 (domain-rtms §6.4): a data-integrity error refuses the file.

The ``load_*`` functions read the shipped package data once per process (it is immutable);
the ``parse_*`` functions take text and are what tests and tools use.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Hashable
from importlib import resources
from typing import Any, NamedTuple

import msgspec
import yaml

from rtms_pathway.model.planning import (
    MaintenanceTemplate,
    PlanningSettings,
    PlanningTemplates,
    SettingProvenance,
    TaperTemplate,
)
from rtms_pathway.model.protocols import (
    CONFIDENCE_ORDER,
    Confidence,
    ProtocolBlock,
    ProtocolCatalogue,
    ProtocolDefinition,
    weakest_confidence,
)
from rtms_pathway.rules.protocols import protocol_fingerprint, validate_protocol

__all__ = [
    "PROTOCOLS_FILE",
    "SETTINGS_FILE",
    "TEMPLATES_FILE",
    "PlanningCatalogueError",
    "load_planning_settings",
    "load_planning_templates",
    "load_protocol_catalogue",
    "parse_planning_settings",
    "parse_planning_templates",
    "parse_protocol_catalogue",
    "ruleset_version",
]

PROTOCOLS_FILE = "protocols.yaml"
TEMPLATES_FILE = "planning_templates.yaml"
SETTINGS_FILE = "planning_settings.yaml"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_ID = re.compile(r"^[TM]-[A-Z0-9-]+$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class PlanningCatalogueError(ValueError):
    """A planning data file is malformed. ``problems`` lists every problem as ``file: key: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Problems:
    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{self.name}: {key}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise PlanningCatalogueError(self.items)


# --- YAML: refuse duplicated keys (PyYAML keeps the last one silently) ---------------------------


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicated key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def _read_yaml(text: str, name: str) -> dict[str, Any]:
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        raise PlanningCatalogueError([f"{name}: not valid YAML: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise PlanningCatalogueError([f"{name}: expected a mapping at the top level"])
    return raw


def _convert_error(exc: msgspec.ValidationError) -> tuple[str, str]:
    """Split msgspec's ``message - at `$.a.b` `` into ``(".a.b", message)``."""
    text = str(exc)
    match = re.search(r" - at `\$(.*)`$", text)
    if match is None:
        return "", text
    return match.group(1), text[: match.start()]


def _top_keys(raw: dict[str, Any], expected: set[str], problems: _Problems) -> None:
    for key in sorted(set(raw) - expected, key=str):
        problems.add(str(key), "unknown key")
    for key in sorted(expected - set(raw)):
        problems.add(key, "missing")


def _check_confidence(
    key: str, confidence: Confidence, facts: dict[str, Confidence], problems: _Problems
) -> None:
    weakest = weakest_confidence([confidence, *facts.values()])
    if CONFIDENCE_ORDER[weakest] > CONFIDENCE_ORDER[confidence]:
        problems.add(f"{key}.confidence", f"is {confidence!r} but a fact is {weakest!r}; use the weakest marker")


# --- protocols.yaml ---------------------------------------------------------------------------


def parse_protocol_catalogue(text: str, name: str = PROTOCOLS_FILE, *, verify_hashes: bool = True) -> ProtocolCatalogue:
    """Parse and check the protocol catalogue; ``verify_hashes=False`` only for tooling that
    computes the hashes of a new version."""
    raw = _read_yaml(text, name)
    problems = _Problems(name)
    _top_keys(raw, {"catalogue_version", "protocols"}, problems)
    entries = raw.get("protocols")
    if not isinstance(entries, list) or not entries:
        problems.add("protocols", "must be a non-empty list")
        raise PlanningCatalogueError(problems.items)
    definitions: list[ProtocolDefinition] = []
    for index, entry in enumerate(entries):
        label = _entry_label(entry, index)
        try:
            definition = msgspec.convert(entry, ProtocolDefinition)
        except msgspec.ValidationError as exc:
            path, message = _convert_error(exc)
            problems.add(f"protocols[{label}]{path}", message)
            continue
        _check_protocol(definition, f"protocols[{definition.ref}]", problems, verify_hashes)
        definitions.append(definition)
    _check_versions(definitions, problems)
    version = raw.get("catalogue_version")
    if not isinstance(version, str) or not version.strip():
        problems.add("catalogue_version", "must be non-empty text")
    problems.raise_if_any()
    return ProtocolCatalogue(catalogue_version=str(version), protocols=definitions)


def _entry_label(entry: object, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return f"{entry['id']}@{entry.get('version', '?')}"
    return str(index)


def _check_versions(definitions: list[ProtocolDefinition], problems: _Problems) -> None:
    seen: dict[str, list[int]] = {}
    for definition in definitions:
        seen.setdefault(definition.id, []).append(definition.version)
    for protocol_id, versions in seen.items():
        if len(set(versions)) != len(versions):
            problems.add(f"protocols[{protocol_id}]", "a version is published twice (V-PRO-08)")
        elif sorted(versions) != list(range(1, len(versions) + 1)):
            problems.add(f"protocols[{protocol_id}].version",
                         f"versions must be 1..n without gaps, got {sorted(versions)}")


def _check_protocol(definition: ProtocolDefinition, key: str, problems: _Problems, verify_hash: bool) -> None:
    if not _ID.match(definition.id):
        problems.add(f"{key}.id", "must be lower-case snake_case")
    if definition.version < 1:
        problems.add(f"{key}.version", "must be ≥ 1")
    for field in ("name", "label_fr"):
        if not str(getattr(definition, field)).strip():
            problems.add(f"{key}.{field}", "must be non-empty text")
    expected_blocks = 2 if definition.pattern == "sequential_bilateral" else 1
    if len(definition.blocks) != expected_blocks:
        problems.add(f"{key}.blocks", f"pattern {definition.pattern} has {expected_blocks} block(s)")
    for index, block in enumerate(definition.blocks):
        _check_block(block, definition.pattern, f"{key}.blocks[{index}]", problems)
    if definition.inter_block_pause_s < 0:
        problems.add(f"{key}.inter_block_pause_s", "must be ≥ 0")
    _check_course_fields(definition, key, problems)
    if not definition.sources:
        problems.add(f"{key}.sources", "must cite at least one source")
    if not definition.evidence:
        problems.add(f"{key}.evidence", "must list at least one evidence statement")
    _check_confidence(key, definition.confidence, definition.fact_confidence, problems)
    if verify_hash:
        fingerprint = protocol_fingerprint(definition)
        if not _HASH.match(definition.content_hash):
            problems.add(f"{key}.content_hash", f"missing or malformed; this entry's fingerprint is {fingerprint}")
        elif definition.content_hash != fingerprint:
            problems.add(
                f"{key}.content_hash",
                "content changed without a new version: a published version is immutable (V-PRO-08); "
                f"add version {definition.version + 1} instead (its fingerprint will differ; "
                f"this content hashes to {fingerprint})",
            )
    # §6.4 data-integrity rules block the file; warnings are left to the catalogue screen.
    validation = validate_protocol(definition, tolerance_pct=100)
    for issue in validation.errors:
        problems.add(f"{key}.{issue.field}", f"{issue.rule_id}: {issue.message_en}")
    for issue in validation.needs_override:
        problems.add(f"{key}.{issue.field}", f"{issue.rule_id}: the catalogue default itself needs an override")


def _check_block(block: ProtocolBlock, pattern: str, key: str, problems: _Problems) -> None:
    present = {
        name
        for name in ("frequency_hz", "burst", "duration_s", "train_duration_s", "iti_s", "n_trains")
        if getattr(block, name) is not None
    }
    if block.continuous:
        shape, needed = "continuous", {"frequency_hz", "duration_s"}
    elif block.burst is not None or pattern in ("itbs", "ctbs"):
        shape, needed = "theta-burst", {"burst", "train_duration_s", "iti_s", "n_trains"}
    else:
        shape, needed = "rTMS trains", {"frequency_hz", "train_duration_s", "iti_s", "n_trains"}
    for name in sorted(needed - present):
        problems.add(f"{key}.{name}", f"required for a {shape} block")
    for name in sorted(present - needed):
        problems.add(f"{key}.{name}", f"not used by a {shape} block")
    for name in ("frequency_hz", "duration_s", "train_duration_s", "n_trains"):
        value = getattr(block, name)
        if value is not None and value <= 0:
            problems.add(f"{key}.{name}", "must be > 0")
    if block.iti_s is not None and block.iti_s < 0:
        problems.add(f"{key}.iti_s", "must be ≥ 0")
    if block.pulses <= 0:
        problems.add(f"{key}.pulses", "must be > 0")
    low, high = block.intensity_range_pct_mt.min, block.intensity_range_pct_mt.max
    if not 0 < low <= high:
        problems.add(f"{key}.intensity_range_pct_mt", "must satisfy 0 < min ≤ max")


def _check_course_fields(definition: ProtocolDefinition, key: str, problems: _Problems) -> None:
    if definition.sessions_per_day < 1:
        problems.add(f"{key}.sessions_per_day", "must be ≥ 1")
    options = definition.sessions_per_day_options
    if options and definition.sessions_per_day not in options:
        problems.add(f"{key}.sessions_per_day_options", "must include sessions_per_day")
    if any(o < 1 for o in options):
        problems.add(f"{key}.sessions_per_day_options", "must be ≥ 1")
    if definition.min_isi_min is not None and definition.min_isi_min < 0:
        problems.add(f"{key}.min_isi_min", "must be ≥ 0")
    if not 1 <= definition.days_per_week <= 7:
        problems.add(f"{key}.days_per_week", "must be in 1..7")
    if definition.induction:
        acute_range = definition.acute_sessions_range
        if acute_range is None or definition.acute_sessions_default is None:
            problems.add(f"{key}.acute_sessions_range", "an induction protocol needs acute_sessions_default and _range")
        elif not 1 <= acute_range[0] <= definition.acute_sessions_default <= acute_range[1]:
            problems.add(f"{key}.acute_sessions_default", f"must lie in acute_sessions_range {list(acute_range)}, ≥ 1")
    elif definition.maintenance_sessions_per_week_range is None:
        problems.add(f"{key}.maintenance_sessions_per_week_range", "required when induction is false")
    for name in ("acute_weeks_range", "maintenance_sessions_per_week_range"):
        pair = getattr(definition, name)
        if pair is not None and not 1 <= pair[0] <= pair[1]:
            problems.add(f"{key}.{name}", "must satisfy 1 ≤ min ≤ max")
    if definition.declared_duration_s is not None and definition.declared_duration_s <= 0:
        problems.add(f"{key}.declared_duration_s", "must be > 0")


# --- planning_templates.yaml ------------------------------------------------------------------


def parse_planning_templates(text: str, name: str = TEMPLATES_FILE) -> PlanningTemplates:
    raw = _read_yaml(text, name)
    problems = _Problems(name)
    _top_keys(raw, {"version", "tapers", "maintenance"}, problems)
    tapers: list[TaperTemplate] = []
    maintenance: list[MaintenanceTemplate] = []
    for section, target, out in (("tapers", TaperTemplate, tapers), ("maintenance", MaintenanceTemplate, maintenance)):
        entries = raw.get(section)
        if not isinstance(entries, list):
            if section in raw:
                problems.add(section, "must be a list")
            continue
        for index, entry in enumerate(entries):
            label = entry.get("id", index) if isinstance(entry, dict) else index
            try:
                out.append(msgspec.convert(entry, target))  # type: ignore[arg-type]
            except msgspec.ValidationError as exc:
                path, message = _convert_error(exc)
                problems.add(f"{section}[{label}]{path}", message)
    ids = [t.id for t in tapers] + [m.id for m in maintenance]
    for template_id in sorted({i for i in ids if ids.count(i) > 1}):
        problems.add(template_id, "id used twice")
    for taper in tapers:
        _check_taper(taper, problems)
    for template in maintenance:
        _check_maintenance(template, problems)
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.add("version", "must be non-empty text")
    problems.raise_if_any()
    return PlanningTemplates(version=str(version), tapers=tapers, maintenance=maintenance)


def _weekdays_ok(days: list[int]) -> bool:
    return bool(days) and all(0 <= d <= 6 for d in days) and days == sorted(set(days))


def _check_taper(taper: TaperTemplate, problems: _Problems) -> None:
    key = f"tapers[{taper.id}]"
    if not _TEMPLATE_ID.match(taper.id) or not taper.id.startswith("T-"):
        problems.add(f"{key}.id", "must look like T-NAME")
    for index, week in enumerate(taper.weeks):
        if not _weekdays_ok(week):
            problems.add(f"{key}.weeks[{index}]", "must be increasing weekdays 0 (Monday) .. 6, at least one")
    if taper.weeks and not taper.sources:
        problems.add(f"{key}.sources", "must cite at least one source")
    _check_confidence(key, taper.confidence, taper.fact_confidence, problems)


def _check_maintenance(template: MaintenanceTemplate, problems: _Problems) -> None:
    key = f"maintenance[{template.id}]"
    if not _TEMPLATE_ID.match(template.id) or not template.id.startswith("M-"):
        problems.add(f"{key}.id", "must look like M-NAME")
    if not template.sources:
        problems.add(f"{key}.sources", "must cite at least one source")
    _check_confidence(key, template.confidence, template.fact_confidence, problems)
    if template.kind == "classic":
        if template.cluster is not None:
            problems.add(f"{key}.cluster", "not used by a classic template")
        if bool(template.steps) == (template.weekly is not None):
            problems.add(f"{key}.steps", "a classic template has either steps or weekly, not both")
        for index, step in enumerate(template.steps):
            if step.every_days <= 0:
                problems.add(f"{key}.steps[{index}].every_days", "must be > 0")
            if step.count is not None and step.count < 1:
                problems.add(f"{key}.steps[{index}].count", "must be ≥ 1 or null")
            if step.count is None and index != len(template.steps) - 1:
                problems.add(f"{key}.steps[{index}].count", "only the last step may be open-ended (null)")
        if template.weekly is not None:
            if not _weekdays_ok(template.weekly.weekdays):
                problems.add(f"{key}.weekly.weekdays", "must be increasing weekdays 0 (Monday) .. 6, at least one")
            if template.weekly.weeks is not None and template.weekly.weeks < 1:
                problems.add(f"{key}.weekly.weeks", "must be ≥ 1 or null")
        return
    if template.cluster is None:
        problems.add(f"{key}.cluster", f"required for a {template.kind} template")
        return
    if template.steps or template.weekly is not None:
        problems.add(f"{key}.steps", f"not used by a {template.kind} template")
    spec = template.cluster
    if not spec.day_sessions or any(n < 1 for n in spec.day_sessions):
        problems.add(f"{key}.cluster.day_sessions", "must be a non-empty list of counts ≥ 1")
    if spec.min_isi_min < 0:
        problems.add(f"{key}.cluster.min_isi_min", "must be ≥ 0")
    expected_anchor = "first_monday_of_month" if template.kind == "cluster" else "on_demand"
    if spec.anchor != expected_anchor:
        problems.add(f"{key}.cluster.anchor", f"a {template.kind} template uses {expected_anchor}")


# --- planning_settings.yaml -------------------------------------------------------------------


class _Spec(NamedTuple):
    field: str
    type: Any
    check: Callable[[Any], str | None] | None = None


def _between(low: int, high: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be in {low}–{high}, got {value}"

    return check


def _steps(value: Any) -> str | None:
    items = list(value)
    if not items or any(i < 1 for i in items) or items != sorted(set(items)):
        return f"must be strictly increasing counts ≥ 1, got {items}"
    return None


_SETTINGS_SPEC: dict[str, _Spec] = {
    "mt.interval_days": _Spec("mt_interval_days", int, _between(1, 31)),
    "mt.high_risk_interval_days": _Spec("mt_high_risk_interval_days", int, _between(1, 31)),
    "mt.change_confirm_pct": _Spec("mt_change_confirm_pct", int, _between(1, 100)),
    "mt.visual_twitch_emg_advice_pct_mt": _Spec("mt_visual_twitch_emg_advice_pct_mt", int, _between(50, 200)),
    "device.max_output_pct_mso": _Spec("device_max_output_pct_mso", int, _between(1, 100)),
    "sch.consecutive_missed_alert": _Spec("sch_consecutive_missed_alert", int, _between(1, 30)),
    "sch.induction_weeks_min": _Spec("sch_induction_weeks_min", int, _between(1, 52)),
    "sch.induction_weeks_max": _Spec("sch_induction_weeks_max", int, _between(1, 52)),
    "sch.full_week_days": _Spec("sch_full_week_days", int, _between(1, 7)),
    "sch.extension_steps": _Spec("sch_extension_steps", list[int], _steps),
    "sch.slot_granularity_min": _Spec("sch_slot_granularity_min", int, _between(1, 60)),
    "site.opening_time": _Spec("site_opening_time", dt.time),
    "site.closing_time": _Spec("site_closing_time", dt.time),
    "isi.default_min_isi_min": _Spec("isi_default_min_isi_min", int, _between(0, 720)),
    "isi.default_anchor": _Spec("isi_default_anchor", str, None),
    "maint.min_sessions_per_month": _Spec("maint_min_sessions_per_month", int, _between(0, 31)),
    "maint.relapse_window_months": _Spec("maint_relapse_window_months", int, _between(1, 36)),
    "maint.relapse_self_report_interval_days": _Spec("maint_relapse_self_report_interval_days", int, _between(1, 90)),
    "maint.horizon_months": _Spec("maint_horizon_months", int, _between(1, 60)),
    "pro.duration_tolerance_pct": _Spec("pro_duration_tolerance_pct", int, _between(0, 100)),
    "pro.intensity_rounding": _Spec("pro_intensity_rounding", str, None),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "isi.default_anchor": ("end_to_start", "start_to_start"),
    "pro.intensity_rounding": ("round_half_down", "round_half_up", "round_half_even", "floor", "ceil"),
}


class _Entry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: Any
    confidence: Confidence
    source: str
    alternative: str | None = None


def parse_planning_settings(text: str, name: str = SETTINGS_FILE) -> PlanningSettings:
    raw = _read_yaml(text, name)
    problems = _Problems(name)
    _top_keys(raw, {"version", "settings"}, problems)
    settings = raw.get("settings")
    if not isinstance(settings, dict):
        problems.add("settings", "must be a mapping of dotted keys")
        raise PlanningCatalogueError(problems.items)
    for key in sorted(set(settings) - set(_SETTINGS_SPEC), key=str):
        problems.add(str(key), "unknown setting")
    for key in sorted(set(_SETTINGS_SPEC) - set(settings)):
        problems.add(key, "missing")
    values: dict[str, Any] = {}
    provenance: dict[str, SettingProvenance] = {}
    for key, spec in _SETTINGS_SPEC.items():
        if key not in settings:
            continue
        try:
            entry = msgspec.convert(settings[key], _Entry)
        except msgspec.ValidationError as exc:
            path, message = _convert_error(exc)
            problems.add(f"{key}{path}", message)
            continue
        if not entry.source.strip():
            problems.add(f"{key}.source", "must be non-empty text")
        value = _setting_value(key, spec, entry.value, problems)
        if value is not None:
            values[spec.field] = value
        provenance[key] = SettingProvenance(
            confidence=entry.confidence, source=entry.source, alternative=entry.alternative
        )
    _cross_check_settings(values, problems)
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.add("version", "must be non-empty text")
    problems.raise_if_any()
    return PlanningSettings(version=str(version), provenance=provenance, **values)


def _setting_value(key: str, spec: _Spec, value: Any, problems: _Problems) -> Any:
    if spec.type is dt.time:
        match = _HHMM.match(value) if isinstance(value, str) else None
        if match is None:
            problems.add(f"{key}.value", f"must be a time HH:MM, got {value!r}")
            return None
        return dt.time(int(match.group(1)), int(match.group(2)))
    if isinstance(value, bool) and spec.type is not bool:
        problems.add(f"{key}.value", f"must be {getattr(spec.type, '__name__', spec.type)}, got a boolean")
        return None
    try:
        converted = msgspec.convert(value, spec.type)
    except msgspec.ValidationError as exc:
        problems.add(f"{key}.value", str(exc))
        return None
    if key in _CHOICES and converted not in _CHOICES[key]:
        problems.add(f"{key}.value", f"must be one of {', '.join(_CHOICES[key])}, got {converted!r}")
        return None
    if spec.check is not None:
        message = spec.check(converted)
        if message is not None:
            problems.add(f"{key}.value", message)
            return None
    return converted


def _cross_check_settings(values: dict[str, Any], problems: _Problems) -> None:
    low, high = values.get("sch_induction_weeks_min"), values.get("sch_induction_weeks_max")
    if low is not None and high is not None and low > high:
        problems.add("sch.induction_weeks_min", "must not exceed sch.induction_weeks_max")
    opening, closing = values.get("site_opening_time"), values.get("site_closing_time")
    if opening is not None and closing is not None and opening >= closing:
        problems.add("site.opening_time", "must be before site.closing_time")


# --- cross references and the shipped files --------------------------------------------------


def check_cross_references(catalogue: ProtocolCatalogue, templates: PlanningTemplates) -> list[str]:
    """Template ↔ protocol references that must resolve; returns every problem."""
    problems: list[str] = []
    template_ids = {t.id for t in templates.maintenance}
    for definition in catalogue.protocols:
        ref = definition.default_maintenance_template
        if ref is not None and ref not in template_ids:
            problems.append(f"{PROTOCOLS_FILE}: protocols[{definition.ref}].default_maintenance_template: "
                            f"unknown template {ref!r} (not in {TEMPLATES_FILE})")
    for template in templates.maintenance:
        if template.protocol_id is not None and template.protocol_id not in catalogue:
            problems.append(f"{TEMPLATES_FILE}: maintenance[{template.id}].protocol_id: "
                            f"unknown protocol {template.protocol_id!r} (not in {PROTOCOLS_FILE})")
    return problems


def _shipped_text(filename: str) -> str:
    return resources.files("rtms_pathway.catalogue").joinpath(filename).read_text(encoding="utf-8")


@functools.cache
def load_protocol_catalogue() -> ProtocolCatalogue:
    """The shipped protocol catalogue, parsed and checked once per process."""
    return parse_protocol_catalogue(_shipped_text(PROTOCOLS_FILE), PROTOCOLS_FILE)


@functools.cache
def load_planning_templates() -> PlanningTemplates:
    """The shipped taper and maintenance templates (cross-checked against the protocols)."""
    templates = parse_planning_templates(_shipped_text(TEMPLATES_FILE), TEMPLATES_FILE)
    problems = check_cross_references(load_protocol_catalogue(), templates)
    if problems:
        raise PlanningCatalogueError(problems)
    return templates


@functools.cache
def load_planning_settings() -> PlanningSettings:
    """The shipped planning settings."""
    return parse_planning_settings(_shipped_text(SETTINGS_FILE), SETTINGS_FILE)


def ruleset_version() -> str:
    """Versions of the three shipped files, stored with every computed plan (§0.3 principle 2)."""
    return (f"protocols:{load_protocol_catalogue().catalogue_version};"
            f"templates:{load_planning_templates().version};settings:{load_planning_settings().version}")
