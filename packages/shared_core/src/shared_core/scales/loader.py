"""Loads the shipped scale catalogue and, when a site has one, its locally licensed wording.

Licensed wording never enters the repository (domain-rtms §9.3): a site keeps it in
``<text_dir>/<scale_code>/<lang>.yaml`` (git-ignored) with ``items: {1: "wording", ...}`` and
optionally ``stem``, ``answers: {0: "label", ...}`` (shared by every item) and
``item_answers: {1: {0: "label", ...}, ...}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

from shared_core.rules.scoring import find_band
from shared_core.scales.model import LANGUAGES, AnswerOption, ItemDefinition, Language, ScaleDefinition

T = TypeVar("T")


class CatalogueError(ValueError):
    """A catalogue or local text file is malformed; the message names the file."""


class ScaleCatalogue:
    """Immutable set of scale definitions, in a stable (alphabetical) order."""

    def __init__(self, definitions: Mapping[str, ScaleDefinition]) -> None:
        self._by_code = dict(sorted(definitions.items()))

    def get(self, code: str) -> ScaleDefinition:
        return self._by_code[code]

    def codes(self) -> list[str]:
        return list(self._by_code)

    def all(self) -> list[ScaleDefinition]:
        return list(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[ScaleDefinition]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)


def load_catalogue(text_dir: Path | None = None) -> ScaleCatalogue:
    """Shipped definitions, with local licensed wording filled in when ``text_dir`` has it.

    Not cached itself, so a changed text file is seen by the next call; callers may cache it.
    """
    definitions = dict(_shipped())
    if text_dir is not None and text_dir.is_dir():
        for code in list(definitions):
            for lang in LANGUAGES:
                path = text_dir / code / f"{lang}.yaml"
                if path.is_file():
                    definitions[code] = _with_local_text(definitions[code], lang, path)
    return ScaleCatalogue(definitions)


@functools.cache
def _shipped() -> tuple[tuple[str, ScaleDefinition], ...]:
    # Package data is immutable for the life of the process, so parse it once.
    folder = resources.files("shared_core.scales").joinpath("catalogue")
    loaded: list[tuple[str, ScaleDefinition]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        definition = parse_definition(entry.read_text(encoding="utf-8"), entry.name)
        if f"{definition.code}.yaml" != entry.name:
            raise CatalogueError(f"{entry.name}: code {definition.code!r} does not match the file name")
        loaded.append((definition.code, definition))
    return tuple(loaded)


def parse_definition(text: str, name: str) -> ScaleDefinition:
    """Parse and check one catalogue document; ``name`` identifies it in error messages."""
    try:
        raw = yaml.safe_load(text)
        definition = msgspec.convert(_expanded(raw), ScaleDefinition)
    except (yaml.YAMLError, msgspec.ValidationError, TypeError, ValueError, KeyError) as exc:
        raise CatalogueError(f"{name}: {exc}") from exc
    problems = check_definition(definition)
    if problems:
        raise CatalogueError(f"{name}: " + "; ".join(problems))
    return definition


def _expanded(raw: Any) -> Any:
    """Apply the file's shorthands: shared item range and answers, 1-based numbering."""
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise ValueError("expected a mapping with an 'items' list")
    shared = {key: raw.pop(key) for key in ("item_min", "item_max", "answers") if key in raw}
    items = []
    for number, item in enumerate(raw["items"], start=1):
        if not isinstance(item, dict):
            raise ValueError(f"item {number} is not a mapping")
        items.append({"number": number, "min": shared.get("item_min"), "max": shared.get("item_max"),
                      "answers": shared.get("answers", []), **item})
    return {**raw, "items": items}


def check_definition(d: ScaleDefinition) -> list[str]:
    """Consistency checks a typo in a YAML file would break; returns every problem found."""
    problems: list[str] = []
    count = len(d.items)
    numbers = range(1, count + 1)
    if [item.number for item in d.items] != list(numbers):
        problems.append("items must be numbered 1..n in order")
    if len({item.id for item in d.items}) != count:
        problems.append("item ids must be unique")
    for item in d.items:
        if item.min > item.max:
            problems.append(f"item {item.number}: min > max")
        problems += [f"item {item.number}: answer {a.value} outside range"
                     for a in item.answers if not item.min <= a.value <= item.max]
    problems += _check_bands(d)
    problems += [f"alert {a.code}: item {a.item} does not exist"
                 for a in d.alerts if a.item is not None and a.item not in numbers]
    for sub in d.subscales:
        problems += [f"subscale {sub.code}: item {n} does not exist" for n in sub.items if n not in numbers]
    for rule in d.skip_rules:
        problems += [f"skip rule: item {n} does not exist"
                     for n in (rule.when_item, *rule.items) if n not in numbers]
    band_codes = {b.code for b in d.bands}
    problems += [f"risk rule: unknown band {r.band}" for r in d.risk_rules if r.band not in band_codes]
    if d.scoring in ("qids_domains", "hads") or d.proration is not None:
        covered = sorted(n for s in d.subscales for n in s.items)
        if covered != list(numbers):
            problems.append("subscales must cover every item exactly once")
    problems += _check_totals(d)
    problems += _check_provenance(d)
    return problems


