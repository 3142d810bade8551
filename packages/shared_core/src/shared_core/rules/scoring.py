"""Scoring of rating scales (domain-rtms R-SCL-01..05, domain-sport §4.4): pure, no I/O.

Every threshold, range and rule comes from the :class:`ScaleDefinition`; this module only knows
how each ``scoring`` method combines answers. Invalid input raises ``ValidationFailed`` listing
every bad item so a form can show all problems at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from fractions import Fraction
from math import floor
from typing import TYPE_CHECKING

import msgspec

from shared_core.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    # Type-only: importing the scales package at runtime would load it (and its YAML loader)
    # from inside the rules layer, and would be circular since scales re-exports this module.
    from shared_core.scales.model import Band, ScaleDefinition


class ScoreResult(msgspec.Struct, frozen=True):
    scale: str
    total: int | None
    band: str | None
    subscores: dict[str, int]
    alerts: list[str]
    # The answers as scored, after skip rules and with None where HADS prorated a missing answer.
    items: list[int | None]
    prorated: bool
    subscale_bands: dict[str, str] = msgspec.field(default_factory=dict)


class _Computed(msgspec.Struct, frozen=True):
    total: int | None
    # What the bands are read on: the total, HADS' worse subscale, C-SSRS' risk rank.
    banded: int
    subscores: dict[str, int]
    subscale_bands: dict[str, str]


_COMPARE: dict[str, Callable[[int, int], bool]] = {">": operator.gt, ">=": operator.ge}


def score(definition: ScaleDefinition, items: Sequence[int | None]) -> ScoreResult:
    answers = _validated(definition, items)
    computed = _SCORERS[definition.scoring](definition, answers)
    band = find_band(definition.bands, computed.banded)
    return ScoreResult(
        scale=definition.code,
        total=computed.total,
        band=band.code,
        subscores=computed.subscores,
        alerts=_alerts(definition, answers, computed),
        items=answers,
        prorated=any(a is None for a in answers),
        subscale_bands=computed.subscale_bands,
    )


def find_band(bands: Sequence[Band], value: int) -> Band:
    for band in bands:
        if band.min <= value <= band.max:
            return band
    # The loader checks bands cover the whole range, so reaching here is a catalogue bug.
    raise LookupError(f"no band contains {value}")


def round_half_up(value: Fraction) -> int:
    # Python's round() is half-even; clinical proration rounds 0.5 up (HADS, R-SCL-01).
    return floor(value + Fraction(1, 2))


def _validated(definition: ScaleDefinition, items: Sequence[int | None]) -> list[int | None]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ValidationFailed([FieldError("items", "expected a list of answers")])
    expected = len(definition.items)
    if len(items) != expected:
        raise ValidationFailed([FieldError("items", f"expected {expected} items, got {len(items)}")])
    errors: list[FieldError] = []
    answers: list[int | None] = []
    for index, (item, value) in enumerate(zip(definition.items, items, strict=True)):
        where = f"items[{index}]"
        if value is None:
            answers.append(None)
        elif isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(where, f"item {item.number}: {value!r} is not an integer "
                                            f"in {item.min}–{item.max}"))
            answers.append(None)
        elif not item.min <= value <= item.max:
            errors.append(FieldError(where, f"item {item.number}: {value} is outside {item.min}–{item.max}"))
            answers.append(None)
        else:
            answers.append(value)
    bad = {e.field for e in errors}
    _apply_skip_rules(definition, answers, bad, errors)
    _check_missing(definition, answers, bad, errors)
    if errors:
        errors.sort(key=_error_order)
        raise ValidationFailed(errors)
    return answers


def _error_order(error: FieldError) -> tuple[int, str]:
    # Report in item order whatever check found the problem.
    if error.field.startswith("items["):
        return int(error.field[6:-1]), error.message
    return -1, error.message


def _apply_skip_rules(
    definition: ScaleDefinition, answers: list[int | None], bad: set[str], errors: list[FieldError]
) -> None:
    for rule in definition.skip_rules:
        if answers[rule.when_item - 1] != rule.equals:
            continue
        for number in rule.items:
            index = number - 1
            given = answers[index]
            if f"items[{index}]" in bad:
                continue
            if rule.action == "must_equal" and given is not None and given != rule.value:
                errors.append(FieldError(f"items[{index}]", f"item {number}: {rule.reason_en} "
                                                            f"(expected {rule.value}, got {given})"))
                bad.add(f"items[{index}]")
            else:
                answers[index] = rule.value


def _check_missing(
    definition: ScaleDefinition, answers: list[int | None], bad: set[str], errors: list[FieldError]
) -> None:
    missing = [i for i, a in enumerate(answers) if a is None and f"items[{i}]" not in bad]
    if not missing:
        return
    rule = definition.proration
    if rule is None:
        errors.extend(
            FieldError(f"items[{i}]", f"item {i + 1}: missing answer ({definition.code} does not "
                                      "prorate missing items)")
            for i in missing
        )
        return
    for subscale in definition.subscales:
        absent = [n for n in subscale.items if answers[n - 1] is None]
        if len(absent) > rule.max_missing_per_subscale:
            errors.extend(
                FieldError(f"items[{n - 1}]", f"item {n}: missing answer ({subscale.code} has "
                                              f"{len(absent)} missing, at most "
                                              f"{rule.max_missing_per_subscale} can be prorated)")
                for n in absent
                if n - 1 in missing
            )


def _subscore(items: tuple[int, ...], combine: str, answers: Sequence[int | None]) -> int:
    values = [answers[n - 1] or 0 for n in items]
    return max(values) if combine == "max" else sum(values)


def _sum(definition: ScaleDefinition, answers: list[int | None]) -> _Computed:
    total = sum(a or 0 for a in answers)
    subscores = {s.code: _subscore(s.items, s.combine, answers) for s in definition.subscales}
    return _Computed(total, total, subscores, {})


def _qids_domains(definition: ScaleDefinition, answers: list[int | None]) -> _Computed:
    # R-SCL-02: the total is the sum of the nine domains, not of the sixteen answers.
    domains = {s.code: _subscore(s.items, s.combine, answers) for s in definition.subscales}
    total = sum(domains.values())
    return _Computed(total, total, domains, {})


def _hads(definition: ScaleDefinition, answers: list[int | None]) -> _Computed:
    subscores: dict[str, int] = {}
    for subscale in definition.subscales:
        given = [a for n in subscale.items if (a := answers[n - 1]) is not None]
        raw = sum(given)
        subscores[subscale.code] = (
            raw if len(given) == len(subscale.items)
            else round_half_up(Fraction(raw * len(subscale.items), len(given)))
        )
    bands = {code: find_band(definition.bands, value).code for code, value in subscores.items()}
    # Bands are ordered by severity, so the worse subscale's band is the band of the larger score.
    return _Computed(sum(subscores.values()), max(subscores.values()), subscores, bands)


def _cssrs_screen(definition: ScaleDefinition, answers: list[int | None]) -> _Computed:
    level = definition.bands[0].min
    for rule in definition.risk_rules:
        if any(all((answers[n - 1] or 0) > 0 for n in clause) for clause in rule.any_of):
            level = definition.band(rule.band).min
            break
    return _Computed(None, level, {}, {})


def _who5(definition: ScaleDefinition, answers: list[int | None]) -> _Computed:
    raw = sum(a or 0 for a in answers)
    # The WHO-5 percentage score is the raw score times 4 (0–100), by the scale's own definition.
    return _Computed(raw, raw, {"percentage": raw * 4}, {})


_SCORERS: dict[str, Callable[[ScaleDefinition, list[int | None]], _Computed]] = {
    "sum": _sum,
    "ricci_gagnon": _sum,
    "qids_domains": _qids_domains,
    "hads": _hads,
    "cssrs_screen": _cssrs_screen,
    "who5": _who5,
}


def _alerts(definition: ScaleDefinition, answers: list[int | None], computed: _Computed) -> list[str]:
    fired: list[str] = []
    for rule in definition.alerts:
        if rule.item is not None:
            value = answers[rule.item - 1]
        else:
            value = computed.total if computed.total is not None else computed.banded
        if value is not None and _COMPARE[rule.operator](value, rule.threshold) and rule.code not in fired:
            fired.append(rule.code)
    return fired
