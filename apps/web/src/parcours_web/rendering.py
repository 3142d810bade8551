"""Page rendering: Jinja with autoescape, templates receive view structs and the request's translator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from markupsafe import Markup, escape

from parcours_web.auth.guards import ANON_CSRF_COOKIE, CSRF_FIELD, anonymous_csrf_token, new_anonymous_cookie
from parcours_web.context import app_context, current_principal, translator_for
from parcours_web.navigation import nav_for
from shared_core.scales import ScaleCatalogue

TEMPLATE_DIR = Path(__file__).parent / "templates"


class ScaleLabels:
    """Display names of scale codes, bands and alerts in the page's language."""

    def __init__(self, catalogue: ScaleCatalogue, locale: str, gettext: Callable[[str], str]) -> None:
        self._catalogue = catalogue
        self._locale = locale
        self._gettext = gettext

    def subscore(self, code: str, name: str) -> str:
        """A subscale's own label when the scale defines one (HADS anxiety, QIDS domains...)."""
        try:
            definition = self._catalogue.get(code)
        except KeyError:
            return name
        for subscale in definition.subscales:
            if subscale.code == name:
                return str(getattr(subscale, f"label_{self._locale}"))
        return self._gettext(name)

    def name(self, code: str) -> str:
        try:
            definition = self._catalogue.get(code)
        except KeyError:
            return code
        return str(getattr(definition, f"name_{self._locale}"))

    def band(self, code: str, band: str | None) -> str:
        if band is None:
            return ""
        try:
            definition = self._catalogue.get(code)
        except KeyError:
            return band
        for candidate in definition.bands:
            if candidate.code == band:
                return str(getattr(candidate, f"label_{self._locale}"))
        return band

    def alert(self, code: str, alert: str) -> str:
        try:
            definition = self._catalogue.get(code)
        except KeyError:
            return alert
        for rule in definition.alerts:
            if rule.code == alert:
                return str(getattr(rule, f"label_{self._locale}"))
        return alert


def create_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def render(
    request: Request[Any, Any, Any],
    template: str,
    view: Any = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[str]:
    context = app_context(request)
    translator = translator_for(request)
    principal = current_principal(request)
    cookies: list[Cookie] = []
    if principal is not None:
        csrf_token = principal.csrf_token or ""
    else:
        anon_cookie = request.cookies.get(ANON_CSRF_COOKIE)
        if not anon_cookie:
            anon_cookie = new_anonymous_cookie()
            cookies.append(Cookie(key=ANON_CSRF_COOKIE, value=anon_cookie, httponly=True, samesite="lax",
                                  secure=context.settings.cookie_secure, path="/"))
        csrf_token = anonymous_csrf_token(context.settings.secret_key, anon_cookie)
    html = context.templates.get_template(template).render(
        view=view,
        principal=principal,
        _=translator.gettext,
        ngettext=translator.ngettext,
        t=translator,
        locale=translator.locale,
        csrf_token=csrf_token,
        csrf_input=Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token)),
        nav=nav_for(principal),
        path=request.url.path,
        lx=lambda obj, base="label": getattr(obj, f"{base}_{translator.locale}"),
        scale_labels=ScaleLabels(context.catalogue, translator.locale, translator.gettext),
        **extra,
    )
    return Response(html, media_type=MediaType.HTML, status_code=status, headers=headers or {}, cookies=cookies)
