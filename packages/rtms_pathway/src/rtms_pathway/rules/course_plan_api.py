"""``POST /api/v1/rtms/course-plans/preview`` mapping (api-contract) and the patient's iCalendar feed.

Pure mapping between the contract body and :class:`~rtms_pathway.model.planning.CoursePlan`:

- :func:`validate_contract_preview` lists EVERY bad field of a raw (already JSON-decoded) body as
  :class:`shared_core.errors.FieldError` (the web layer answers 422 with them);
- :func:`contract_input_to_plan` plans the induction (domain-rtms §7.3 R-SCH-01/02/04) and
  :func:`plan_to_contract` maps the plan back to the contract answer
  ``{"sessions": [{"number", "date", "slot", "phase": "induction"}], "induction_end"}``;
- :func:`contract_preview` chains the three and returns JSON-ready builtins.

The contract preview is the plain working-day series: the start counts when it is a working day,
else the next one; an accelerated protocol fills slots 1..n each day. R-SCH-05's unbroken-block
proposal is advice on the full plan (:attr:`CoursePlan.block_proposal`), not applied here.

:func:`to_icalendar` serialises a plan as RFC 5545 text for the patient (one VEVENT per session,
"Séance de rTMS", Europe/Paris with its VTIMEZONE, CRLF, lines folded at 75 octets).

The catalogue and settings are arguments; when omitted, the shipped ones are used (read once
per process from package data by ``catalogue.loader_planning``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import msgspec

from rtms_pathway.model.planning import CoursePlan, Phase, PlanningSettings
from rtms_pathway.model.protocols import ProtocolCatalogue
from rtms_pathway.rules.scheduling import plan_induction
from shared_core.calendar import HOLIDAY_ZONES, WorkingCalendar
from shared_core.errors import FieldError, ValidationFailed

__all__ = [
    "CONTRACT_FIELDS",
    "ContractPreviewInput",
    "ContractPreviewOutput",
    "ContractPreviewSession",
    "contract_input_to_plan",
    "contract_preview",
    "fold_ical_line",
    "plan_to_contract",
    "to_icalendar",
    "validate_contract_preview",
]

# Bounds that keep a preview computable; the protocol's own range is the clinical limit.
MIN_YEAR = 1990
MAX_YEAR = 2199
MAX_CLOSURES = 1000
MAX_SESSIONS = 1000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ContractPreviewInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The contract body: ``{"protocol", "start", "induction_sessions", "holiday_zone", "closures"?}``."""

    protocol: str
    start: dt.date
    induction_sessions: Annotated[int, msgspec.Meta(ge=1, le=MAX_SESSIONS)]
    holiday_zone: str
    closures: Annotated[list[dt.date], msgspec.Meta(max_length=MAX_CLOSURES)] | None = None


