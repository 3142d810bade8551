"""Loaders of the clinical data files: ifcn_screening.yaml, drugs.yaml, triage_settings.yaml.

Strict on purpose: a mistyped key or an unknown code in a clinical file could silently drop a
contraindication or a precaution, so unknown keys are rejected and cross-references are checked.
Every error names the file and the key path (``ifcn_screening.yaml: $.rules[3].level: ...``) and
all the consistency problems of a file are reported together.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args

import msgspec
import yaml

from rtms_pathway.model.medication import ActionDefinition, DrugCatalogue, DrugClass, DrugEntry
from rtms_pathway.model.screening import (
    CheckinAnswers,
    ItemAnswer,
    PrecautionDefinition,
    ScreeningCatalogue,
    ScreeningItem,
    Setting,
)
from rtms_pathway.model.triage import ClinicalCatalogues, ClinicalSettings
from rtms_pathway.rules import medication as med_rules
from rtms_pathway.rules import protocol_suggestions as pro_rules
from rtms_pathway.rules import screening as saf_rules
from rtms_pathway.rules import triage as tri_rules
from rtms_pathway.rules.triage_api import (
    ContractDiagnosis,
    ContractPreference,
    ContractSubstance,
    ContractSuicideRisk,
)
from shared_core.text import fold

__all__ = [
    "DRUGS_FILE",
    "KNOWN_SOURCES",
    "SCREENING_FILE",
    "SETTINGS_FILE",
    "ClinicalCatalogueError",
    "check_drugs",
    "check_screening",
    "check_settings",
    "iter_settings",
    "load_clinical_catalogues",
    "load_clinical_settings",
    "load_drug_catalogue",
    "load_screening_catalogue",
    "parse_clinical_settings",
    "parse_drug_catalogue",
    "parse_screening_catalogue",
]

SCREENING_FILE = "ifcn_screening.yaml"
DRUGS_FILE = "drugs.yaml"
SETTINGS_FILE = "triage_settings.yaml"

# Citation keys of domain-rtms Appendix A: a source outside this list is a typo.
KNOWN_SOURCES: frozenset[str] = frozenset({
    "ALSACE", "AUCKLAND", "BIDS-TMS", "BLUMBERGER16", "BLUMBERGER18", "BRAINCLOUD", "BRAINSCI23", "BRAINULT",
    "CAMCOPS", "CAMH13", "CAULFIELD20", "CHEN97", "COLE20", "COLE22", "CORE", "COTOVIO21", "CPT-90867",
    "CRISTANCHO13", "CSSRS-LIC", "CTMSS", "DANDREA23", "DEPPE21", "DOBEK15", "DOM", "DUNNER14", "EFONDAMENTAL",
    "EHRSOURCE", "ENCEPHALE21", "FEKADU09", "FEKADU18", "FITZ13", "FOLLOWUP-MA", "FRONT18", "FRONT18B", "GAYNES20",
    "GEORGE10", "HAS-TRD", "HAS22", "HUNTER19", "IDSQIDS", "JSPN19", "K220127", "KASADERA", "KASTER19", "KUMLIEN10",
    "LABELS", "LEFAUCHEUR14", "LEFAUCHEUR20", "LERNER19", "LEVKOVITZ15", "LOO08", "MANTOVANI12", "MCAW18", "MCAW20",
    "MILEV16", "MODIRROUSTA18", "NANTES", "NEUROSTAR-CLINIC", "NEUROSTAR-MAN", "NS-DOSING", "NS-REG", "OPENEMR-5967",
    "OPTTMS-MT", "OREARDON07", "OSMIND", "PISANI02", "PRIDMORE22", "RAZAFSHA23", "REN14", "ROSSI09", "ROSSI11",
    "ROSSI21", "RUSH03", "SDC", "SEED", "SENOVA19", "SFORZINI22", "TAYLOR21", "THASE97", "TMSWORKBOOK", "USCORE-QR",
    "VA23", "WASS98", "WESTIN14", "WUSTL",
})

_RULE_ID = re.compile(r"^SAF-(IFCN-\d\d|SITE)-[A-Z0-9]+(-[A-Z0-9]+)*$")
_IFCN_CODE = re.compile(r"^ifcn_q(\d\d)_[a-z0-9_]+$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")

T = TypeVar("T")


class ClinicalCatalogueError(ValueError):
    """A clinical data file is malformed; ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(f"{file}: {key}: {message}")
        self.file = file
        self.key = key


