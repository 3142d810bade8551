"""Demo sport-health directory: fictitious structures placed around real commune points (gazetteer).

Names say "(démonstration)" so nobody mistakes them for real structures.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import msgspec

from shared_core.rules.identifiers import luhn_valid
from sport_referral.geo.gazetteer import get_gazetteer
from sport_referral.model.structures import Structure

CITIES = ("67482", "31555", "69123", "44109", "59350", "33063", "13055", "35238")
JITTER_DEGREES = 0.05  # about 5 km


def _finess(department: str, rng: random.Random) -> str:
    while True:
        candidate = f"{department[:2]}{rng.randint(0, 9_999_999):07d}"
        if luhn_valid(candidate.replace("2A", "21").replace("2B", "22")):
            return candidate


def _near(lat: float, lon: float, rng: random.Random) -> dict[str, float]:
    return {"latitude": round(lat + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES), 5),
            "longitude": round(lon + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES), 5)}


def _city_structures(code: str, city: str, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"structure_id": f"demo-mss-{code}", "kind": "mss", "name": f"Maison Sport-Santé de {city} (démonstration)",
         "accepting_referrals": True, "capacity_open_slots": rng.randint(0, 12),
         "professions": ["apa_teacher", "physiotherapist"], "disability_families": ["moteur", "visuel", "psychique"],
         "activity_types": ["endurance", "strength", "balance", "flexibility"],
         "accessibility": {"motor_reception": True, "motor_toilets": True}, "mss_habilitated_from": "2024-01-15",
         "referral_email": f"mss-{code}@demo.parcours.fr", "public_transport_nearby": True},
        {"structure_id": f"demo-esms-{code}", "kind": "esms", "name": f"IME de {city} (démonstration)",
         "accepting_referrals": True, "esms_category_code": "183",
         "professions": ["psychomotor_therapist", "apa_teacher"], "disability_families": ["mental", "psychique"],
         "activity_types": ["endurance", "balance"], "accessibility": {"motor_reception": True},
         "referral_email": f"ime-{code}@demo.parcours.fr", "referent_display_name": "Référent APS (démonstration)"},
        {"structure_id": f"demo-club-{code}", "kind": "club", "name": f"Club handisport de {city} (démonstration)",
         "accepting_referrals": True, "capacity_open_slots": rng.randint(1, 8), "professions": ["sport_educator"],
         "disability_families": ["moteur", "auditif"], "activity_types": ["endurance", "strength"],
         "labels": ["club_inclusif"], "disciplines": ["Basket fauteuil", "Natation"],
         "accessibility": {"motor_reception": True}, "referral_email": f"club-{code}@demo.parcours.fr"},
        {"structure_id": f"demo-kine-{code}", "kind": "apa_practice",
         "name": f"Cabinet de kinésithérapie de {city} (démonstration)", "accepting_referrals": True,
         "capacity_open_slots": rng.randint(1, 5), "professions": ["physiotherapist"],
         "disability_families": ["moteur", "visuel", "auditif", "mental", "psychique"],
         "activity_types": ["strength", "balance", "flexibility"], "accessibility": {"motor_reception": True},
         "referral_email": f"kine-{code}@demo.parcours.fr"},
        {"structure_id": f"demo-venue-{code}", "kind": "venue", "name": f"Gymnase municipal de {city} (démonstration)",
         "accepting_referrals": False, "disciplines": ["Musculation", "Activités de forme et de santé"],
         "accessibility": {"motor_reception": True, "motor_changing_rooms": True, "sensory_signage": False}},
    ]


def demo_structures(rng: random.Random, today: dt.date) -> list[Structure]:
    gazetteer = get_gazetteer()
    structures: list[Structure] = []
    for code in CITIES:
        commune = gazetteer.commune(code)
        if commune is None or commune.lat is None or commune.lon is None:
            continue
        shared = {"postcode": commune.postcodes[0], "commune_insee": code, "commune_name": commune.name,
                  "department_code": commune.department_code, "region_code": commune.region_code,
                  "source": "manual", "source_licence": "demo", "source_updated_at": today.isoformat(),
                  "geo_precision": "address"}
        for fields in _city_structures(code, commune.name, rng):
            if fields["kind"] == "esms":
                fields["finess_et"] = _finess(commune.department_code, rng)
            record = shared | fields | _near(commune.lat, commune.lon, rng) | {"source_ref": fields["structure_id"]}
            structures.append(msgspec.convert(record, Structure))
    return structures
