"""End-of-course summary of one course (domain-rtms §10.2 R-MBC-01, R-MBC-05..09, §10.1): pure.

From the patient's scored assessments, the course's first session and end date, it picks per
depression scale the course baseline (R-MBC-01: first assessment in the baseline window; when
none falls there, the last one before session 1, flagged as outside the window) and the
end-of-course value (last assessment from session 1 to the end date + ``mbc.end_window_days``),
then asks :func:`rules.mbc.end_of_course` for the status (the configured primary scale decides;
the self-report scale stands in when the primary scale was not measured, and the summary says so)
and collects the physician prompts:

- R-MBC-08 residual symptoms (with the referrer-letter paragraph), GAD-7 at the end included;
- R-MBC-09 maintenance offer; R-MBC-07 switch suggestions after an adequate non-responding course;
- R-MBC-06 extension prompt (meaningful only at the planned end, shown for the record).

Follow-up dates (§10.1 "1, 3, 6, 12 months after the end") come from ``mbc.cadence.follow_up_self_months``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import msgspec

from rtms_pathway.model.mbc import Assessment, EndOfCourseResult, MbcSettings, Prompt, ScaleMeasure
from rtms_pathway.model.staging import Explanation
from rtms_pathway.rules.mbc import (
    ScaleLookup,
    add_months,
    course_baseline,
    end_of_course,
    extension_prompt,
    maintenance_offer,
    non_response_prompt,
    residual_symptoms_prompt,
)
from shared_core.rules.progress import ProgressStatus

__all__ = ["CourseFacts", "OutcomeSummary", "ScalePoints", "baseline_for", "follow_up_dates", "summarise_course"]

SRC = "domain-rtms §10.2"
# Depression scales that can stand in for the primary one, in order of preference after it.
DEPRESSION_SCALES = ("madrs", "hamd17", "phq9", "qids_sr16", "bdi2")


class CourseFacts(msgspec.Struct, frozen=True):
    """What the summary needs to know about the course itself."""

    protocol_id: str
    first_session_on: date
    end_on: date
    sessions_delivered: int
    sessions_planned: int


class ScalePoints(msgspec.Struct, frozen=True):
    """Baseline and end value picked on one scale, and whether the baseline was in its window."""

    scale: str
    baseline: int
    baseline_on: date
    baseline_in_window: bool
    end: int
    end_on: date


class OutcomeSummary(msgspec.Struct, frozen=True):
    """What is stored with the outcome and rendered in the letter (JSON round-trip safe)."""

    status: ProgressStatus
    decided_scale: str | None
    primary_scale: str
    points: tuple[ScalePoints, ...]
    result: EndOfCourseResult | None
    prompts: tuple[Prompt, ...]
    facts: CourseFacts
    explanation: Explanation

    def prompt(self, code: str) -> Prompt | None:
        for prompt in self.prompts:
            if prompt.code == code:
                return prompt
        return None

    @property
    def letter_paragraphs_fr(self) -> list[str]:
        return [p.letter_paragraph_fr for p in self.prompts if p.fired and p.letter_paragraph_fr]

    @property
    def letter_paragraphs_en(self) -> list[str]:
        return [p.letter_paragraph_en for p in self.prompts if p.fired and p.letter_paragraph_en]


def baseline_for(assessments: Sequence[Assessment], scale: str, first_session_on: date,
                 settings: MbcSettings) -> tuple[Assessment, bool] | None:
    """The course baseline on ``scale`` (R-MBC-01) and whether it lies in the baseline window; when
    none does, the last assessment before session 1 (flagged), else None."""
    on_scale = sorted((a for a in assessments if a.scale == scale), key=lambda a: a.administered_on)
    found = course_baseline(on_scale, first_session_on, settings, scale=scale).assessment
    if found is not None:
        return found, True
    before = [a for a in on_scale if a.administered_on <= first_session_on]
    return (before[-1], False) if before else None


def _points(assessments: Sequence[Assessment], scale: str, facts: CourseFacts,
            settings: MbcSettings) -> ScalePoints | None:
    on_scale = sorted((a for a in assessments if a.scale == scale), key=lambda a: a.administered_on)
    picked = baseline_for(on_scale, scale, facts.first_session_on, settings)
    if picked is None:
        return None
    found, in_window = picked
    last_day = facts.end_on + timedelta(days=settings.end_window_days)
    during = [a for a in on_scale if found.administered_on < a.administered_on <= last_day
              and a.administered_on >= facts.first_session_on]
    if not during:
        return None
    end = during[-1]
    return ScalePoints(scale, found.total, found.administered_on, in_window, end.total, end.administered_on)


def _end_value(assessments: Sequence[Assessment], scale: str, facts: CourseFacts, settings: MbcSettings) -> int | None:
    """R-MBC-08 looks at the end value alone (residual anxiety needs no baseline)."""
    last_day = facts.end_on + timedelta(days=settings.end_window_days)
    during = sorted((a for a in assessments if a.scale == scale and facts.first_session_on <= a.administered_on
                     <= last_day), key=lambda a: a.administered_on)
    return during[-1].total if during else None


def _trajectory(assessments: Sequence[Assessment], points: ScalePoints) -> list[int]:
    return [a.total for a in sorted(assessments, key=lambda a: a.administered_on)
            if a.scale == points.scale and points.baseline_on <= a.administered_on <= points.end_on]


def summarise_course(assessments: Sequence[Assessment], facts: CourseFacts, catalogue: ScaleLookup,
                     settings: MbcSettings) -> OutcomeSummary:
    """The end-of-course summary; ``not_evaluable`` (with the reason) when no scale has two points."""
    candidates = [settings.primary_scale, settings.self_report_scale,
                  *(code for code in DEPRESSION_SCALES if code not in (settings.primary_scale,
                                                                       settings.self_report_scale))]
    measured = [p for p in (_points(assessments, code, facts, settings) for code in candidates if code in catalogue)
                if p is not None]
    anxiety = _points(assessments, settings.anxiety_scale, facts, settings) if settings.anxiety_scale in catalogue \
        else None
    gad7_end = _end_value(assessments, settings.anxiety_scale, facts, settings)
    if not measured:
        status: ProgressStatus = "not_evaluable"
        early: tuple[Prompt, ...] = (residual_symptoms_prompt(status, gad7_end, settings), maintenance_offer(status))
        return OutcomeSummary(status, None, settings.primary_scale, tuple(p for p in [anxiety] if p), None, early,
                              facts, Explanation(
                                  "R-MBC-05", f"{SRC} R-MBC-01, R-MBC-05",
                                  "Statut de fin de cure non évaluable : aucune échelle de dépression n'a à la fois "
                                  "une ligne de base et une évaluation de fin de cure.",
                                  "End-of-course status not evaluable: no depression scale has both a baseline and "
                                  "an end-of-course assessment."))
    decided = measured[0]
    secondaries = [ScaleMeasure(p.scale, p.baseline, p.end) for p in measured[1:]]
    result = end_of_course(ScaleMeasure(decided.scale, decided.baseline, decided.end), secondaries, catalogue,
                           settings)
    status = result.status
    prompts: tuple[Prompt, ...] = (
        residual_symptoms_prompt(status, gad7_end, settings),
        maintenance_offer(status),
        non_response_prompt(status, facts.sessions_delivered, facts.protocol_id, settings),
        extension_prompt(status, _trajectory(assessments, decided), settings),
    )
    notes_fr: list[str] = [result.explanation.text_fr]
    notes_en: list[str] = [result.explanation.text_en]
    if decided.scale != settings.primary_scale:
        notes_fr.append(f"L'échelle principale ({settings.primary_scale.upper()}) n'a pas été mesurée en début et "
                        f"en fin de cure : le statut suit {decided.scale.upper()}.")
        notes_en.append(f"The primary scale ({settings.primary_scale.upper()}) was not measured at both ends of the "
                        f"course: the status follows {decided.scale.upper()}.")
    if not decided.baseline_in_window:
        notes_fr.append(f"La ligne de base ({decided.baseline_on.isoformat()}) est antérieure à la fenêtre de "
                        f"{settings.baseline_window_days} jours avant la séance 1.")
        notes_en.append(f"The baseline ({decided.baseline_on.isoformat()}) is earlier than the "
                        f"{settings.baseline_window_days}-day window before session 1.")
    all_points = (*measured, *([anxiety] if anxiety is not None else []))
    return OutcomeSummary(status, decided.scale, settings.primary_scale, tuple(all_points), result, prompts, facts,
                          Explanation("R-MBC-05", f"{SRC} R-MBC-01, R-MBC-05", " ".join(notes_fr),
                                      " ".join(notes_en)))


def follow_up_dates(end_on: date, settings: MbcSettings) -> list[tuple[int, date]]:
    """(months, due date) of each follow-up after the end of the course (§10.1; DUNNER14)."""
    return [(months, add_months(end_on, months)) for months in settings.follow_up_self_months]
