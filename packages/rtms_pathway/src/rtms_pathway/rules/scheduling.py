"""Course planning and scheduling (domain-rtms §7: R-SCH-01..13, taper §7.4, maintenance §7.5-§7.6).

Pure functions over :class:`~rtms_pathway.model.planning.CoursePlan`: every change returns a new
plan; the calendar (``shared_core.calendar.WorkingCalendar``), the settings and ``today`` are
arguments. Nothing is written and nothing is audited here: the service records who skipped,
undid or extended what (R-SCH-06, R-SCH-09), with the reason carried by the plan.

Rule map: R-SCH-01/02 :func:`plan_induction` (start moves to a working day; a holiday never
consumes a session); R-SCH-03 induction length warning; R-SCH-04 :func:`day_slot_times`;
R-SCH-05 :func:`propose_unbroken_block`; R-SCH-06 :func:`skip_session`, :func:`undo_skip`;
R-SCH-07 :func:`missed_sessions_alerts`; R-SCH-08 :func:`record_delivery`,
:func:`session_counts`; R-SCH-09 :func:`extend_course`; R-SCH-10 lower-frequency warning;
§7.4 :func:`add_taper`; §7.5 :func:`add_classic_maintenance`, :func:`add_cluster_maintenance`,
:func:`cluster_anchor`, :func:`add_rescue_cluster`; R-SCH-12 :func:`monthly_maintenance_counts`,
:func:`maintenance_dose_warnings`; R-SCH-13 :func:`relapse_window`; §7.1 course numbers and
superseding, :func:`start_new_course`.
"""

from __future__ import annotations

import calendar as _gregorian
import datetime as dt
import math
from collections.abc import Iterable
from fractions import Fraction

import msgspec

from rtms_pathway.model.planning import (
    ACTIVE_STATUSES,
    BlockProposal,
    CoursePlan,
    Extension,
    MaintenanceTemplate,
    MissedSessionsAlert,
    MonthlyCount,
    Phase,
    PlannedSession,
    PlanningSettings,
    PlanWarning,
    RelapseWindow,
    SessionCounts,
    SkipAction,
    SkipReason,
    TaperTemplate,
    WarningSeverity,
)
from rtms_pathway.model.protocols import IsiAnchor, ProtocolDefinition
from rtms_pathway.rules.protocols import session_seconds_int, to_fraction
from shared_core.calendar import WorkingCalendar
from shared_core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed

__all__ = [
    "SlotsDoNotFit",
    "add_classic_maintenance",
    "add_cluster_maintenance",
    "add_months",
    "add_rescue_cluster",
    "add_taper",
    "cluster_anchor",
    "day_slot_times",
    "extend_course",
    "is_in_relapse_window",
    "maintenance_dose_warnings",
    "missed_sessions_alerts",
    "monthly_maintenance_counts",
    "plan_induction",
    "propose_unbroken_block",
    "record_delivery",
    "relapse_window",
    "session_counts",
    "skip_session",
    "start_new_course",
    "supersede_planned_sessions",
    "undo_skip",
]

SECTION = "domain-rtms §7.3"
_OPEN_STATUSES = frozenset({"planned", "checked_in", "on_hold"})
_PERFORMED = frozenset({"delivered", "partially_delivered"})
_MAINTENANCE_PHASES: frozenset[str] = frozenset({"maintenance_classic", "maintenance_cluster"})
_DAY = dt.timedelta(days=1)


class SlotsDoNotFit(ValueError):
    """R-SCH-04: the day's sessions do not fit inside the opening hours."""


def _warning(code: str, rule_id: str, fr: str, en: str, *, section: str = SECTION,
             severity: WarningSeverity = "warning", dates: Iterable[dt.date] = (),
             month: str | None = None) -> PlanWarning:
    return PlanWarning(code=code, rule_id=rule_id, severity=severity, message_fr=fr, message_en=en,
                       source=f"{section} {rule_id}", dates=list(dates), month=month)


def _fr(d: dt.date) -> str:
    days = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
    return f"{days[d.weekday()]} {d.strftime('%d/%m/%Y')}"


# --- R-SCH-04: slots inside opening hours, minimum inter-session interval ----------------------


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _clock(seconds: int) -> dt.time:
    hours, rest = divmod(seconds, 3600)
    return dt.time(hours, *divmod(rest, 60))