class ContractPreviewSession(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    date: dt.date
    slot: int
    phase: Literal["induction"]


class ContractPreviewOutput(msgspec.Struct, frozen=True, kw_only=True):
    sessions: list[ContractPreviewSession]
    induction_end: dt.date


CONTRACT_FIELDS: tuple[str, ...] = ("protocol", "start", "induction_sessions", "holiday_zone", "closures")


def _default_catalogue() -> ProtocolCatalogue:
    from rtms_pathway.catalogue.loader_planning import load_protocol_catalogue

    return load_protocol_catalogue()


def _default_settings() -> PlanningSettings:
    from rtms_pathway.catalogue.loader_planning import load_planning_settings

    return load_planning_settings()


def _date_problem(value: Any) -> str | None:
    if isinstance(value, dt.datetime) or not isinstance(value, str | dt.date):
        return "must be a date string YYYY-MM-DD"
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            return "must be a date string YYYY-MM-DD"
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a calendar date"
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return f"year must be between {MIN_YEAR} and {MAX_YEAR}"
    return None


def validate_contract_preview(raw: Any, catalogue: ProtocolCatalogue | None = None) -> list[FieldError]:
    """Every problem of a decoded preview body, one :class:`FieldError` per bad field (empty = valid).

    Checks: unknown fields; ``protocol`` a known induction protocol; ``start`` an ISO date;
    ``induction_sessions`` an integer ≥ 1 inside the protocol's ``acute_sessions_range``;
    ``holiday_zone`` one of :data:`shared_core.calendar.HOLIDAY_ZONES`; ``closures`` (optional,
    null allowed) a list of ISO dates, each bad one named ``closures[i]``.
    """
    if not isinstance(raw, Mapping):
        return [FieldError("body", "must be a JSON object")]
    catalogue = catalogue or _default_catalogue()
    errors: list[FieldError] = []
    for key in sorted(str(k) for k in raw if k not in CONTRACT_FIELDS):
        errors.append(FieldError(key, "unknown field"))
    for key in CONTRACT_FIELDS[:4]:
        if key not in raw:
            errors.append(FieldError(key, "is required"))

    protocol = None
    induction_codes = [p for p in catalogue.ids() if catalogue.get(p).induction]
    if "protocol" in raw:
        code = raw["protocol"]
        if not isinstance(code, str):
            errors.append(FieldError("protocol", "must be a string"))
        elif code not in catalogue:
            errors.append(FieldError("protocol",
                                     f"unknown protocol {code!r}; valid codes: {', '.join(induction_codes)}"))
        elif not catalogue.get(code).induction:
            errors.append(FieldError("protocol", f"{code!r} is a maintenance-only protocol; valid codes: "
                                                 f"{', '.join(induction_codes)}"))
        else:
            protocol = catalogue.get(code)

    if "start" in raw:
        problem = _date_problem(raw["start"])
        if problem is not None:
            errors.append(FieldError("start", problem))

    if "induction_sessions" in raw:
        count = raw["induction_sessions"]
        if isinstance(count, bool) or not isinstance(count, int):
            errors.append(FieldError("induction_sessions", "must be an integer"))
        elif count < 1:
            errors.append(FieldError("induction_sessions", "must be at least 1"))
        elif protocol is not None and protocol.acute_sessions_range is not None:
            low, high = protocol.acute_sessions_range
            if not low <= count <= high:
                errors.append(FieldError("induction_sessions",
                                         f"must be between {low} and {high} for {protocol.id}"))
        elif count > MAX_SESSIONS:
            errors.append(FieldError("induction_sessions", f"must be at most {MAX_SESSIONS}"))

    if "holiday_zone" in raw:
        zone = raw["holiday_zone"]
        if not isinstance(zone, str):
            errors.append(FieldError("holiday_zone", "must be a string"))
        elif zone not in HOLIDAY_ZONES:
            errors.append(FieldError("holiday_zone", f"unknown holiday zone {zone!r}; valid codes: "
                                                     f"{', '.join(HOLIDAY_ZONES)}"))

    closures = raw.get("closures")
    if closures is not None:
        if not isinstance(closures, list):
            errors.append(FieldError("closures", "must be a list of dates"))
        elif len(closures) > MAX_CLOSURES:
            errors.append(FieldError("closures", f"at most {MAX_CLOSURES} dates"))
        else:
            for index, item in enumerate(closures):
                problem = _date_problem(item)
                if problem is not None:
                    errors.append(FieldError(f"closures[{index}]", problem))
    return errors


def contract_input_to_plan(
    body: ContractPreviewInput,
    catalogue: ProtocolCatalogue | None = None,
    settings: PlanningSettings | None = None,
) -> CoursePlan:
    """Plan the induction the contract describes (working days of the zone minus the closures)."""
    catalogue = catalogue or _default_catalogue()
    settings = settings or _default_settings()
    calendar = WorkingCalendar(body.holiday_zone, closures=body.closures or ())
    return plan_induction(catalogue.get(body.protocol), body.start, calendar, settings,
                          sessions=body.induction_sessions)


def plan_to_contract(plan: CoursePlan) -> ContractPreviewOutput:
    """The contract answer for a plan: its active induction sessions in order, and the last date."""
    induction = plan.active_sessions("induction")
    if not induction:
        raise ValueError("the plan has no induction session")
    sessions = [ContractPreviewSession(number=index, date=s.date, slot=s.slot, phase="induction")
                for index, s in enumerate(induction, start=1)]
    return ContractPreviewOutput(sessions=sessions, induction_end=induction[-1].date)


def contract_preview(
    raw: Any,
    catalogue: ProtocolCatalogue | None = None,
    settings: PlanningSettings | None = None,
) -> dict[str, Any]:
    """Validate, plan and answer as JSON-ready builtins; :class:`ValidationFailed` lists every bad field."""
    catalogue = catalogue or _default_catalogue()
    errors = validate_contract_preview(raw, catalogue)
    if errors:
        raise ValidationFailed(errors)
    body = msgspec.convert(raw, ContractPreviewInput)
    answer: dict[str, Any] = msgspec.to_builtins(plan_to_contract(contract_input_to_plan(body, catalogue, settings)))
    return answer


# --- RFC 5545 -----------------------------------------------------------------------------------

_VTIMEZONE_PARIS = (
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Paris",
    "X-LIC-LOCATION:Europe/Paris",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19810329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19961027T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)
SUMMARY_FR = "Séance de rTMS"


def _escape_text(value: str) -> str:
    """RFC 5545 §3.3.11 TEXT escaping."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold_ical_line(line: str, limit: int = 75) -> str:
    """RFC 5545 §3.1: lines longer than ``limit`` octets are split with CRLF + one space; a UTF-8
    character is never cut. Returns the folded line without its final CRLF."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    budget = limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > budget:
            parts.append(current)
            current, size, budget = "", 0, limit - 1  # continuation lines start with one space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _local(day: dt.date, at: dt.time) -> str:
    return dt.datetime.combine(day, at).strftime("%Y%m%dT%H%M%S")


def to_icalendar(
    plan: CoursePlan,
    *,
    course_uid: str,
    dtstamp: dt.datetime,
    uid_domain: str = "parcours.invalid",
    location: str | None = None,
    calendar_name: str = "Mes séances de rTMS",
    phases: Iterable[Phase] | None = None,
) -> str:
    """The patient's schedule as an RFC 5545 VCALENDAR (``METHOD:PUBLISH``).

    One VEVENT per active session (skipped, cancelled and superseded sessions are left out):
    ``UID`` = ``<course_uid>-<session id>@<uid_domain>`` (stable across re-exports), ``DTSTAMP``
    from the argument (aware; written in UTC), ``DTSTART``/``DTEND`` local to Europe/Paris with a
    VTIMEZONE, ``SUMMARY:Séance de rTMS`` and no clinical detail (no protocol, phase or number).
    CRLF line endings; lines folded at 75 octets.
    """
    if dtstamp.tzinfo is None or dtstamp.utcoffset() is None:
        raise ValueError("dtstamp must be timezone-aware")
    if not course_uid or any(c.isspace() for c in course_uid) or "@" in course_uid:
        raise ValueError("course_uid must be non-empty, without spaces or '@'")
    stamp = dtstamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    wanted = set(phases) if phases is not None else None
    lines: list[str] = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Parcours//Planning rTMS//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape_text(calendar_name)}",
        "X-WR-TIMEZONE:Europe/Paris",
        *_VTIMEZONE_PARIS,
    ]
    for session in plan.active_sessions():
        if wanted is not None and session.phase not in wanted:
            continue
        lines += [
            "BEGIN:VEVENT",
            f"UID:{course_uid}-{session.id}@{uid_domain}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID=Europe/Paris:{_local(session.date, session.start)}",
            f"DTEND;TZID=Europe/Paris:{_local(session.date, session.end)}",
            f"SUMMARY:{_escape_text(SUMMARY_FR)}",
        ]
        if location:
            lines.append(f"LOCATION:{_escape_text(location)}")
        lines += ["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold_ical_line(line) + "\r\n" for line in lines)
