"""HTML pages, one module per area."""

from __future__ import annotations

from parcours_web.pages import (
    admin,
    assessments,
    auth,
    courses,
    directory,
    history,
    home,
    intake,
    kiosk,
    observer,
    pathway,
    patients,
    rtms,
    sessions,
    sport_admin,
    sport_fhir,
    sport_inbox,
    sport_prescribe,
    structure_profile,
)

ROUTES = [*auth.ROUTES, *home.ROUTES, *patients.ROUTES, *assessments.ROUTES, *kiosk.ROUTES, *admin.ROUTES,
          *directory.ROUTES, *rtms.ROUTES, *courses.ROUTES]
ROUTES += [*sport_prescribe.ROUTES, *sport_inbox.ROUTES]
ROUTES += sessions.ROUTES
ROUTES += [*sport_admin.ROUTES, *structure_profile.ROUTES, *observer.ROUTES, *sport_fhir.ROUTES]
ROUTES += [*intake.ROUTES, *pathway.ROUTES]
ROUTES += history.ROUTES