def day_slot_times(
    count: int,
    session_seconds: int,
    *,
    min_isi_min: int | None,
    isi_anchor: IsiAnchor | None,
    opening: dt.time,
    closing: dt.time,
    granularity_min: int,
    first_start: dt.time | None = None,
) -> list[tuple[dt.time, dt.time]]:
    """Start and end of ``count`` sessions in one day (R-SCH-04).

    Starts are rounded up to a ``granularity_min`` grid from midnight. With ``end_to_start`` the
    next start is ≥ previous end + ISI; with ``start_to_start`` it is ≥ previous start + ISI and
    never before the previous end. Example C (§7.7): 592 s, 50 min end-to-start from 08:00 gives
    08:00, 09:00, …, 17:00; start-to-start gives 08:00, 08:50, …, 15:30.
    """
    if count < 1:
        raise ValueError("count must be ≥ 1")
    if session_seconds <= 0:
        raise ValueError("session_seconds must be > 0")
    if count > 1 and (min_isi_min is None or isi_anchor is None):
        raise ValueError("several sessions a day need min_isi_min and isi_anchor (V-PRO-07, R-SCH-04)")
    grid = granularity_min * 60
    if grid <= 0:
        raise ValueError("granularity_min must be ≥ 1")

    def on_grid(seconds: int) -> int:
        return -(-seconds // grid) * grid

    start = on_grid(_seconds(first_start or opening))
    if start < _seconds(opening):
        raise SlotsDoNotFit(f"the first session starts before opening ({opening:%H:%M})")
    slots: list[tuple[dt.time, dt.time]] = []
    for index in range(count):
        end = start + session_seconds
        if end > _seconds(closing):
            raise SlotsDoNotFit(
                f"session {index + 1} of {count} would end after closing ({closing:%H:%M}); "
                "fewer sessions a day, longer opening hours or a shorter interval are needed"
            )
        slots.append((_clock(start), _clock(end)))
        isi = (min_isi_min or 0) * 60
        start = on_grid(end + isi) if isi_anchor == "end_to_start" else on_grid(max(start + isi, end))
    return slots


def _plan_slots(plan: CoursePlan, count: int, *, min_isi_min: int | None = None,
                isi_anchor: IsiAnchor | None = None, seconds: int | None = None) -> list[tuple[dt.time, dt.time]]:
    return day_slot_times(
        count,
        seconds or plan.session_seconds,
        min_isi_min=plan.min_isi_min if min_isi_min is None else min_isi_min,
        isi_anchor=isi_anchor or plan.isi_anchor,
        opening=plan.opening,
        closing=plan.closing,
        granularity_min=plan.slot_granularity_min,
        first_start=plan.first_start,
    )


# --- calendar helpers -------------------------------------------------------------------------


def _course_day(day: dt.date, calendar: WorkingCalendar, weekdays: list[int] | None) -> bool:
    return calendar.is_working_day(day) and (weekdays is None or day.weekday() in weekdays)


def _next_course_day(day: dt.date, calendar: WorkingCalendar, weekdays: list[int] | None,
                     occupied: set[dt.date] | frozenset[dt.date] = frozenset(), *, inclusive: bool = True) -> dt.date:
    candidate = day if inclusive else day + _DAY
    for _ in range(3660):
        if _course_day(candidate, calendar, weekdays) and candidate not in occupied:
            return candidate
        candidate += _DAY
    raise ValueError(f"no course day within ten years after {day}")


def _occupied(plan: CoursePlan) -> set[dt.date]:
    return {s.date for s in plan.sessions if s.active}


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 month → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- numbering ---------------------------------------------------------------------------------


def _renumbered(sessions: Iterable[PlannedSession]) -> list[PlannedSession]:
    """Course ranks and phase ranks over active sessions in (date, slot) order (§8.1 identity)."""
    ordered = sorted(sessions, key=lambda s: (s.date, s.slot, s.id))
    out: list[PlannedSession] = []
    number = 0
    per_phase: dict[str, int] = {}
    for session in ordered:
        if session.status in ACTIVE_STATUSES:
            number += 1
            per_phase[session.phase] = per_phase.get(session.phase, 0) + 1
            out.append(msgspec.structs.replace(session, number=number, index_in_phase=per_phase[session.phase]))
        else:
            out.append(msgspec.structs.replace(session, number=None, index_in_phase=None))
    return out


def _with_sessions(plan: CoursePlan, sessions: Iterable[PlannedSession], **changes: object) -> CoursePlan:
    return msgspec.structs.replace(plan, sessions=_renumbered(sessions), **changes)


# --- R-SCH-05 ------------------------------------------------------------------------------------


def propose_unbroken_block(
    start: dt.date, days: int, calendar: WorkingCalendar, *, search_days: int = 366
) -> BlockProposal | None:
    """R-SCH-05: the first start on or after ``start`` giving ``days`` consecutive calendar days that
    are all working days, or None when none is found within ``search_days``.

    Example C (§7.7): from Mon 11 May 2026, 5 days → Mon 18 - Fri 22 May 2026 (Ascension 14 May
    splits the earlier candidates; Whit Monday 25 May falls after the block).
    """
    if days < 1:
        raise ValueError("days must be ≥ 1")
    plain = calendar.add_working_days(start, days)
    splitting = [d for d in _daterange(plain[0], plain[-1]) if not calendar.is_working_day(d)]
    candidate = start
    for _ in range(search_days):
        block = [candidate + dt.timedelta(days=i) for i in range(days)]
        if all(calendar.is_working_day(d) for d in block):
            return BlockProposal(requested_start=start, proposed_start=block[0], proposed_end=block[-1],
                                 days=days, splitting_days=splitting)
        candidate += _DAY
    return None


def _daterange(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- induction (R-SCH-01..05, R-SCH-10) --------------------------------------------------------


def plan_induction(
    protocol: ProtocolDefinition,
    start: dt.date,
    calendar: WorkingCalendar,
    settings: PlanningSettings,
    *,
    sessions: int | None = None,
    course_number: int = 1,
    sessions_per_day: int | None = None,
    min_isi_min: int | None = None,
    isi_anchor: IsiAnchor | None = None,
    course_weekdays: Iterable[int] | None = None,
    opening: dt.time | None = None,
    closing: dt.time | None = None,
    first_start: dt.time | None = None,
    use_block_proposal: bool = False,
    ruleset_version: str = "",
) -> CoursePlan:
    """Plan an induction on working days, ``sessions_per_day`` slots a day (R-SCH-01..05, R-SCH-10).

    The start counts when it is a course day, else the next one (R-SCH-01, warning). Holidays and
    closures never consume a session (R-SCH-02). With ``consecutive_days_required`` a split block
    gives a warning and :attr:`CoursePlan.block_proposal` (R-SCH-05); ``use_block_proposal`` plans
    from the proposed start instead. Unknown ISI or anchor fall back to the protocol, then to the
    settings ``isi.default_*``. Raises :class:`ValidationFailed` when the input cannot be planned.
    """
    errors: list[FieldError] = []
    count = protocol.acute_sessions_default if sessions is None else sessions
    per_day = sessions_per_day or protocol.sessions_per_day
    weekdays = sorted(set(course_weekdays)) if course_weekdays is not None else None
    if not protocol.induction:
        errors.append(FieldError("protocol", f"{protocol.ref} is a maintenance-only protocol, not an induction"))
    if count is None or count < 1:
        errors.append(FieldError("sessions", "at least one session is needed"))
    if per_day < 1:
        errors.append(FieldError("sessions_per_day", "at least one session a day is needed"))
    if weekdays is not None and (not weekdays or not set(weekdays) <= calendar.weekdays):
        errors.append(FieldError("course_weekdays", "must be a non-empty subset of the site's weekdays"))
    if errors:
        raise ValidationFailed(errors)
    assert count is not None
    isi = min_isi_min if min_isi_min is not None else protocol.min_isi_min
    anchor = isi_anchor or protocol.isi_anchor
    if per_day > 1:
        isi = settings.isi_default_min_isi_min if isi is None else isi
        anchor = anchor or settings.isi_default_anchor
    plan = CoursePlan(
        course_number=course_number,
        protocol_id=protocol.id,
        protocol_ref=protocol.ref,
        session_seconds=session_seconds_int(protocol),
        sessions_per_day=per_day,
        min_isi_min=isi,
        isi_anchor=anchor,
        consecutive_days_required=protocol.consecutive_days_required,
        course_weekdays=weekdays,
        opening=opening or settings.site_opening_time,
        closing=closing or settings.site_closing_time,
        first_start=first_start or opening or settings.site_opening_time,
        slot_granularity_min=settings.sch_slot_granularity_min,
        calendar_zone=calendar.zone,
        requested_start=start,
        planned_sessions=count,
        sessions=[],
        next_id=1,
        ruleset_version=ruleset_version,
    )
    try:
        grid = _plan_slots(plan, per_day)
    except SlotsDoNotFit as exc:
        raise ValidationFailed([FieldError("sessions_per_day", str(exc))]) from exc

    warnings: list[PlanWarning] = []
    first_day = _next_course_day(start, calendar, weekdays)
    if first_day != start:
        reason = calendar.non_working_reason(start) or "not a course day"
        warnings.append(_warning(
            "start_moved", "R-SCH-01",
            f"Le {_fr(start)} n'est pas un jour de traitement ({reason}) : début le {_fr(first_day)}.",
            f"{start.isoformat()} is not a treatment day ({reason}): the course starts on {first_day.isoformat()}.",
            dates=[start, first_day]))
    days_needed = -(-count // per_day)
    proposal: BlockProposal | None = None
    if protocol.consecutive_days_required and days_needed > 1:
        proposal = propose_unbroken_block(first_day, days_needed, calendar)
        if proposal is not None and proposal.proposed_start != first_day:
            if use_block_proposal:
                first_day = proposal.proposed_start
                warnings.append(_warning(
                    "block_moved", "R-SCH-05",
                    f"Bloc de {days_needed} jours consécutifs : début déplacé au {_fr(first_day)}.",
                    f"{days_needed}-consecutive-day block: start moved to {first_day.isoformat()}.",
                    severity="info", dates=proposal.splitting_days))
            else:
                warnings.append(_warning(
                    "block_split", "R-SCH-05",
                    f"Un jour non travaillé coupe le bloc de {days_needed} jours consécutifs : début proposé le "
                    f"{_fr(proposal.proposed_start)} (bloc jusqu'au {_fr(proposal.proposed_end)}).",
                    f"A non-working day splits the {days_needed}-consecutive-day block: proposed start "
                    f"{proposal.proposed_start.isoformat()} (block to {proposal.proposed_end.isoformat()}).",
                    dates=proposal.splitting_days))
        elif proposal is None:
            warnings.append(_warning(
                "block_split", "R-SCH-05",
                f"Aucun bloc de {days_needed} jours ouvrés consécutifs trouvé dans l'année.",
                f"No block of {days_needed} consecutive working days found within a year."))
    days: list[dt.date] = []
    day = first_day
    while len(days) < days_needed:
        day = _next_course_day(day, calendar, weekdays)
        days.append(day)
        day += _DAY
    planned: list[PlannedSession] = []
    next_id = 1
    for day in days:
        for slot in range(1, min(per_day, count - len(planned)) + 1):
            begin, end = grid[slot - 1]
            planned.append(PlannedSession(id=next_id, phase="induction", date=day, slot=slot, start=begin, end=end,
                                          protocol_ref=protocol.ref))
            next_id += 1
    skipped_days = calendar.holidays_between(days[0], days[-1])
    closures = [d for d in _daterange(days[0], days[-1]) if calendar.non_working_reason(d) == "closure"]
    holidays_on_weekdays = [d for d, _ in skipped_days if d.weekday() in calendar.weekdays]
    if holidays_on_weekdays or closures:
        shown = sorted(set(holidays_on_weekdays) | set(closures))
        warnings.append(_warning(
            "non_working_days_skipped", "R-SCH-02",
            "Jours fériés ou fermetures sans séance (la fin de cure est reportée) : "
            + ", ".join(_fr(d) for d in shown) + ".",
            "Holidays or closures skipped (the end date moves): " + ", ".join(d.isoformat() for d in shown) + ".",
            severity="info", dates=shown))
    warnings += _length_warnings(protocol, count, per_day, weekdays, settings)
    return _with_sessions(plan, planned, next_id=next_id, warnings=warnings, block_proposal=proposal)


def _length_warnings(protocol: ProtocolDefinition, count: int, per_day: int, weekdays: list[int] | None,
                     settings: PlanningSettings) -> list[PlanWarning]:
    warnings: list[PlanWarning] = []
    days_per_week = len(weekdays) if weekdays is not None else protocol.days_per_week
    weeks = Fraction(count, per_day * days_per_week)
    if not settings.sch_induction_weeks_min <= weeks <= settings.sch_induction_weeks_max:
        low, high = settings.sch_induction_weeks_min, settings.sch_induction_weeks_max
        warnings.append(_warning(
            "induction_length_outside_range", "R-SCH-03",
            f"Induction de {float(weeks):.1f} semaines, hors de la plage {low} à {high} semaines (SEED).",
            f"Induction of {float(weeks):.1f} weeks, outside {low}-{high} weeks (SEED)."))
    if days_per_week < settings.sch_full_week_days:
        warnings.append(_warning(
            "lower_frequency_course", "R-SCH-10",
            f"Cure à {days_per_week} jours par semaine : possible pour qui ne peut venir chaque jour (CTMSS) ; "
            "équivalence avec 5 jours par semaine non établie.",
            f"Course on {days_per_week} days a week: allowed for patients who cannot attend daily (CTMSS); "
            "equivalence with 5 days a week is not established."))
    acute = protocol.acute_sessions_range
    if acute is not None and not acute[0] <= count <= acute[1]:
        warnings.append(_warning(
            "sessions_outside_protocol_range", "§6.2 acute_sessions_range",
            f"{count} séances, hors de la plage du protocole ({acute[0]} à {acute[1]}).",
            f"{count} sessions, outside the protocol's acute range ({acute[0]}-{acute[1]}).",
            section="domain-rtms"))
    return warnings


# --- appending sessions (replacements, extensions) ----------------------------------------------


def _append_after_phase(
    plan: CoursePlan, phase: Phase, count: int, calendar: WorkingCalendar, *, extension: int | None = None
) -> tuple[list[PlannedSession], int]:
    """``count`` new sessions after the current last session of ``phase`` (R-SCH-06, R-SCH-09).

    The last day's free slots are used first (several sessions a day), then the next free course
    days, ``sessions_per_day`` slots each (one a day outside induction).
    """
    per_day = plan.sessions_per_day if phase == "induction" else 1
    grid = _plan_slots(plan, per_day)
    active = [s for s in plan.sessions if s.active]
    in_phase = sorted((s for s in active if s.phase == phase), key=lambda s: (s.date, s.slot))
    occupied = {s.date for s in active}
    day: dt.date | None = None
    used = per_day
    if in_phase:
        day = in_phase[-1].date
        same_day = [s for s in active if s.date == day]
        used = max(s.slot for s in same_day) if all(s.phase == phase for s in same_day) else per_day
    new: list[PlannedSession] = []
    next_id = plan.next_id
    ref = in_phase[-1].protocol_ref if in_phase else plan.protocol_ref
    while len(new) < count:
        if day is None or used >= per_day:
            origin = day or plan.requested_start
            day = _next_course_day(origin, calendar, plan.course_weekdays, occupied, inclusive=day is None)
            occupied.add(day)
            used = 0
        used += 1
        begin, end = grid[used - 1]
        new.append(PlannedSession(id=next_id, phase=phase, date=day, slot=used, start=begin, end=end,
                                  protocol_ref=ref, extension=extension))
        next_id += 1
    return new, next_id


def _later_phase_warning(plan: CoursePlan) -> list[PlanWarning]:
    end = plan.induction_end
    if end is None:
        return []
    overlap = [s.date for s in plan.active_sessions() if s.phase != "induction" and s.date <= end]
    if not overlap:
        return []
    return [_warning(
        "later_phases_not_moved", "R-SCH-06",
        "La fin de l'induction dépasse des séances de consolidation ou d'entretien déjà planifiées : "
        "les replanifier.",
        "The induction now ends after taper or maintenance sessions already planned: re-plan them.",
        dates=sorted(set(overlap)))]


# --- R-SCH-06 skip / postpone / undo --------------------------------------------------------------


def skip_session(
    plan: CoursePlan,
    session_id: int,
    calendar: WorkingCalendar,
    *,
    reason: SkipReason,
    action: SkipAction = "postpone",
    by_physician: bool = False,
    note: str = "",
) -> CoursePlan:
    """R-SCH-06: mark a planned session ``skipped`` with a reason.

    ``postpone`` (default) appends one replacement at the next free course day after the current
    last session of the same phase; the target count is kept and the end date moves (example A:
    skipping Tue 12 May 2026 gives session 30 on Fri 12 Jun 2026). ``skip_without_replacement``
    lowers ``planned_sessions`` and is for a physician only (:class:`PermissionDenied`).
    """
    session = plan.session(session_id)
    if session.status not in _OPEN_STATUSES:
        raise Conflict(f"session {session_id} is {session.status}; only a planned session can be skipped")
    if action == "skip_without_replacement" and not by_physician:
        raise PermissionDenied("skipping a session without replacement is for a physician (R-SCH-06)")
    skipped = msgspec.structs.replace(session, status="skipped", skip_reason=reason, skip_action=action,
                                      skip_note=note, original_number=session.number)
    others = [s for s in plan.sessions if s.id != session_id]
    interim = msgspec.structs.replace(plan, sessions=[*others, skipped])
    if action == "skip_without_replacement":
        target = plan.planned_sessions - 1 if session.phase == "induction" else plan.planned_sessions
        return _with_sessions(interim, interim.sessions, planned_sessions=target)
    new, next_id = _append_after_phase(interim, session.phase, 1, calendar)
    replacement = msgspec.structs.replace(new[0], replaces=session_id)
    skipped = msgspec.structs.replace(skipped, replaced_by=replacement.id)
    updated = _with_sessions(interim, [*others, skipped, replacement], next_id=next_id)
    return msgspec.structs.replace(updated, warnings=_merge_warnings(plan.warnings, _later_phase_warning(updated)))


def undo_skip(plan: CoursePlan, session_id: int, today: dt.date) -> CoursePlan:
    """R-SCH-06 undo: restore the original slot if its date has not passed (``date ≥ today``) and the
    replacement has not been delivered; the replacement is removed. Otherwise :class:`Conflict`.
    """
    session = plan.session(session_id)
    if session.status != "skipped":
        raise Conflict(f"session {session_id} is {session.status}, not skipped: nothing to undo")
    if session.date < today:
        raise Conflict(f"the skipped session's date {session.date.isoformat()} has passed: the skip cannot be undone")
    replacement = plan.session(session.replaced_by) if session.replaced_by is not None else None
    if replacement is not None and replacement.status in _PERFORMED:
        raise Conflict(f"the replacement session of {replacement.date.isoformat()} was delivered: "
                       "the skip cannot be undone")
    if any(s.active and s.date == session.date and s.slot == session.slot for s in plan.sessions):
        raise Conflict("the original slot is taken by another session")
    restored = msgspec.structs.replace(session, status="planned", skip_reason=None, skip_action=None, skip_note="",
                                       replaced_by=None, original_number=None)
    kept = [s for s in plan.sessions if s.id not in (session_id, session.replaced_by)]
    target = plan.planned_sessions
    if session.skip_action == "skip_without_replacement" and session.phase == "induction":
        target += 1
    return _with_sessions(plan, [*kept, restored], planned_sessions=target)


def _merge_warnings(old: list[PlanWarning], new: list[PlanWarning]) -> list[PlanWarning]:
    codes = {w.code for w in new}
    return [w for w in old if w.code not in codes] + new


# --- R-SCH-07 / R-SCH-08 ------------------------------------------------------------------------


def record_delivery(
    plan: CoursePlan,
    session_id: int,
    performed_start: dt.datetime,
    performed_end: dt.datetime,
    *,
    partial: bool = False,
) -> CoursePlan:
    """R-SCH-08: keep the performed start and end next to the planned date and slot."""
    session = plan.session(session_id)
    if session.status not in _OPEN_STATUSES:
        raise Conflict(f"session {session_id} is {session.status}; it cannot be delivered")
    if performed_end < performed_start:
        raise ValidationFailed([FieldError("performed_end", "ends before it starts")])
    done = msgspec.structs.replace(session, status="partially_delivered" if partial else "delivered",
                                   performed_start=performed_start, performed_end=performed_end)
    return _with_sessions(plan, [done if s.id == session_id else s for s in plan.sessions])


def session_counts(plan: CoursePlan, phase: Phase | None = "induction") -> SessionCounts:
    """R-SCH-08 planned vs performed counts for ``phase`` (``None``: the whole course).

    ``target`` is ``planned_sessions`` for the induction, the number of scheduled sessions otherwise.
    """
    chosen = [s for s in plan.sessions if phase is None or s.phase == phase]

    def count(*statuses: str) -> int:
        return sum(1 for s in chosen if s.status in statuses)

    scheduled = sum(1 for s in chosen if s.active)
    delivered, partial = count("delivered"), count("partially_delivered")
    return SessionCounts(
        target=plan.planned_sessions if phase == "induction" else scheduled,
        scheduled=scheduled,
        delivered=delivered,
        partially_delivered=partial,
        performed=delivered + partial,
        remaining=scheduled - delivered - partial,
        skipped=count("skipped"),
        cancelled=count("cancelled"),
        superseded=count("superseded"),
    )


def missed_sessions_alerts(plan: CoursePlan, settings: PlanningSettings) -> list[MissedSessionsAlert]:
    """R-SCH-07: every run of ≥ ``sch.consecutive_missed_alert`` consecutive planned days whose sessions
    were all skipped → a physician review task."""
    days: dict[dt.date, list[PlannedSession]] = {}
    for session in plan.sessions:
        if session.active or session.status == "skipped":
            days.setdefault(session.date, []).append(session)
    threshold = settings.sch_consecutive_missed_alert
    alerts: list[MissedSessionsAlert] = []
    run: list[dt.date] = []
    for day in [*sorted(days), None]:
        if day is not None and all(s.status == "skipped" for s in days[day]):
            run.append(day)
            continue
        if len(run) >= threshold:
            alerts.append(MissedSessionsAlert(
                rule_id="R-SCH-07", days=list(run), threshold=threshold,
                message_fr=f"{len(run)} jours de séances consécutifs manqués : revue par le médecin.",
                message_en=f"{len(run)} consecutive planned days missed: physician review.",
                source=f"{SECTION} R-SCH-07"))
        run = []
    return alerts


# --- R-SCH-09 extension ---------------------------------------------------------------------------


def extend_course(plan: CoursePlan, count: int, reason: str, calendar: WorkingCalendar) -> CoursePlan:
    """R-SCH-09: add ``count`` induction sessions with a reason; the end date is recomputed.

    Typical extensions are 5 or 10 (setting ``sch.extension_steps``; MILEV16, CTMSS); other counts
    are accepted. The caller audits the extension.
    """
    errors: list[FieldError] = []
    if count < 1:
        errors.append(FieldError("count", "an extension adds at least one session"))
    if not reason.strip():
        errors.append(FieldError("reason", "an extension needs a reason"))
    if errors:
        raise ValidationFailed(errors)
    number = len(plan.extensions) + 1
    new, next_id = _append_after_phase(plan, "induction", count, calendar, extension=number)
    extension = Extension(number=number, count=count, reason=reason.strip(), session_ids=[s.id for s in new])
    updated = _with_sessions(plan, [*plan.sessions, *new], next_id=next_id,
                             planned_sessions=plan.planned_sessions + count,
                             extensions=[*plan.extensions, extension])
    end = updated.induction_end
    note = _warning("course_extended", "R-SCH-09",
                    f"Cure prolongée de {count} séances ({reason.strip()}) ; nouvelle fin le {_fr(end)}."
                    if end else f"Cure prolongée de {count} séances.",
                    f"Course extended by {count} sessions ({reason.strip()}); new end {end}.",
                    severity="info", dates=[end] if end else [])
    extra = _later_phase_warning(updated)
    return msgspec.structs.replace(updated, warnings=[*_merge_warnings(plan.warnings, extra), note])


# --- §7.4 taper ----------------------------------------------------------------------------------


def _last_active_date(plan: CoursePlan) -> dt.date:
    active = plan.active_sessions()
    if not active:
        raise ValueError("the plan has no active session to follow")
    return active[-1].date


def _taper_day(nominal: dt.date, calendar: WorkingCalendar, weekdays: list[int] | None,
               occupied: set[dt.date]) -> dt.date:
    """§7.4 holiday rule: the nominal day, else the next free working day of the same ISO week, else the
    first free course day of the following weeks."""
    sunday = _monday(nominal) + dt.timedelta(days=6)
    day = nominal
    while day <= sunday:
        if _course_day(day, calendar, weekdays) and day not in occupied:
            return day
        day += _DAY
    return _next_course_day(sunday + _DAY, calendar, weekdays, occupied)


def add_taper(plan: CoursePlan, template: TaperTemplate, calendar: WorkingCalendar) -> CoursePlan:
    """§7.4: taper week 1 is the ISO week after the end of induction; each taper day on a non-working
    day follows the ISO-week holiday rule. ``T-NONE`` (no weeks) returns the plan unchanged.

    Example A: induction ends Fri 12 Jun 2026 → T-NS-321 on Mon 15, Wed 17, Fri 19 Jun; Tue 23,
    Thu 25 Jun; Wed 01 Jul 2026.
    """
    if not template.weeks:
        return plan
    end = plan.induction_end
    if end is None:
        raise ValueError("a taper follows an induction; the plan has none")
    week_one = _monday(end) + dt.timedelta(days=7)
    occupied = _occupied(plan)
    new: list[PlannedSession] = []
    next_id = plan.next_id
    begin, finish = _plan_slots(plan, 1)[0]
    for week_index, weekdays in enumerate(template.weeks):
        monday = week_one + dt.timedelta(days=7 * week_index)
        for weekday in weekdays:
            nominal = monday + dt.timedelta(days=weekday)
            day = _taper_day(nominal, calendar, None, occupied)
            occupied.add(day)
            new.append(PlannedSession(id=next_id, phase="taper", date=day, slot=1, start=begin, end=finish,
                                      protocol_ref=plan.protocol_ref, nominal_date=nominal))
            next_id += 1
    return _with_sessions(plan, [*plan.sessions, *new], next_id=next_id)


# --- §7.5 classic maintenance ------------------------------------------------------------------------


def _maintenance_protocol(plan: CoursePlan, template: MaintenanceTemplate,
                          protocol: ProtocolDefinition | None) -> tuple[str, int]:
    if protocol is None:
        if template.protocol_id is not None and template.protocol_id != plan.protocol_id:
            raise ValueError(f"{template.id} uses protocol {template.protocol_id}; pass its definition")
        return plan.protocol_ref, plan.session_seconds
    if template.protocol_id is not None and protocol.id != template.protocol_id:
        raise ValueError(f"{template.id} uses protocol {template.protocol_id}, not {protocol.id}")
    return protocol.ref, session_seconds_int(protocol)


def add_classic_maintenance(
    plan: CoursePlan,
    template: MaintenanceTemplate,
    calendar: WorkingCalendar,
    settings: PlanningSettings,
    *,
    first_date: dt.date | None = None,
    anchor_weekday: int | None = None,
    until: dt.date | None = None,
    protocol: ProtocolDefinition | None = None,
) -> CoursePlan:
    """§7.5 classic maintenance after the last active session (taper or induction).

    Interval templates (``steps``): nominal dates chain from the previous **nominal** date, never
    from the moved one (no drift); a nominal date on a non-working day moves to the next free
    working day. The first nominal date is ``first_date``, else the first ``anchor_weekday`` after
    the last session, else the last session + the first interval. Example A (M-OREARDON, Tuesdays
    after a taper ending Wed 01 Jul 2026): Tue 07 Jul, Wed 15 Jul (14 Jul holiday), 21, 28 Jul;
    11, 25 Aug, 08, 22 Sep; 20 Oct, 17 Nov, 15 Dec 2026.

    Weekly templates (``weekly``, e.g. M-DTMS) fill the ISO weeks after the last session (or from
    ``first_date``) with the §7.4 ISO-week holiday rule. Open-ended templates stop at ``until``,
    default ``maint.horizon_months`` after the first date.
    """
    if template.kind != "classic":
        raise ValueError(f"{template.id} is a {template.kind} template")
    ref, seconds = _maintenance_protocol(plan, template, protocol)
    after = _last_active_date(plan)
    begin, finish = _plan_slots(plan, 1, seconds=seconds)[0]
    occupied = _occupied(plan)
    nominals = (_weekly_nominals(template, after, first_date, until, settings) if template.weekly is not None
                else _interval_nominals(template, after, first_date, anchor_weekday, until, settings))
    new: list[PlannedSession] = []
    next_id = plan.next_id
    for nominal in nominals:
        if template.weekly is not None:
            day = _taper_day(nominal, calendar, None, occupied)
        else:
            day = _next_course_day(nominal, calendar, None, occupied)
        occupied.add(day)
        new.append(PlannedSession(id=next_id, phase="maintenance_classic", date=day, slot=1, start=begin,
                                  end=finish, protocol_ref=ref, nominal_date=nominal))
        next_id += 1
    return _with_sessions(plan, [*plan.sessions, *new], next_id=next_id)


def _interval_nominals(template: MaintenanceTemplate, after: dt.date, first_date: dt.date | None,
                       anchor_weekday: int | None, until: dt.date | None,
                       settings: PlanningSettings) -> list[dt.date]:
    if not template.steps:
        return []
    if first_date is not None:
        first = first_date
    elif anchor_weekday is not None:
        if not 0 <= anchor_weekday <= 6:
            raise ValueError("anchor_weekday is 0 (Monday) .. 6 (Sunday)")
        first = after + dt.timedelta(days=(anchor_weekday - after.weekday() - 1) % 7 + 1)
    else:
        first = after + dt.timedelta(days=math.floor(to_fraction(template.steps[0].every_days)))
    limit = until or add_months(first, settings.maint_horizon_months)
    nominals: list[dt.date] = []
    offset: Fraction | None = None
    for step in template.steps:
        interval = to_fraction(step.every_days)
        produced = 0
        while step.count is None or produced < step.count:
            offset = Fraction(0) if offset is None else offset + interval
            nominal = first + dt.timedelta(days=math.floor(offset))
            if nominal > limit:
                return nominals
            nominals.append(nominal)
            produced += 1
    return nominals


def _weekly_nominals(template: MaintenanceTemplate, after: dt.date, first_date: dt.date | None,
                     until: dt.date | None, settings: PlanningSettings) -> list[dt.date]:
    assert template.weekly is not None
    start = first_date or _monday(after) + dt.timedelta(days=7)
    limit = until or add_months(start, settings.maint_horizon_months)
    nominals: list[dt.date] = []
    week = 0
    while template.weekly.weeks is None or week < template.weekly.weeks:
        monday = _monday(start) + dt.timedelta(days=7 * week)
        if monday > limit:
            break
        for weekday in template.weekly.weekdays:
            nominal = monday + dt.timedelta(days=weekday)
            if start <= nominal <= limit:
                nominals.append(nominal)
        week += 1
    return nominals


# --- §7.5 cluster and rescue -----------------------------------------------------------------------


def cluster_anchor(year: int, month: int, calendar: WorkingCalendar, days: int = 2) -> dt.date:
    """§7.5: the first Monday of the month; IF the anchor or the following day(s) is not a working day
    THEN move forward one day at a time until ``days`` consecutive working days are found.

    November 2027: Mon 01 Nov is a holiday → Tue 02-Wed 03 Nov.
    """
    first = dt.date(year, month, 1)
    anchor = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    for _ in range(366):
        if all(calendar.is_working_day(anchor + dt.timedelta(days=i)) for i in range(days)):
            return anchor
        anchor += _DAY
    raise ValueError(f"no {days} consecutive working days found after {first}")


def _cluster_sessions(plan: CoursePlan, template: MaintenanceTemplate, days: list[dt.date], phase: Phase,
                      label: str, next_id: int, ref: str, seconds: int) -> tuple[list[PlannedSession], int]:
    assert template.cluster is not None
    spec = template.cluster
    new: list[PlannedSession] = []
    for day, count in zip(days, spec.day_sessions, strict=True):
        grid = _plan_slots(plan, count, min_isi_min=spec.min_isi_min, isi_anchor=spec.isi_anchor, seconds=seconds)
        for slot, (begin, end) in enumerate(grid, start=1):
            new.append(PlannedSession(id=next_id, phase=phase, date=day, slot=slot, start=begin, end=end,
                                      protocol_ref=ref, cluster=label))
            next_id += 1
    return new, next_id


def add_cluster_maintenance(
    plan: CoursePlan,
    template: MaintenanceTemplate,
    calendar: WorkingCalendar,
    settings: PlanningSettings,
    *,
    months: int | None = None,
    first_month: tuple[int, int] | None = None,
    protocol: ProtocolDefinition | None = None,
    first_start: dt.time | None = None,
) -> CoursePlan:
    """§7.5 monthly clusters (M-CLUSTER-FITZ): ``day_sessions`` on consecutive working days from the
    month's :func:`cluster_anchor`, for ``months`` months (default ``maint.horizon_months``).

    The first cluster is the first whose anchor falls after the last active session, unless
    ``first_month`` (year, month) is given. Slots follow R-SCH-04 with the template's ISI, from
    ``first_start`` (default: the plan's). Example D: course 1 ends Mon 26 Apr 2027 → Mon 03-Tue
    04 May, …, Tue 02-Wed 03 Nov 2027; day-1 slots for hf_left_10hz from 09:00: 09:00, 10:30, 12:00.
    """
    if template.kind != "cluster" or template.cluster is None:
        raise ValueError(f"{template.id} is not a cluster template")
    slots_plan = msgspec.structs.replace(plan, first_start=first_start) if first_start is not None else plan
    ref, seconds = _maintenance_protocol(plan, template, protocol)
    span = len(template.cluster.day_sessions)
    after = _last_active_date(plan)
    if first_month is None:
        year, month = after.year, after.month
        if cluster_anchor(year, month, calendar, span) <= after:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        year, month = first_month
    total = settings.maint_horizon_months if months is None else months
    sessions = list(plan.sessions)
    next_id = plan.next_id
    for index in range(total):
        y, m = divmod((year * 12 + month - 1) + index, 12)
        anchor = cluster_anchor(y, m + 1, calendar, span)
        days = [anchor + dt.timedelta(days=i) for i in range(span)]
        new, next_id = _cluster_sessions(slots_plan, template, days, "maintenance_cluster",
                                         f"{y:04d}-{m + 1:02d}", next_id, ref, seconds)
        sessions += new
    return _with_sessions(plan, sessions, next_id=next_id)


def add_rescue_cluster(
    plan: CoursePlan,
    template: MaintenanceTemplate,
    start: dt.date,
    calendar: WorkingCalendar,
    *,
    first_start: dt.time | None = None,
) -> CoursePlan:
    """§7.5 M-CLUSTER-RESCUE, R-MBC-11: a rescue cluster in the same course (phase ``rescue``) on the
    first free working days from ``start``, ``day_sessions`` sessions per day (5 over 2.5-5 days)."""
    if template.kind != "rescue" or template.cluster is None:
        raise ValueError(f"{template.id} is not a rescue template")
    occupied = _occupied(plan)
    days: list[dt.date] = []
    day = start
    for _ in template.cluster.day_sessions:
        day = _next_course_day(day, calendar, None, occupied)
        days.append(day)
        day += _DAY
    label = f"rescue-{days[0].isoformat()}"
    slots_plan = msgspec.structs.replace(plan, first_start=first_start) if first_start is not None else plan
    new, next_id = _cluster_sessions(slots_plan, template, days, "rescue", label, plan.next_id, plan.protocol_ref,
                                     plan.session_seconds)
    return _with_sessions(plan, [*plan.sessions, *new], next_id=next_id)


# --- R-SCH-12 / R-SCH-13 -------------------------------------------------------------------------------


def monthly_maintenance_counts(plan: CoursePlan, settings: PlanningSettings) -> list[MonthlyCount]:
    """R-SCH-12: active maintenance sessions per calendar month, from the first to the last month with
    one (empty months in between count 0); ``dose_low`` when ≤ ``maint.min_sessions_per_month``."""
    dates = [s.date for s in plan.active_sessions() if s.phase in _MAINTENANCE_PHASES]
    if not dates:
        return []
    counts: dict[tuple[int, int], int] = {}
    for day in dates:
        counts[(day.year, day.month)] = counts.get((day.year, day.month), 0) + 1
    first, last = min(dates), max(dates)
    out: list[MonthlyCount] = []
    index, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    while index <= end:
        year, month = divmod(index, 12)
        number = counts.get((year, month + 1), 0)
        out.append(MonthlyCount(month=f"{year:04d}-{month + 1:02d}", sessions=number,
                                dose_low=number <= settings.maint_min_sessions_per_month))
        index += 1
    return out


def maintenance_dose_warnings(plan: CoursePlan, settings: PlanningSettings) -> list[PlanWarning]:
    """R-SCH-12 ``maintenance_dose_low`` for each month of :func:`monthly_maintenance_counts` at or
    below the threshold (DANDREA23). Example A: August to December 2026."""
    limit = settings.maint_min_sessions_per_month
    return [
        _warning("maintenance_dose_low", "R-SCH-12",
                 f"{c.month} : {c.sessions} séance(s) d'entretien ; ≤ {limit} séances par mois sont apparues "
                 "inefficaces (DANDREA23).",
                 f"{c.month}: {c.sessions} maintenance session(s); ≤ {limit} sessions per month appeared "
                 "ineffective (DANDREA23).",
                 section="domain-rtms §7.6", month=c.month)
        for c in monthly_maintenance_counts(plan, settings)
        if c.dose_low
    ]


def relapse_window(induction_end: CoursePlan | dt.date, settings: PlanningSettings) -> RelapseWindow:
    """R-SCH-13: the relapse-risk window opens ``maint.relapse_window_months`` after the end of
    induction; inside it self-reports come every ``maint.relapse_self_report_interval_days``.

    Example A: end Fri 12 Jun 2026 → Thu 12 Nov 2026. Example D: Mon 26 Apr 2027 → Sun 26 Sep 2027.
    """
    if isinstance(induction_end, CoursePlan):
        end = induction_end.induction_end
        if end is None:
            raise ValueError("the plan has no active induction session")
    else:
        end = induction_end
    opens = add_months(end, settings.maint_relapse_window_months)
    interval = settings.maint_relapse_self_report_interval_days
    return RelapseWindow(
        rule_id="R-SCH-13", induction_end=end, opens_on=opens, self_report_interval_days=interval,
        message_fr=f"Fenêtre de risque de rechute à partir du {_fr(opens)} : auto-questionnaire tous les "
                   f"{interval} jours.",
        message_en=f"Relapse-risk window from {opens.isoformat()}: self-report every {interval} days.",
        source="domain-rtms §7.6 R-SCH-13 (DANDREA23, FOLLOWUP-MA)",
    )


def is_in_relapse_window(on: dt.date, window: RelapseWindow) -> bool:
    return on >= window.opens_on


# --- §7.1 new course, superseding -------------------------------------------------------------------


def supersede_planned_sessions(plan: CoursePlan, from_date: dt.date, by_course: int) -> CoursePlan:
    """Mark every still-open session on or after ``from_date`` ``superseded`` by course ``by_course``.

    A cluster is superseded whole when any of its days is (no half cluster is left planned).
    """
    hit = {s.id for s in plan.sessions if s.status in _OPEN_STATUSES and s.date >= from_date}
    clusters = {s.cluster for s in plan.sessions if s.id in hit and s.cluster is not None}
    hit |= {s.id for s in plan.sessions if s.status in _OPEN_STATUSES and s.cluster in clusters}
    if not hit:
        return plan
    sessions = [msgspec.structs.replace(s, status="superseded", superseded_by_course=by_course)
                if s.id in hit else s for s in plan.sessions]
    dates = sorted({s.date for s in plan.sessions if s.id in hit})
    note = _warning("sessions_superseded", "§7.1",
                    f"{len(hit)} séance(s) planifiée(s) remplacée(s) par la cure n° {by_course}.",
                    f"{len(hit)} planned session(s) superseded by course {by_course}.",
                    section="domain-rtms", severity="info", dates=dates)
    return _with_sessions(plan, sessions, warnings=[*plan.warnings, note])


def start_new_course(
    previous: CoursePlan,
    protocol: ProtocolDefinition,
    start: dt.date,
    calendar: WorkingCalendar,
    settings: PlanningSettings,
    *,
    sessions: int | None = None,
    **options: object,
) -> tuple[CoursePlan, CoursePlan]:
    """§7.1, R-MBC-11: a re-induction opens course ``previous.course_number + 1``; the previous
    course's open sessions from the new course's first day on are ``superseded``.

    Example D: course 2 from Mon 18 Oct 2027 (20 sessions, session 20 on Tue 16 Nov 2027)
    supersedes course 1's November cluster (Tue 02-Wed 03 Nov 2027) and later ones.
    Returns ``(previous, new)``. ``options`` are passed to :func:`plan_induction`.
    """
    new = plan_induction(protocol, start, calendar, settings, sessions=sessions,
                         course_number=previous.course_number + 1, **options)  # type: ignore[arg-type]
    first = new.active_sessions()[0].date
    return supersede_planned_sessions(previous, first, new.course_number), new
