"""Loading the supervision matrix (reference data, never constants in code)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import msgspec
import yaml

from sport_referral.rules.supervision import LEVELS, PROFESSIONS, LevelRule, SupervisionMatrix


class CatalogueError(ValueError):
    pass


class _LevelFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    allowed: list[str]
    status: Literal["verified", "to_verify", "conflict"]
    source: str
    conditional: list[str] = []


class _MatrixFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    professions: list[str]
    levels: dict[str, _LevelFile]


# Reference data, read once per process (cached per argument): pages call these on every request.
@functools.cache
def load_supervision_matrix(text: str | None = None) -> SupervisionMatrix:
    raw = text if text is not None else resources.files(__package__).joinpath("supervision.yaml").read_text("utf-8")
    try:
        parsed = msgspec.convert(yaml.safe_load(raw), _MatrixFile)
    except (msgspec.ValidationError, yaml.YAMLError) as error:
        raise CatalogueError(f"supervision.yaml: {error}") from None
    if tuple(parsed.professions) != PROFESSIONS:
        raise CatalogueError("supervision.yaml: professions must be " + ", ".join(PROFESSIONS))
    if set(parsed.levels) != set(LEVELS):
        raise CatalogueError("supervision.yaml: levels must be " + ", ".join(LEVELS))
    rules = {}
    for level, entry in parsed.levels.items():
        unknown = (set(entry.allowed) | set(entry.conditional)) - set(PROFESSIONS)
        if unknown:
            raise CatalogueError(f"supervision.yaml: unknown professions at {level}: {sorted(unknown)}")
        if not set(entry.conditional) <= set(entry.allowed):
            raise CatalogueError(f"supervision.yaml: conditional professions at {level} must also be allowed")
        rules[level] = LevelRule(tuple(p for p in PROFESSIONS if p in entry.allowed),
                                 tuple(entry.conditional), entry.status, entry.source)
    return SupervisionMatrix(parsed.version, rules)
