"""HTML pages, one module per area."""

from __future__ import annotations

from parcours_web.pages import admin, assessments, auth, courses, directory, home, kiosk, patients, rtms

ROUTES = [*auth.ROUTES, *home.ROUTES, *patients.ROUTES, *assessments.ROUTES, *kiosk.ROUTES, *admin.ROUTES,
          *directory.ROUTES, *rtms.ROUTES, *courses.ROUTES]
