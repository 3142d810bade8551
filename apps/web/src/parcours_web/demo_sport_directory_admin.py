"""Demo directory administration: one finished import job with its report (a few structures
imported, two rows skipped with their reasons), so the import page is not empty on first start.

Idempotent: a second run finds the demo file among the jobs and stops.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.db import Database
from sport_referral import import_jobs
from sport_referral.admin_tables import SportImportJob

DEMO_FILE = "annuaire-demo-bas-rhin.csv"
ADMIN = Actor(id="cli", role="admin")


def demo_import_file(today: dt.date) -> bytes:
    """A Parcours-format CSV: three fictitious structures, one malformed row, one duplicate."""
    updated = today.isoformat()
    rows = [
        "structure_id,kind,name,postcode,commune_insee,latitude,longitude,disability_families,professions,"
        "activity_types,accessibility_true,accepting_referrals,capacity_open_slots,referral_email,"
        "mss_habilitated_from,source,source_licence,updated_at",
        f"demo-import-club-67218,club,Club de sport adapté de Haguenau (démonstration),67500,67180,48.8156,7.7906,"
        f"mental|psychique,sport_educator,endurance|balance,motor_reception,true,5,club-haguenau@demo.parcours.fr,,"
        f"manual,own,{updated}",
        f"demo-import-apa-67437,apa_practice,Cabinet APA de Sélestat (démonstration),67600,67462,48.2594,7.4542,"
        f"moteur|visuel,apa_teacher,strength|flexibility,motor_reception|motor_toilets,true,3,"
        f"apa-selestat@demo.parcours.fr,,manual,own,{updated}",
        f"demo-import-venue-67043,venue,Piscine de Bischwiller (démonstration),67240,67046,48.7667,7.8569,,,,"
        f"motor_changing_rooms,false,,,,manual,own,{updated}",
        f"demo-import-bad,gymnase,Salle mal saisie (démonstration),6700,67482,,,martien,,,,peut-être,,,,manual,own,"
        f"{updated}",
        f"demo-import-club-67218,club,Doublon du club (démonstration),67500,67180,,,,,,,true,,,,manual,own,{updated}",
    ]
    return ("\n".join(rows) + "\n").encode("utf-8")


def seed_directory_admin(database: Database, today: dt.date) -> None:
    with database.read() as session:
        if session.scalar(select(SportImportJob.id).where(SportImportJob.file_name == DEMO_FILE)) is not None:
            return
    content = demo_import_file(today)
    job = import_jobs.create_job(database, ADMIN, file_name=DEMO_FILE, file_format="parcours", all_or_nothing=False,
                                 content=content)
    import_jobs.run_job(database, ADMIN, job.id, content)
