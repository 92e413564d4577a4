"""What every page shares: static files, translations (zh-CN first), the language switch."""

from __future__ import annotations

from importlib.resources import files

import deform
from pyramid.events import NewResponse, subscriber
from pyramid.i18n import get_localizer
from pyramid.threadlocal import get_current_request

LANGUAGES = ("zh_CN", "en")
LOCALE_COOKIE = "_LOCALE_"


def negotiate_locale(request) -> str:
    """`?_LOCALE_=en` switches (and is remembered in a cookie); Chinese otherwise."""
    wanted = request.GET.get(LOCALE_COOKIE) or request.cookies.get(LOCALE_COOKIE)
    return wanted if wanted in LANGUAGES else "zh_CN"


def _deform_translator(term):
    request = get_current_request()
    return get_localizer(request).translate(term) if request is not None else term


@subscriber(NewResponse)
def remember_language_and_harden(event):
    request, response = event.request, event.response
    wanted = request.GET.get(LOCALE_COOKIE)
    if wanted in LANGUAGES and request.cookies.get(LOCALE_COOKIE) != wanted:
        response.set_cookie(LOCALE_COOKIE, wanted, max_age=365 * 86400, samesite="Lax")
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        )


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs("colander:locale", "deform:locale", "archive_app:locale")
    deform.Form.set_default_renderer(
        deform.ZPTRendererFactory(
            [str(files("deform") / "templates")], translator=_deform_translator
        )
    )
    config.add_static_view("static", "archive_app:static", cache_max_age=3600)
    config.add_static_view("deform_static", "deform:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.scan(".web")