def _decode(text: str, name: str, kind: type[T], keyed: dict[str, type[Any]] | None = None) -> T:
    """YAML text to ``kind``; ``keyed`` names the mappings whose entries are checked one by one.

    msgspec reports a bad entry of a dict as ``$.drugs[...]``; converting the entries of those
    sections first lets the error say ``$.drugs.lithium`` instead.
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClinicalCatalogueError(name, "$", f"invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ClinicalCatalogueError(name, "$", "expected a mapping at the top level")
    for section, entry_kind in (keyed or {}).items():
        entries = raw.get(section)
        if isinstance(entries, dict):
            for key, entry in entries.items():
                _convert(entry, entry_kind, name, f"$.{section}.{key}")
    return _convert(raw, kind, name, "$")


def _convert(raw: Any, kind: type[T], name: str, prefix: str) -> T:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        # msgspec says "... - at `$.path`": move the path to the front, where a reader looks.
        message = str(exc)
        path = prefix
        if " - at `" in message:
            message, _, tail = message.rpartition(" - at `")
            path = prefix + tail.rstrip("`")[1:]
        raise ClinicalCatalogueError(name, path, message) from exc


def _fail(name: str, problems: list[tuple[str, str]]) -> None:
    if problems:
        key = problems[0][0] if len(problems) == 1 else "$"
        detail = "; ".join(f"{k}: {m}" for k, m in problems) if len(problems) > 1 else problems[0][1]
        raise ClinicalCatalogueError(name, key, detail)


def _sources(path: str, sources: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(f"{path}.sources", f"unknown citation key {s!r}") for s in sources if s not in KNOWN_SOURCES]


# ---------------------------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------------------------


def parse_screening_catalogue(text: str, name: str = SCREENING_FILE) -> ScreeningCatalogue:
    catalogue = _decode(text, name, ScreeningCatalogue)
    _fail(name, check_screening(catalogue))
    return catalogue


def check_screening(c: ScreeningCatalogue) -> list[tuple[str, str]]:
    """Cross-reference checks; each problem is (key path, message)."""
    problems: list[tuple[str, str]] = []
    items: dict[str, ScreeningItem] = {}
    codes_seen: dict[str, str] = {}
    numbers: set[int] = set()
    for i, item in enumerate(c.items):
        path = f"$.items[{i}]"
        if item.code in items:
            problems.append((f"{path}.code", f"duplicate item {item.code!r}"))
        items[item.code] = item
        problems += _sources(path, item.sources)
        match = _IFCN_CODE.match(item.code)
        if item.group == "ifcn":
            if match is None or item.number is None or int(match.group(1)) != item.number:
                problems.append((f"{path}.code", "an IFCN item code is ifcn_qNN_topic, NN being its number"))
            elif item.number in numbers:
                problems.append((f"{path}.number", f"duplicate IFCN number {item.number}"))
            else:
                numbers.add(item.number)
        elif not item.code.startswith("site_"):
            problems.append((f"{path}.code", "a site item code starts with site_"))
        for j, alias in enumerate([None, *item.aliases]):
            code = item.code if alias is None else alias.code
            key = f"{path}.code" if alias is None else f"{path}.aliases[{j - 1}]"
            if not _CODE.match(code):
                problems.append((key, f"{code!r} is not a lower-case snake_case code"))
            if code in codes_seen and codes_seen[code] != item.code:
                problems.append((key, f"code {code!r} already names {codes_seen[code]!r}"))
            codes_seen[code] = item.code
            if alias is not None:
                for detail, value in alias.details.items():
                    if value not in item.details.get(detail, ()):
                        problems.append((f"{key}.details.{detail}", f"{value!r} is not an allowed value"))
        for detail, values in item.details.items():
            if "unknown" not in values:
                # An absent detail reads as "unknown" (rules.screening), so it must be a value.
                problems.append((f"{path}.details.{detail}", "must allow 'unknown'"))
    ids: set[str] = set()
    for i, rule in enumerate(c.rules):
        path = f"$.rules[{i}]"
        if not _RULE_ID.match(rule.id):
            problems.append((f"{path}.id", f"{rule.id!r} does not look like SAF-IFCN-NN-TOPIC or SAF-SITE-TOPIC"))
        if rule.id in ids:
            problems.append((f"{path}.id", f"duplicate rule id {rule.id!r}"))
        ids.add(rule.id)
        problems += _sources(path, rule.sources)
        if rule.alternative is not None:
            problems += _sources(f"{path}.alternative", rule.alternative.sources)
        target = items.get(rule.item)
        if target is None:
            problems.append((f"{path}.item", f"unknown item {rule.item!r}"))
            continue
        when = rule.when
        if when.detail is not None:
            allowed = target.details.get(when.detail)
            if allowed is None:
                problems.append((f"{path}.when.detail", f"item {target.code} has no detail {when.detail!r}"))
            else:
                for key, listed in (("in", when.values_in), ("not_in", when.values_not_in)):
                    problems += [(f"{path}.when.{key}", f"{v!r} is not an allowed value") for v in listed or ()
                                 if v not in allowed]
        elif when.values_in is not None or when.values_not_in is not None:
            problems.append((f"{path}.when", "in/not_in need a detail"))
        if rule.confidence == "conflict" and rule.alternative is None:
            problems.append((f"{path}.alternative", "a [conflict] rule documents its alternative (§0.1)"))
    problems += _check_coverage(c)
    fields = set(CheckinAnswers.__struct_fields__)
    declared = [question.code for question in c.checkin_items]
    for i, question in enumerate(c.checkin_items):
        problems += _sources(f"$.checkin_items[{i}]", question.sources)
        if question.code not in fields:
            problems.append((f"$.checkin_items[{i}].code", f"not a check-in answer field: {question.code!r}"))
    for missing in sorted(fields - set(declared)):
        problems.append(("$.checkin_items", f"no item for the check-in field {missing!r}"))
    return problems


def _check_coverage(c: ScreeningCatalogue) -> list[tuple[str, str]]:
    """A "yes" must always produce a hit: for every allowed detail value at least one rule fires."""
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(c.items):
        rules = [r for r in c.rules if r.item == item.code]
        if not rules:
            problems.append((f"$.items[{i}]", f"no rule for item {item.code!r}: a yes would be lost"))
            continue
        answers = [ItemAnswer("yes")] + [
            ItemAnswer("yes", {detail: value}) for detail, values in item.details.items() for value in values
        ]
        for answer in answers:
            if not any(saf_rules.rule_matches(r, answer) for r in rules):
                problems.append((f"$.items[{i}]", f"no rule fires for yes with {dict(answer.details) or 'no detail'}"))
    return problems


# ---------------------------------------------------------------------------------------------
# Drugs
# ---------------------------------------------------------------------------------------------


def parse_drug_catalogue(text: str, name: str = DRUGS_FILE) -> DrugCatalogue:
    catalogue = _decode(text, name, DrugCatalogue,
                        {"drugs": DrugEntry, "classes": DrugClass, "actions": ActionDefinition})
    _fail(name, check_drugs(catalogue))
    return catalogue


def check_drugs(c: DrugCatalogue) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    expected_actions = {f"A{n}" for n in range(1, 11)}
    if set(c.actions) != expected_actions:
        problems.append(("$.actions", "must define exactly A1..A10 (§4.3)"))
    for code, action in c.actions.items():
        problems += _sources(f"$.actions.{code}", action.sources)
    for code, klass in c.classes.items():
        problems += _sources(f"$.classes.{code}", klass.sources)
    names: dict[str, str] = {}
    for inn, drug in c.drugs.items():
        path = f"$.drugs.{inn}"
        if fold(inn) != inn:
            problems.append((path, "an INN key is lower case without accents"))
        if drug.drug_class not in c.classes:
            problems.append((f"{path}.class", f"unknown class {drug.drug_class!r}"))
        problems += [(f"{path}.actions", f"unknown action {a!r}") for a in drug.actions if a not in c.actions]
        for field in ("seizure_threshold_lowering", "mt_raising", "efficacy_effect", "withdrawal_lowers_threshold"):
            problems += _sources(f"{path}.{field}", getattr(drug, field).sources)
        if drug.half_life_class is not None:
            problems += _sources(f"{path}.half_life_class", drug.half_life_class.sources)
        for name in (inn, *drug.aliases):
            if fold(name) != name:
                problems.append((f"{path}.aliases", f"{name!r} must be written folded: {fold(name)!r}"))
            if name in names and names[name] != inn:
                problems.append((f"{path}.aliases", f"{name!r} already names {names[name]!r}"))
            names[name] = inn
    for substance, inns in c.substances.items():
        problems += [(f"$.substances.{substance}", f"unknown drug {i!r}") for i in inns if i not in c.drugs]
    return problems


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def parse_clinical_settings(text: str, name: str = SETTINGS_FILE) -> ClinicalSettings:
    settings = _decode(text, name, ClinicalSettings, {"precautions": PrecautionDefinition})
    _fail(name, check_settings(settings))
    return settings


def iter_settings(settings: ClinicalSettings) -> list[tuple[str, Setting[Any]]]:
    """Every (dotted name, setting) pair, e.g. ("medication.recent_change_days", ...)."""
    pairs: list[tuple[str, Setting[Any]]] = []
    for group in ("triage", "protocol", "medication", "mt", "safety", "checkin", "contract"):
        values = getattr(settings, group)
        for field in values.__struct_fields__:
            pairs.append((f"{group}.{field}", getattr(values, field)))
    return pairs


def check_settings(s: ClinicalSettings) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for dotted, setting in iter_settings(s):
        problems += _sources(f"$.{dotted}", setting.sources)
        if not setting.section:
            problems.append((f"$.{dotted}.section", "say where the doc states this value"))
    needed: dict[str, str] = {}
    for module in (tri_rules, med_rules, saf_rules):
        for code in module.PRECAUTION_CODES:
            needed[code] = module.__name__
    for code, raiser in needed.items():
        if code not in s.precautions:
            problems.append(("$.precautions", f"missing {code!r}, raised by {raiser}"))
    problems += _check_precautions(s.precautions)
    t = s.triage
    if t.low_resistance_min_failures.value > t.low_resistance_max_failures.value:
        problems.append(("$.triage.low_resistance_min_failures", "greater than low_resistance_max_failures"))
    for dotted, value in (("triage.chronic_episode_months", t.chronic_episode_months.value),
                          ("triage.anxiety_gad7_threshold", t.anxiety_gad7_threshold.value),
                          ("medication.recent_change_days", s.medication.recent_change_days.value),
                          ("checkin.substance_window_hours", s.checkin.substance_window_hours.value),
                          ("safety.screening_validity_days", s.safety.screening_validity_days.value)):
        if value < 0:
            problems.append((f"$.{dotted}.value", "must not be negative"))
    if not 0 <= t.anxiety_gad7_threshold.value <= 21:
        problems.append(("$.triage.anxiety_gad7_threshold.value", "GAD-7 totals run 0-21"))
    p = s.protocol
    known = set(p.known_protocols.value)
    for dotted, ids in (("default_ranking", p.default_ranking.value), ("anxious_head", p.anxious_head.value),
                        ("nonresponse_hf_left_head", p.nonresponse_hf_left_head.value),
                        ("addiction_first", (p.addiction_first.value,)), ("itbs_protocol", (p.itbs_protocol.value,)),
                        ("hf_left_protocol", (p.hf_left_protocol.value,)),
                        ("accelerated_protocol", (p.accelerated_protocol.value,)),
                        ("post_ect_maintenance_protocol", (p.post_ect_maintenance_protocol.value,))):
        problems += [(f"$.protocol.{dotted}", f"unknown protocol {pid!r}") for pid in ids if pid not in known]
    if len(set(p.default_ranking.value)) != len(p.default_ranking.value):
        problems.append(("$.protocol.default_ranking", "a protocol is listed twice"))
    if sorted(p.rule_order.value) != sorted(r for r in pro_rules.RULES if r in ("R-PRO-02", "R-PRO-03", "R-PRO-04",
                                                                                "R-PRO-05")):
        problems.append(("$.protocol.rule_order", "must order R-PRO-02..R-PRO-05, each once"))
    c = s.contract
    for dotted, mapping, literal in (("suicide_risk_map", c.suicide_risk_map.value, ContractSuicideRisk),
                                     ("substance_map", c.substance_map.value, ContractSubstance),
                                     ("diagnosis_map", c.diagnosis_map.value, ContractDiagnosis),
                                     ("preference_map", c.preference_map.value, ContractPreference)):
        if set(mapping) != set(get_args(literal)):
            problems.append((f"$.contract.{dotted}", f"keys must be exactly {', '.join(get_args(literal))}"))
    return problems


def _check_precautions(precautions: dict[str, PrecautionDefinition]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    rules = {**tri_rules.RULES, **med_rules.RULES}
    for code, definition in precautions.items():
        problems += _sources(f"$.precautions.{code}", definition.sources)
        problems += [(f"$.precautions.{code}.rules", f"unknown rule {r!r}") for r in definition.rules if r not in rules]
    return problems


# ---------------------------------------------------------------------------------------------
# Loading the shipped files
# ---------------------------------------------------------------------------------------------


def _read(path: Path | None, default: str) -> tuple[str, str]:
    if path is not None:
        return path.read_text(encoding="utf-8"), path.name
    return resources.files("rtms_pathway.catalogue").joinpath(default).read_text(encoding="utf-8"), default


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_screening_catalogue(path: Path | None = None) -> ScreeningCatalogue:
    text, name = _read(path, SCREENING_FILE)
    return parse_screening_catalogue(text, name)


@functools.cache
def load_drug_catalogue(path: Path | None = None) -> DrugCatalogue:
    text, name = _read(path, DRUGS_FILE)
    return parse_drug_catalogue(text, name)


@functools.cache
def load_clinical_settings(path: Path | None = None) -> ClinicalSettings:
    text, name = _read(path, SETTINGS_FILE)
    return parse_clinical_settings(text, name)


@functools.cache
def _shipped() -> ClinicalCatalogues:
    # Package data does not change while the process runs: parse it once.
    return ClinicalCatalogues(
        screening=load_screening_catalogue(), drugs=load_drug_catalogue(), settings=load_clinical_settings()
    )


def load_clinical_catalogues(
    screening: Path | None = None, drugs: Path | None = None, settings: Path | None = None
) -> ClinicalCatalogues:
    """The three files; the shipped ones (cached) unless a site passes its own paths."""
    if screening is None and drugs is None and settings is None:
        return _shipped()
    return ClinicalCatalogues(
        screening=load_screening_catalogue(screening),
        drugs=load_drug_catalogue(drugs),
        settings=load_clinical_settings(settings),
    )
