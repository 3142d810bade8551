"""Who may supervise adapted physical activity at each functional limitation level (domain-sport §3.4-3.5).

L-5 is the hard legal rule: at ``severe`` only the three category-1° health professions may
supervise (D.1172-3 CSP). The other rows come from reference data, part of it still to verify.
"""

from __future__ import annotations

import msgspec

PROFESSIONS = ("physiotherapist", "occupational_therapist", "psychomotor_therapist", "apa_teacher",
               "sport_educator", "federal_certified")
LEVELS = ("none", "minimal", "moderate", "severe")
# D.1172-3 CSP, verified: enforced whatever the reference data says, so a bad edit cannot widen it.
SEVERE_ONLY = ("physiotherapist", "occupational_therapist", "psychomotor_therapist")


class LevelRule(msgspec.Struct, frozen=True):
    allowed: tuple[str, ...]
    conditional: tuple[str, ...]  # allowed only under the structure conditions of L-7
    status: str
    source: str


class SupervisionMatrix(msgspec.Struct, frozen=True):
    version: str
    levels: dict[str, LevelRule]


class SupervisionAnswer(msgspec.Struct, frozen=True):
    level: str
    allowed_professions: list[str]
    conditional_professions: list[str]
    rule_ids: list[str]
    status: str
    source: str


def allowed_professions(level: str, matrix: SupervisionMatrix) -> SupervisionAnswer:
    if level not in LEVELS:
        raise ValueError(f"unknown limitation level {level!r}; expected one of {', '.join(LEVELS)}")
    rule = matrix.levels[level]
    if level == "severe":
        return SupervisionAnswer(level, list(SEVERE_ONLY), [], ["L-5"], "verified", "D.1172-3 CSP (domain-sport §3.5)")
    rule_ids = ["L-7"] if rule.conditional else []
    return SupervisionAnswer(level, list(rule.allowed), list(rule.conditional), rule_ids, rule.status, rule.source)
