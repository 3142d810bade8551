"""Motor threshold rules R-MT-01..07 (domain-rtms §8.2) and the MT tasks of a plan (R-SCH-11).

Pure: the last measurement, the check-in answers, the session date and the settings
(``mt.*``, ``device.max_output_pct_mso``) are arguments. Exact arithmetic for every comparison
(§0.3 principle 5); the required output is never capped silently (R-MT-05).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fractions import Fraction

from rtms_pathway.model.planning import (
    CheckinFlags,
    CoursePlan,
    DeviceOutputCheck,
    IntensityRounding,
    MotorThresholdMeasurement,
    MtAlert,
    MtChangeCheck,
    MtDecision,
    MtMethod,
    MtTask,
    MtTrigger,
    Phase,
    PlanningSettings,
)
from rtms_pathway.rules.protocols import Number, exact_intensity_pct_mso, round_fraction, to_fraction

__all__ = [
    "check_device_max",
    "check_mt_change",
    "mt_due",
    "mt_interval_days",
    "plan_mt_tasks",
    "visual_twitch_advice",
]

SECTION = "domain-rtms §8.2"


def mt_interval_days(settings: PlanningSettings, *, seizure_threshold_medication: bool = False) -> int:
    """R-MT-02 ``mt.interval_days`` (7; 1 = daily), or R-MT-04 ``mt.high_risk_interval_days`` (3 [to verify])
    with a seizure-threshold-lowering medication."""
    if seizure_threshold_medication:
        return settings.mt_high_risk_interval_days
    return settings.mt_interval_days


def _interval_trigger(interval: int) -> MtTrigger:
    return "daily_policy" if interval == 1 else "weekly"


def mt_due(
    *,
    session_date: dt.date,
    last_mt: MotorThresholdMeasurement | None,
    first_session_of_course: bool,
    settings: PlanningSettings,
    checkin: CheckinFlags | None = None,
    coil_id: str | None = None,
    device_id: str | None = None,
    seizure_threshold_medication: bool = False,
) -> MtDecision:
    """Is an MT measurement due before this session, and which rules say so?

    - R-MT-01: first session of every course (or no MT on record).
    - R-MT-02: days since the last MT ≥ ``mt.interval_days``; R-MT-04 uses the high-risk interval.
    - R-MT-03: now, when check-in reports a §4 drug change, sleep deprivation or alcohol, or when
      the coil or device differs from the last MT's.
    """
    flags = checkin or CheckinFlags()
    interval = mt_interval_days(settings, seizure_threshold_medication=seizure_threshold_medication)
    triggers: list[MtTrigger] = []
    rules: list[str] = []
    fr: list[str] = []
    en: list[str] = []

    def add(trigger: MtTrigger, rule: str, text_fr: str, text_en: str) -> None:
        if trigger not in triggers:
            triggers.append(trigger)
        if rule not in rules:
            rules.append(rule)
        fr.append(text_fr)
        en.append(text_en)

    days_since: int | None = None
    if last_mt is not None:
        days_since = (session_date - last_mt.date_time.date()).days
    if first_session_of_course or last_mt is None:
        add("course_start", "R-MT-01", "Première séance de la cure : seuil moteur requis.",
            "First session of the course: MT required.")
    if flags.medication_change:
        add("medication_change", "R-MT-03", "Changement d'un médicament (§4) signalé : seuil moteur à refaire.",
            "A §4 medication change was reported: re-measure MT.")
    if flags.sleep_deprivation:
        add("checkin_flag", "R-MT-03", "Privation de sommeil signalée : seuil moteur à refaire.",
            "Sleep deprivation reported: re-measure MT.")
    if flags.alcohol:
        add("checkin_flag", "R-MT-03", "Prise d'alcool signalée : seuil moteur à refaire.",
            "Alcohol intake reported: re-measure MT.")
    if last_mt is not None and _changed(coil_id, last_mt.coil_id) | _changed(device_id, last_mt.device_id):
        add("device_change", "R-MT-03", "Bobine ou stimulateur différent du dernier seuil : seuil moteur à refaire.",
            "Different coil or device from the last MT: re-measure MT.")
    if flags.physician_request:
        add("physician_request", "R-MT-03", "Demande du médecin.", "Physician request.")
    if days_since is not None and days_since >= interval:
        rule = "R-MT-04" if seizure_threshold_medication else "R-MT-02"
        add(_interval_trigger(interval), rule,
            f"{days_since} jours depuis le dernier seuil moteur (intervalle {interval} jours).",
            f"{days_since} days since the last MT (interval {interval} days).")
    return MtDecision(due=bool(triggers), triggers=triggers, rule_ids=rules, interval_days=interval,
                      days_since_last=days_since, reasons_fr=fr, reasons_en=en)


def _changed(current: str | None, previous: str) -> bool:
    return bool(current) and bool(previous) and current != previous


def plan_mt_tasks(
    plan: CoursePlan,
    settings: PlanningSettings,
    *,
    seizure_threshold_medication: bool = False,
    phases: Iterable[Phase] | None = None,
    last_mt_date: dt.date | None = None,
) -> list[MtTask]:
    """R-SCH-11 with R-MT-01/02/04: the planned sessions before which an MT is due, assuming each due
    MT is done (one per day, before the day's first session).

    Example A (skip of Tue 12 May 2026 postponed): sessions 1 (Mon 27 Apr), 5 (Mon 04 May),
    9 (Mon 11 May), 12 (Mon 18 May), 17 (Tue 26 May), 22 (Tue 02 Jun), 27 (Tue 09 Jun).
    """
    wanted = set(phases) if phases is not None else None
    interval = mt_interval_days(settings, seizure_threshold_medication=seizure_threshold_medication)
    last = last_mt_date
    tasks: list[MtTask] = []
    for session in plan.active_sessions():
        if wanted is not None and session.phase not in wanted:
            continue
        if last is not None and session.date == last:
            continue
        if session.number == 1 or last is None:
            trigger: MtTrigger = "course_start"
            rule = "R-MT-01"
        elif (session.date - last).days >= interval:
            trigger = _interval_trigger(interval)
            rule = "R-MT-04" if seizure_threshold_medication else "R-MT-02"
        else:
            continue
        tasks.append(MtTask(session_id=session.id, number=session.number, date=session.date, trigger=trigger,
                            rule_id=rule))
        last = session.date
    return tasks


def check_device_max(
    mt_pct_mso: Number,
    intensity_pct_mt: Number,
    settings: PlanningSettings,
    *,
    rounding: IntensityRounding | None = None,
    device_max_pct_mso: int | None = None,
) -> DeviceOutputCheck:
    """R-MT-05: IF ``mt_pct_mso × intensity_pct_mt / 100`` > the device maximum THEN ``DEVICE_MAX_EXCEEDED``.

    The required output is returned as is, never capped; the alert lists the physician's options
    (deliver at the maximum and record the %MT delivered, review medication, change coil).
    """
    exact = exact_intensity_pct_mso(mt_pct_mso, intensity_pct_mt)
    maximum = settings.device_max_output_pct_mso if device_max_pct_mso is None else device_max_pct_mso
    required = round_fraction(exact, rounding or settings.pro_intensity_rounding)
    exceeded = exact > maximum
    mt = to_fraction(mt_pct_mso)
    at_max = float(Fraction(maximum * 100) / mt) if mt > 0 else None
    alert = None
    if exceeded:
        shown = f"{float(exact):g}"
        at_max_text = f"{at_max:.1f}" if at_max is not None else "?"
        alert = MtAlert(
            code="DEVICE_MAX_EXCEEDED", rule_id="R-MT-05",
            message_fr=f"La prescription demande {shown} % de la sortie maximale, au-delà du maximum de l'appareil "
                       f"({maximum} %). Pas d'écrêtage automatique : à la sortie maximale, l'intensité serait de "
                       f"{at_max_text} % du seuil moteur.",
            message_en=f"The prescription needs {shown} % MSO, above the device maximum ({maximum} %). Not capped: "
                       f"at maximum output the intensity would be {at_max_text} % MT.",
            source=f"{SECTION} R-MT-05 (SEED)",
            options=["deliver_at_maximum_and_record_pct_mt", "review_medication", "change_coil"],
        )
    return DeviceOutputCheck(required_pct_mso_exact=str(exact), required_pct_mso=required,
                             device_max_pct_mso=maximum, exceeded=exceeded, pct_mt_at_device_max=at_max,
                             alert=alert)


def check_mt_change(previous_pct_mso: Number, new_pct_mso: Number, settings: PlanningSettings) -> MtChangeCheck:
    """R-MT-06: IF |new − previous| / previous > ``mt.change_confirm_pct`` (10 % relative [to verify])
    THEN re-measure to confirm and notify the physician. Exactly the threshold does not fire."""
    previous = to_fraction(previous_pct_mso)
    new = to_fraction(new_pct_mso)
    if previous <= 0:
        raise ValueError("the previous MT must be > 0")
    relative = abs(new - previous) / previous
    limit = settings.mt_change_confirm_pct
    confirm = relative * 100 > limit
    alert = None
    if confirm:
        pct = f"{float(relative * 100):.1f}"
        alert = MtAlert(
            code="MT_CHANGE_CONFIRM", rule_id="R-MT-06",
            message_fr=f"Le seuil moteur a changé de {pct} % (> {limit} %) : le mesurer à nouveau pour confirmer, "
                       "et prévenir le médecin.",
            message_en=f"MT changed by {pct} % (> {limit} %): re-measure to confirm and notify the physician.",
            source=f"{SECTION} R-MT-06 (OPTTMS-MT)",
            options=["remeasure", "notify_physician"],
        )
    return MtChangeCheck(relative_change=str(relative), relative_change_pct=float(relative * 100),
                         confirm_required=confirm, alert=alert)


def visual_twitch_advice(
    method: MtMethod,
    intensity_pct_mt: Number,
    settings: PlanningSettings,
    *,
    seizure_threshold_medication: bool = False,
) -> MtAlert | None:
    """R-MT-07: IF ``method = visual_twitch`` AND (intensity ≥ 120 % MT OR a seizure-threshold
    medication) THEN advise the EMG method (visual MT ran 11.3 % above EMG MT, WESTIN14)."""
    if method != "visual_twitch":
        return None
    high = to_fraction(intensity_pct_mt) >= settings.mt_visual_twitch_emg_advice_pct_mt
    if not (high or seizure_threshold_medication):
        return None
    return MtAlert(
        code="ADVISE_EMG_MT", rule_id="R-MT-07",
        message_fr="Seuil moteur visuel : préférer la méthode EMG (le seuil visuel surestime la dose, de 11,3 % "
                   "en moyenne).",
        message_en="Visual-twitch MT: prefer the EMG method (visual MT overestimates the dose, by 11.3 % on "
                   "average).",
        source=f"{SECTION} R-MT-07 (WESTIN14)",
        options=["measure_with_emg"],
    )
