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

    def _label(self, code: str, group: str, member: str) -> str | None:
        """The localised label of ``member`` among the scale's bands, alerts or subscales."""
        try:
            definition = self._catalogue.get(code)
        except KeyError:
            return None
        for entry in getattr(definition, group):
            if entry.code == member:
                return str(getattr(entry, f"label_{self._locale}"))
        return None

    def name(self, code: str) -> str:
        try:
            return str(getattr(self._catalogue.get(code), f"name_{self._locale}"))
        except KeyError:
            return code

    def band(self, code: str, band: str | None) -> str:
        return "" if band is None else self._label(code, "bands", band) or band

    def alert(self, code: str, alert: str) -> str:
        return self._label(code, "alerts", alert) or alert

    def subscore(self, code: str, name: str) -> str:
        """A subscale's own label when the scale defines one (HADS anxiety, QIDS domains...)."""
        return self._label(code, "subscales", name) or self._gettext(name)


def create_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package and never change under a running server: no stat per render.
        auto_reload=False,
    )
    return environment


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"


def _page_context(request: Request[Any, Any, Any], cookies: list[Cookie]) -> dict[str, Any]:
    """What every template may use: the translator, the principal, the CSRF token, navigation."""
    context = app_context(request)
    translator = translator_for(request)
    principal = current_principal(request)
    if principal is not None:
        csrf_token = principal.csrf_token or ""
    else:
        anon_cookie = request.cookies.get(ANON_CSRF_COOKIE)
        if not anon_cookie:
            anon_cookie = new_anonymous_cookie()
            cookies.append(Cookie(key=ANON_CSRF_COOKIE, value=anon_cookie, httponly=True, samesite="lax",
                                  secure=context.settings.cookie_secure, path="/"))
        csrf_token = anonymous_csrf_token(context.settings.secret_key, anon_cookie)
    return {
        "principal": principal,
        "_": translator.gettext,
        "ngettext": translator.ngettext,
        "t": translator,
        "locale": translator.locale,
        "csrf_token": csrf_token,
        "csrf_input": Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token)),
        "nav": nav_for(principal),
        "path": request.url.path,
        "lx": lambda obj, base="label": getattr(obj, f"{base}_{translator.locale}"),
        "scale_labels": ScaleLabels(context.catalogue, translator.locale, translator.gettext),
    }


def render_fragment(request: Request[Any, Any, Any], template: str, view: Any = None, **extra: Any) -> Markup:
    """A part of a page rendered on its own, for a page that caches it (it must not hold a CSRF token)."""
    html = app_context(request).templates.get_template(template).render(
        view=view, **_page_context(request, []), **extra)
    return Markup(html)  # noqa: S704 - autoescaped template output


def render(
    request: Request[Any, Any, Any],
    template: str,
    view: Any = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[str]:
    cookies: list[Cookie] = []
    html = app_context(request).templates.get_template(template).render(
        view=view, **_page_context(request, cookies), **extra)
    return Response(html, media_type=MediaType.HTML, status_code=status, headers=headers or {}, cookies=cookies)
