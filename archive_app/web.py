"""What every page shares: static files, translations (zh-CN first), the language switch, and
the words and times every template shows (`label`, `when`, `say`: archive_app/labels.py)."""

from __future__ import annotations

from importlib.resources import files

import deform
from pyramid.events import BeforeRender, NewResponse, subscriber
from pyramid.i18n import Localizer, Translations, get_localizer, make_localizer
from pyramid.interfaces import ILocalizer
from pyramid.threadlocal import get_current_request

from .interfaces import IClock
from .labels import error_message, field_label, format_when, label

LANGUAGES = ("zh_CN", "en")
LOCALE_COOKIE = "_LOCALE_"


def negotiate_locale(request) -> str:
    """`?_LOCALE_=en` switches (and is remembered in a cookie); Chinese otherwise."""
    wanted = request.GET.get(LOCALE_COOKIE) or request.cookies.get(LOCALE_COOKIE)
    return wanted if wanted in LANGUAGES else "zh_CN"


def _deform_translator(term):
    request = get_current_request()
    return get_localizer(request).translate(term) if request is not None else term


@subscriber(BeforeRender)
def add_page_words(event):
    """Every page template gets `label(code)` (a vocabulary value's words), `when(value)` (a
    date or a time as the archive writes them), `zone_name`, `say(message)` (a catalogue
    message, e.g. a view's feedback) and `field(path)` / `problem(error)` for its errors."""
    request = event.get("request")
    if request is None or not str(event.get("renderer_name", "")).endswith(".pt"):
        return
    translate = request.localizer.translate
    zone = request.find_service(IClock).zone
    event["label"] = lambda value: translate(label(value))
    event["when"] = lambda value: format_when(value, zone)
    event["zone_name"] = zone.key  # beside times a page shows already local (log periods)
    event["say"] = lambda message: say(translate, message)
    event["field"] = lambda path: translate(field_label(path))
    event["problem"] = lambda error: translate(error_message(error))


def say(translate, message) -> str:
    """A catalogue message, or several (a view's feedback in sentences), in the page's language."""
    if message is None:
        return ""
    if isinstance(message, list | tuple):
        return " ".join(translate(part) for part in message)
    return translate(message)


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


def chinese_localizer(directories: list[str]) -> Localizer:
    """zh_CN's localizer, with colander's Chinese messages ("Required" and the like), which
    colander ships as `zh_Hans` (a name Pyramid's zh_CN look-up never tries)."""
    localizer = make_localizer("zh_CN", directories)
    colander_zh = Translations.load(str(files("colander") / "locale"), ["zh_Hans"], "colander")
    localizer.translations.add(colander_zh, merge=False)
    return localizer


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    config.add_translation_dirs("colander:locale", "deform:locale", "archive_app:locale")
    directories = [str(files(package) / "locale") for package in ("archive_app", "deform")]
    config.registry.registerUtility(chinese_localizer(directories), ILocalizer, name="zh_CN")
    deform.Form.set_default_renderer(
        deform.ZPTRendererFactory(
            [str(files("deform") / "templates")], translator=_deform_translator
        )
    )
    config.add_static_view("static", "archive_app:static", cache_max_age=3600)
    config.add_static_view("deform_static", "deform:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.scan(".web")
