"""FHIR R4 download of one sport referral, prescriber side (domain-sport §11): ServiceRequest, Task,
DiagnosticReport and Observations in a Bundle. Scoped to the prescriber's organisation and audited."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from parcours_web.auth.roles import CLINICAL
from parcours_web.context import app_context, current_actor
from parcours_web.pages._routing import call, page_get
from sport_referral import fhir_export

FHIR_JSON = "application/fhir+json"


@page_get("/sport/referrals/{referral_id:str}/fhir.json", CLINICAL)
async def referral_fhir(request: Request[Any, Any, Any], referral_id: FromPath[str]) -> Response[Any]:
    base_url = str(request.base_url).rstrip("/")
    bundle = await call(fhir_export.referral_bundle, app_context(request).database, current_actor(request),
                        referral_id, base_url=base_url)
    safe_id = "".join(char for char in referral_id if char.isalnum() or char in "-_")[:40]
    return Response(json.dumps(bundle, ensure_ascii=False, indent=1), media_type=FHIR_JSON, headers={
        "Content-Disposition": f'attachment; filename="orientation-{safe_id}.fhir.json"',
        "Cache-Control": "no-store"})


ROUTES = [referral_fhir]
