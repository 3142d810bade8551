"""Aids and eligibility hints (domain-sport §9, rules A-1 to A-6).

Hints are informative, never decisions: each cites its source and lists the documents to bring.
Amounts, age ranges, caps, delays and campaign dates come from aids.yaml (:class:`AidsCatalogue`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from shared_core.errors import FieldError, ValidationFailed
from sport_referral.model import Reason, cite
from sport_referral.model.aids import (
    AahSettings,
    AidHint,
    DapDeadline,
    PassSportGroup,
    PassSportResult,
    PassSportSettings,
    PchSettings,
    WheelchairHint,
    WheelchairSettings,
)
from sport_referral.rules.prescription import add_months

__all__ = [
    "aah_hint",
    "age_on",
    "dap_tacit_acceptance",
    "pass_sport_eligibility",
    "pass_sport_input_errors",
    "pch_hint",
    "wheelchair_hint",
]

SRC_PRESS_KIT = "Stratégie nationale Sport et Handicap 2030, dossier de presse du 30 janvier 2026"


def age_on(birth_date: date, on_date: date) -> int:
    """Age in whole years on ``on_date`` (a person born on 29 February turns a year older on 1 March
    in common years)."""
    before_birthday = (on_date.month, on_date.day) < (birth_date.month, birth_date.day)
    return on_date.year - birth_date.year - (1 if before_birthday else 0)


def pass_sport_input_errors(
    birth_date: date, on_date: date, benefits: Sequence[str], settings: PassSportSettings
) -> list[FieldError]:
    errors: list[FieldError] = []
    if birth_date > on_date:
        errors.append(FieldError("birth_date", "must not be after on_date"))
    for index, code in enumerate(benefits):
        if settings.group(code) is None:
            known = ", ".join(group.code for group in settings.groups)
            errors.append(FieldError(f"benefits[{index}]", f"unknown benefit {code!r}; expected one of: {known}"))
    return errors


def _in_age_range(group: PassSportGroup, age: int) -> bool:
    if group.age_min is not None and age < group.age_min:
        return False
    if group.age_max is not None and age > group.age_max:
        return False
    return not (group.age_below is not None and age >= group.age_below)


def _in_window(group: PassSportGroup, birth_date: date) -> bool:
    if group.born_from is not None and birth_date < group.born_from:
        return False
    return not (group.born_to is not None and birth_date > group.born_to)


def _range_fr(group: PassSportGroup) -> str:
    if group.age_below is not None:
        return f"moins de {group.age_below} ans"
    return f"{group.age_min} à {group.age_max} ans inclus"


def _range_en(group: PassSportGroup) -> str:
    if group.age_below is not None:
        return f"under {group.age_below}"
    return f"{group.age_min}-{group.age_max} inclusive"


def pass_sport_eligibility(
    birth_date: date,
    on_date: date,
    benefits: Sequence[str],
    settings: PassSportSettings,
) -> PassSportResult:
    """A-1: eligible when some benefit's age range (inclusive; ``student_grant``: below 28)
    contains the age in whole years on ``on_date``; the amount is ``cfg:pass_sport.amount_eur``.

    With ``cfg:pass_sport.use_birth_windows`` the campaign's birth-date windows replace the age
    test; with ``cfg:pass_sport.enforce_campaign_dates`` a date outside the campaign is refused
    (``outside_campaign``). Raises ValidationFailed for unknown benefits or a birth after on_date.
    """
    errors = pass_sport_input_errors(birth_date, on_date, benefits, settings)
    if errors:
        raise ValidationFailed(errors, "Invalid Pass'Sport request")
    age = age_on(birth_date, on_date)
    prov = settings.provenance
    amount_source = cite(prov, "pass_sport.amount_eur", SRC_PRESS_KIT)
    reasons: list[Reason] = []
    documents: list[str] = []
    ordered = list(dict.fromkeys(benefits))

    if settings.enforce_campaign_dates and not settings.campaign_start <= on_date <= settings.campaign_end:
        reasons.append(
            Reason(
                rule="A-1",
                code="outside_campaign",
                source=cite(prov, "pass_sport.campaign_start"),
                text_fr=f"Le {on_date.isoformat()} est hors de la campagne pass Sport {settings.campaign} "
                f"({settings.campaign_start.isoformat()} au {settings.campaign_end.isoformat()}).",
                text_en=f"{on_date.isoformat()} is outside the {settings.campaign} Pass'Sport campaign "
                f"({settings.campaign_start.isoformat()} to {settings.campaign_end.isoformat()}).",
                kind="fail",
            )
        )
        return PassSportResult(
            eligible=False,
            amount_eur=0,
            reason="outside_campaign",
            age=age,
            matched_benefit=None,
            reasons=reasons,
            documents_fr=documents,
        )
    if not ordered:
        reasons.append(
            Reason(
                rule="A-1",
                code="no_qualifying_benefit",
                source=SRC_PRESS_KIT,
                text_fr="Aucune allocation ouvrant droit au pass Sport n'est indiquée (AEEH, AAH, ...).",
                text_en="No qualifying benefit given (AEEH, AAH, ...).",
                kind="fail",
            )
        )
        return PassSportResult(
            eligible=False,
            amount_eur=0,
            reason="no_qualifying_benefit",
            age=age,
            matched_benefit=None,
            reasons=reasons,
            documents_fr=documents,
        )

    matched: str | None = None
    for code in ordered:
        group = settings.group(code)
        assert group is not None
        if settings.use_birth_windows:
            ok = _in_window(group, birth_date)
            source = cite(prov, f"pass_sport.groups.{code}.birth_window")
            window = f"{group.born_from or '…'} – {group.born_to or '…'}"
            text_fr = (
                f"{group.label_fr} : naissance le {birth_date.isoformat()}, "
                f"{'dans' if ok else 'hors de'} la fenêtre {window}."
            )
            text_en = (
                f"{group.label_en}: born {birth_date.isoformat()}, {'inside' if ok else 'outside'} the window {window}."
            )
            code_out = "birth_date_in_window" if ok else "birth_date_outside_window"
        else:
            ok = _in_age_range(group, age)
            source = cite(prov, f"pass_sport.groups.{code}.ages", SRC_PRESS_KIT)
            text_fr = (
                f"{group.label_fr} : {age} ans le {on_date.isoformat()}, "
                f"{'dans' if ok else 'hors de'} la tranche d'âge ({_range_fr(group)})."
            )
            text_en = (
                f"{group.label_en}: age {age} on {on_date.isoformat()}, "
                f"{'within' if ok else 'outside'} the age range ({_range_en(group)})."
            )
            code_out = "age_in_range" if ok else "age_out_of_range"
        reasons.append(
            Reason(
                rule="A-1",
                code=f"{code_out}:{code}",
                source=source,
                text_fr=text_fr,
                text_en=text_en,
                kind="pass" if ok else "fail",
            )
        )
        if ok and matched is None:
            matched = code
            documents = list(group.documents_fr)

    if matched is None:
        reason = "birth_date_outside_window" if settings.use_birth_windows else "age_out_of_range"
        return PassSportResult(
            eligible=False,
            amount_eur=0,
            reason=reason,
            age=age,
            matched_benefit=None,
            reasons=reasons,
            documents_fr=documents,
        )
    reasons.append(
        Reason(
            rule="A-2",
            code="a2_where_to_use",
            source=cite(prov, "pass_sport.documents_fr"),
            text_fr="Utilisable dans les clubs affiliés aux fédérations agréées, les associations agréées et certaines "
            "structures marchandes de loisir sportif (indication seulement).",
            text_en="Usable in clubs affiliated to approved federations, approved associations and some commercial "
            "sport-leisure structures (hint only).",
            kind="info",
        )
    )
    reasons.insert(
        0,
        Reason(
            rule="A-1",
            code="eligible",
            source=amount_source,
            text_fr=f"Pass Sport {settings.campaign} : {settings.amount_eur} € (indication, la décision appartient au "
            "dispositif pass Sport).",
            text_en=f"Pass'Sport {settings.campaign}: €{settings.amount_eur} (hint; the scheme decides).",
            kind="pass",
        ),
    )
    return PassSportResult(
        eligible=True,
        amount_eur=settings.amount_eur,
        reason="birth_date_in_window" if settings.use_birth_windows else "age_in_range",
        age=age,
        matched_benefit=matched,
        reasons=reasons,
        documents_fr=documents,
    )


def wheelchair_hint(
    quote_eur: float,
    *,
    standard_leisure: bool,
    settings: WheelchairSettings,
    electric: bool = False,
) -> WheelchairHint:
    """A-3: a quote at or under the cap for a standard leisure sport chair → "covered, no DAP";
    otherwise "DAP needed" (prior approval). Electric sport chairs follow the electric-wheelchair
    rules. Whether the DAP threshold equals the cap is [to verify] (``cfg:wheelchair.dap_threshold_eur``)."""
    if not quote_eur > 0:
        raise ValidationFailed([FieldError("quote_eur", "must be a positive amount")])
    prov = settings.provenance
    cover = Reason(
        rule="A-3",
        code="a3_full_cover",
        source=cite(prov, "wheelchair.coverage_rate_pct", SRC_PRESS_KIT),
        text_fr=f"Depuis le {settings.cover_from.isoformat()}, l'Assurance Maladie prend en charge à "
        f"{settings.coverage_rate_pct} % les fauteuils roulants sportifs ; plafond des fauteuils manuels "
        f"sportifs porté de {settings.previous_cap_eur} € à {settings.sport_manual_cap_eur} €.",
        text_en=f"Since {settings.cover_from.isoformat()} the Assurance Maladie covers sport wheelchairs at "
        f"{settings.coverage_rate_pct}%; the manual sport chair cap rose from €{settings.previous_cap_eur} "
        f"to €{settings.sport_manual_cap_eur}.",
        kind="info",
    )
    documents = list(settings.documents_fr)
    if electric:
        return WheelchairHint(
            hint="electric_wheelchair_rules",
            documents_fr=documents,
            reasons=[
                cover,
                Reason(
                    rule="A-3",
                    code="electric_wheelchair_rules",
                    source=cite(prov, "wheelchair.prescribers"),
                    text_fr="Fauteuil sportif électrique : les règles des fauteuils roulants électriques s'appliquent.",
                    text_en="Electric sport chair: the electric-wheelchair rules apply.",
                    kind="info",
                ),
            ],
        )
    threshold = settings.dap_threshold_eur
    source = (
        f"{cite(prov, 'wheelchair.sport_manual_cap_eur', SRC_PRESS_KIT)}; {cite(prov, 'wheelchair.dap_threshold_eur')}"
    )
    if quote_eur <= threshold and standard_leisure:
        return WheelchairHint(
            hint="covered_no_dap",
            documents_fr=documents,
            reasons=[
                cover,
                Reason(
                    rule="A-3",
                    code="covered_no_dap",
                    source=source,
                    text_fr=f"Devis de {quote_eur:g} € pour un fauteuil de loisir standard (≤ {threshold} €) : pris en "
                    "charge, sans demande d'accord préalable.",
                    text_en=f"Quote €{quote_eur:g} for a standard leisure chair (≤ €{threshold}): covered, no prior "
                    "approval.",
                    kind="pass",
                ),
            ],
        )
    why_fr = "modèle complexe ou sur mesure" if not standard_leisure else f"devis supérieur à {threshold} €"
    why_en = "complex or custom model" if not standard_leisure else f"quote above €{threshold}"
    return WheelchairHint(
        hint="dap_needed",
        documents_fr=documents,
        reasons=[
            cover,
            Reason(
                rule="A-3",
                code="dap_needed",
                source=source,
                text_fr=f"Devis de {quote_eur:g} € ({why_fr}) : une demande d'accord préalable (DAP) est nécessaire.",
                text_en=f"Quote €{quote_eur:g} ({why_en}): a prior-approval request (DAP) is needed.",
                kind="info",
            ),
        ],
    )


def dap_tacit_acceptance(received_on: date, settings: WheelchairSettings) -> DapDeadline:
    """A-4: no decision notified within ``cfg:wheelchair.dap_silence_months`` calendar months of the
    DAP receipt → deemed accepted from the next day (2026-01-12 → due 2026-03-12, accepted from
    2026-03-13). A day missing in the target month becomes its last day [to verify]."""
    due = add_months(received_on, settings.dap_silence_months)
    accepted_from = due + timedelta(days=1)
    return DapDeadline(
        received_on=received_on,
        decision_due_by=due,
        deemed_accepted_from=accepted_from,
        reasons=[
            Reason(
                rule="A-4",
                code="a4_tacit_acceptance",
                source=cite(settings.provenance, "wheelchair.dap_silence_months"),
                text_fr=f"DAP reçue le {received_on.isoformat()} : sans décision notifiée au {due.isoformat()}, "
                f"elle est réputée acceptée à compter du {accepted_from.isoformat()} (règle à vérifier).",
                text_en=f"DAP received {received_on.isoformat()}: with no decision notified by {due.isoformat()}, it "
                "is "
                f"deemed accepted from {accepted_from.isoformat()} (rule to verify).",
                kind="info",
            )
        ],
    )


def pch_hint(
    *,
    absolute_difficulties: int,
    serious_difficulties: int,
    expected_duration_months: int | None,
    settings: PchSettings,
) -> AidHint:
    """A-5: an absolute difficulty for 1 activity or a serious difficulty for 2, expected to last at
    least a year (CASF annex 2-5) → "PCH possibly eligible — ask the MDPH". Never a decision."""
    if absolute_difficulties < 0 or serious_difficulties < 0:
        raise ValidationFailed([FieldError("difficulties", "counts must be >= 0")])
    prov = settings.provenance
    severity = (
        absolute_difficulties >= settings.absolute_difficulties_min
        or serious_difficulties >= settings.serious_difficulties_min
    )
    lasting = expected_duration_months is None or expected_duration_months >= settings.min_duration_months
    possible = severity and lasting
    source = cite(prov, "pch.absolute_difficulties_min", "CASF annexe 2-5")
    if possible:
        reason = Reason(
            rule="A-5",
            code="pch_possibly_eligible",
            source=source,
            text_fr="PCH peut-être ouverte : difficulté absolue pour une activité ou grave pour deux, durable. "
            "Renseignez-vous auprès de la MDPH (décision de la CDAPH)."
            + (" Durée prévisible à confirmer." if expected_duration_months is None else ""),
            text_en="PCH possibly eligible: absolute difficulty for one activity or serious for two, lasting. "
            "Ask the MDPH (the CDAPH decides)."
            + (" Expected duration to confirm." if expected_duration_months is None else ""),
            kind="info",
        )
    else:
        reason = Reason(
            rule="A-5",
            code="pch_not_indicated",
            source=source,
            text_fr="Les difficultés relevées ne correspondent pas aux seuils de la PCH (indication seulement).",
            text_en="The recorded difficulties do not reach the PCH thresholds (hint only).",
            kind="info",
        )
    return AidHint(
        code=reason.code,
        possibly_eligible=possible,
        reasons=[reason],
        documents_fr=list(settings.documents_fr) if possible else [],
    )


def aah_hint(
    *,
    receives_aah: bool,
    age: int | None,
    aah: AahSettings,
    pass_sport: PassSportSettings,
) -> AidHint:
    """A-6: AAH is decided by the CDAPH (hint only). Receiving it feeds E-7 (c) and, at the
    Pass'Sport ``aah`` ages, the Pass'Sport hint."""
    reasons = [
        Reason(
            rule="A-6",
            code="aah_cdaph_decides",
            source=cite(aah.provenance, "aah.incapacity_full_pct"),
            text_fr=f"L'AAH est décidée par la CDAPH (taux d'incapacité d'au moins {aah.incapacity_full_pct} %, ou de "
            f"{aah.incapacity_partial_pct} à {aah.incapacity_full_pct - 1} % avec restriction substantielle et durable "
            "d'accès à l'emploi ; conditions d'âge et de ressources).",
            text_en=f"AAH is decided by the CDAPH (incapacity ≥ {aah.incapacity_full_pct}%, or "
            f"{aah.incapacity_partial_pct}-{aah.incapacity_full_pct - 1}% with a substantial, lasting restriction "
            "of access to employment; age and resource conditions).",
            kind="info",
        )
    ]
    if receives_aah:
        reasons.append(
            Reason(
                rule="E-7",
                code="e7_cdaph_right",
                source="Art. D.1172-1-1 3° c) CSP",
                text_fr="Bénéficiaire de l'AAH : droit ouvert par la CDAPH, motif d'éligibilité à l'APA (perte "
                "d'autonomie).",
                text_en="AAH recipient: a CDAPH right, an APA eligibility ground (loss of autonomy).",
                kind="info",
            )
        )
        group = pass_sport.group("aah")
        if group is not None and age is not None and _in_age_range(group, age):
            reasons.append(
                Reason(
                    rule="A-1",
                    code="pass_sport_possible:aah",
                    source=cite(pass_sport.provenance, "pass_sport.groups.aah.ages"),
                    text_fr=f"{age} ans : pass Sport possible au titre de l'AAH ({_range_fr(group)}).",
                    text_en=f"Age {age}: Pass'Sport possible through AAH ({_range_en(group)}).",
                    kind="info",
                )
            )
    return AidHint(code="aah_cdaph_decides", possibly_eligible=receives_aah, reasons=reasons, documents_fr=[])