def _check_bands(d: ScaleDefinition) -> list[str]:
    if not d.bands:
        return ["no bands"]
    problems = [f"band {b.code}: min > max" for b in d.bands if b.min > b.max]
    problems += [f"bands {a.code} and {b.code} are not contiguous"
                 for a, b in zip(d.bands, d.bands[1:], strict=False) if b.min != a.max + 1]
    if d.scoring in ("sum", "qids_domains", "ricci_gagnon", "who5") and (
        d.bands[0].min != d.total_min or d.bands[-1].max != d.total_max
    ):
        problems.append("bands must cover total_min..total_max")
    return problems


def _check_totals(d: ScaleDefinition) -> list[str]:
    if d.scoring == "cssrs_screen":
        expected: tuple[int | None, int | None] = (None, None)
    elif d.scoring == "qids_domains":
        expected = (sum(_domain_bound(d, s.items, s.combine, low=True) for s in d.subscales),
                    sum(_domain_bound(d, s.items, s.combine, low=False) for s in d.subscales))
    else:
        expected = (sum(i.min for i in d.items), sum(i.max for i in d.items))
    if (d.total_min, d.total_max) != expected:
        return [f"total range {d.total_min}–{d.total_max} does not match the items ({expected})"]
    if d.remission_max is not None and d.total_max is not None:
        try:
            find_band(d.bands, d.remission_max)
        except LookupError:
            return ["remission_max outside the bands"]
    return []


def _domain_bound(d: ScaleDefinition, numbers: tuple[int, ...], combine: str, *, low: bool) -> int:
    values = [d.items[n - 1].min if low else d.items[n - 1].max for n in numbers]
    return max(values) if combine == "max" else sum(values)


def _check_provenance(d: ScaleDefinition) -> list[str]:
    needed = {"items", "scoring", "bands", "licence", "window"}
    optional = {"remission_max": d.remission_max, "loinc_panel": d.loinc_panel,
                "loinc_total": d.loinc_total, "snomed": d.snomed}
    needed |= {key for key, value in optional.items() if value is not None}
    if d.classify_change:
        needed.add("response")
    if any(item.loinc for item in d.items):
        needed.add("loinc_items")
    if any(item.text_fr or item.text_en for item in d.items):
        needed.add("text")
    return [f"no provenance for {key}" for key in sorted(needed - d.provenance.keys())]


def _with_local_text(definition: ScaleDefinition, lang: Language, path: Path) -> ScaleDefinition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return _merge_text(definition, lang, raw)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc


def _merge_text(definition: ScaleDefinition, lang: Language, raw: Any) -> ScaleDefinition:
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping with an 'items' key")
    unknown = set(raw) - {"items", "stem", "answers", "item_answers"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    texts = _numbered(raw.get("items"), "items", len(definition.items), _text)
    per_item = _numbered(raw.get("item_answers") or {}, "item_answers", len(definition.items), _labels)
    shared = _labels(raw.get("answers") or {}, "answers")
    items: list[ItemDefinition] = []
    for item in definition.items:
        labels = per_item.get(item.number) or shared
        bad = [value for value in labels if not item.min <= value <= item.max]
        if bad:
            raise ValueError(f"item {item.number}: answer values {bad} outside {item.min}–{item.max}")
        text = texts.get(item.number, item.text(lang))
        changes: dict[str, Any] = {f"text_{lang}": text}
        if labels:
            changes["answers"] = _merged_answers(item.answers, labels, lang)
        items.append(msgspec.structs.replace(item, **changes))
    stem = raw.get("stem")
    if stem is not None and not isinstance(stem, str):
        raise ValueError("stem must be a string")
    changes_def: dict[str, Any] = {"items": tuple(items)}
    if stem is not None:
        changes_def[f"stem_{lang}"] = stem
    return msgspec.structs.replace(definition, **changes_def)


def _numbered(raw: Any, where: str, count: int, convert: Callable[[Any, str], T]) -> dict[int, T]:
    if not isinstance(raw, dict):
        raise ValueError(f"'{where}' must be a mapping of item number to value")
    result: dict[int, T] = {}
    for key, value in raw.items():
        number = _as_int(key, where)
        if not 1 <= number <= count:
            raise ValueError(f"'{where}': item {number} does not exist (1–{count})")
        result[number] = convert(value, f"{where}.{number}")
    return result


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{where}' must be non-empty text")
    return value.strip()


def _labels(raw: Any, where: str) -> dict[int, str]:
    if not isinstance(raw, dict):
        raise ValueError(f"'{where}' must be a mapping of answer value to label")
    return {_as_int(key, where): _text(label, f"{where}.{key}") for key, label in raw.items()}


def _as_int(key: Any, where: str) -> int:
    if isinstance(key, bool):
        raise ValueError(f"'{where}': {key!r} is not a number")
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key)
    raise ValueError(f"'{where}': {key!r} is not a number")


def _merged_answers(
    current: tuple[AnswerOption, ...], labels: dict[int, str], lang: Language
) -> tuple[AnswerOption, ...]:
    by_value = {a.value: a for a in current}
    merged = [
        msgspec.structs.replace(by_value.get(value, AnswerOption(value)), **{f"label_{lang}": label})
        for value, label in labels.items()
    ]
    # Keep the other language's labels for values this file does not mention.
    merged += [a for value, a in by_value.items() if value not in labels]
    return tuple(sorted(merged, key=lambda a: a.value))
