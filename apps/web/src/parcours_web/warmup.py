"""Load the reference data and build msgspec's type information once, before the first request.

msgspec 0.22 builds a type's decoding information on the type's first use, without a lock, and
runs Python code while doing so. Two request threads converting the same type for the first time
at once crashed the server with a segmentation fault in ``msgspec._core`` (reproduced: 8 concurrent
first requests to the coordinator inbox, both threads inside ``load_prescription_settings``).
Doing all first uses here, on one thread while the application is built, leaves none to race.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from rtms_pathway.catalogue import loader_clinical, loader_planning, loader_staging
from sport_referral import fhir
from sport_referral.catalogue import loader, loader_sport
from sport_referral.geo.gazetteer import get_gazetteer
from sport_referral.model import imports, indicators

OWN_PACKAGES = ("shared_core", "rtms_pathway", "sport_referral", "parcours_web")

# The shipped reference data pages read (each cached for the life of the process once loaded).
REFERENCE_LOADERS: tuple[Callable[[], Any], ...] = (
    loader_staging.load_staging_settings, loader_staging.load_mbc_settings, loader_staging.load_session_settings,
    loader_planning.load_protocol_catalogue, loader_planning.load_planning_templates,
    loader_planning.load_planning_settings,
    loader_clinical.load_screening_catalogue, loader_clinical.load_drug_catalogue,
    loader_clinical.load_clinical_settings,
    indicators.load_indicator_settings, indicators.load_opendata_columns, imports.load_import_settings,
    fhir.load_fhir_codes, loader.load_supervision_matrix,
    loader_sport.load_limitation_catalogue, loader_sport.load_matching_settings, loader_sport.load_consent_settings,
    loader_sport.load_prescription_settings, loader_sport.load_aids,
    get_gazetteer,
)


def _import_all(package_name: str) -> None:
    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, package_name + "."):
        if ".migrations." not in module.name and not module.name.endswith((".cli", ".__main__")):
            importlib.import_module(module.name)


def _struct_types() -> Iterator[type[msgspec.Struct]]:
    seen: set[type[msgspec.Struct]] = set()
    pending = list(msgspec.Struct.__subclasses__())
    while pending:
        struct_type = pending.pop()
        if struct_type in seen:
            continue
        seen.add(struct_type)
        pending.extend(struct_type.__subclasses__())
        generic = bool(getattr(struct_type, "__parameters__", ()))
        if struct_type.__module__.split(".")[0] in OWN_PACKAGES and not generic:
            yield struct_type


def warm_up() -> int:
    """Returns how many Struct types got their decoding information built."""
    for package_name in OWN_PACKAGES:
        _import_all(package_name)
    for load in REFERENCE_LOADERS:
        load()
    built = 0
    for struct_type in _struct_types():
        try:
            msgspec.json.Decoder(struct_type)  # builds and keeps the type information convert() uses too
        except TypeError:  # a type msgspec cannot decode (a field of a non-data type): never converted either
            continue
        built += 1
    return built
