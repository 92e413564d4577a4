"""The complaint-dossier archive: a Pyramid application for closed complaint dossiers."""

from __future__ import annotations

import os

from .clock import Clock
from .interfaces import IClock, IDatabase
from .settings import COMMAND_APP, apply_overrides

# Files 0600, folders 0700 (contract §7), whatever umask the process was started with.
STORAGE_UMASK = 0o077


def main(global_config, **settings):
    """The WSGI application (paste `main`); a command's, without views, when the command
    asks for it (bootstrap.open_app)."""
    return make_app(settings, views=global_config.get(COMMAND_APP) != "true")


def make_app(settings: dict, *, views: bool = True):
    """The application: every feature's services, routes and, unless `views` is false (a
    command's app, which serves no request), its views and pages."""
    # Before anything is opened: every file and folder this process creates (database and
    # WAL, index segments holding decrypted text, blobs, spooled uploads) is its own only.
    os.umask(STORAGE_UMASK)
    # Imported here so that `archive` commands load Pyramid only when they need it.
    from pyramid.config import Configurator

    from .locked import locked_app
    from .records.keycheck import keyring_problem
    from .services_only import ServicesOnlyConfigurator
    from .vault.keyring import KeyringError

    settings = apply_overrides(dict(settings))
    configurator = Configurator if views else ServicesOnlyConfigurator
    try:
        app = configure(configurator(settings=settings), settings)
    except KeyringError as error:  # missing, unreadable, truncated: refuse, say why
        return locked_app(str(error))
    problem = keyring_problem(app.registry)
    if problem:  # readable but wrong: it does not open this archive's data
        app.registry.getUtility(IDatabase).dispose()
        return locked_app(problem)
    return app


def configure(config, settings):
    with config:
        # Templates and forms: Chameleon page templates, Deform's widgets and translations.
        config.include("pyramid_chameleon")
        # Services: each feature registers its process-wide objects here (registry.py).
        config.include(".registry")
        # One clock for the whole process; services ask it, never date.today().
        config.register_process_service(Clock(settings["archive.timezone"]), IClock)
        # The database and request.dbsession joined to pyramid_tm (explicit manager).
        config.include(".db")
        # Keys, encrypted blobs and field encryption: needed by everything that reads content.
        config.include(".vault")
        # Mainland China's working days, for the seed's time limits.
        config.include(".workdays")
        # Bodies outside uploads capped before anything reads them; no client-written address.
        config.include(".bounds")
        # Who is asking and what they may do: policy, sessions, CSRF, the access log.
        config.include(".access")
        # Dossiers and documents: filing, reading, downloading (API and pages).
        config.include(".records")
        # Retention, search: their own packages, each self-contained. Retention first: the
        # indexer drains its queue at start-up, reading dossiers through records, which asks
        # the retention policy.
        config.include(".retention")
        config.include(".search")
        # Reports on the closed complaints (ledger, reviews): above records, beside search.
        config.include(".reports")
        # The OpenAPI document of everything under /api/v1.
        config.include(".openapi")
        # Pages shared by every feature: home, language switch, errors, static files.
        config.include(".web")
        config.scan(".views")
    return config.make_wsgi_app()
