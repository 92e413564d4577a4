"""A command's app (bootstrap.open_app): every service and route of the web app, no view.
Scanning the views would cost every command process a third of its start-up."""

from __future__ import annotations

import subprocess
import sys

from pyramid.interfaces import IRoutesMapper
from support import TESTING_INI

from archive_app.bootstrap import open_app
from archive_app.interfaces import (
    IAccessLog,
    IIndexer,
    IKeyring,
    IRecordsService,
    IRetentionPolicy,
    ISearchService,
)


def route_names(registry) -> set[str]:
    return {route.name for route in registry.getUtility(IRoutesMapper).get_routes()}


def routes_with_views(registry) -> set[str]:
    """The routes a scanned view serves (the exception and static views are added directly,
    in both apps)."""
    views = registry.introspector.get_category("views")
    return {view["introspectable"]["route_name"] for view in views} - {None}


def test_a_commands_app_has_every_service_and_route_but_no_view(wsgi_app):
    assert routes_with_views(wsgi_app.registry) >= {"records.detail", "api.search"}
    with open_app(TESTING_INI) as env:
        registry, request = env["registry"], env["request"]
        assert route_names(registry) == route_names(wsgi_app.registry)
        assert routes_with_views(registry) == {"__static/", "__deform_static/"}
        for interface in (IAccessLog, IKeyring, IRecordsService, IRetentionPolicy,
                          ISearchService):  # fmt: skip
            assert request.find_service(interface) is not None
        assert registry.queryUtility(IIndexer) is not None


# In a fresh interpreter: which modules a command's app loads.
LOADED = """
import sys
from archive_app.bootstrap import open_app
with open_app(sys.argv[1]):
    pass
print(" ".join(sorted(sys.modules)))
"""


def test_a_command_never_imports_the_view_modules_nor_the_exports_workbook(storage):
    loaded = subprocess.run([sys.executable, "-W", "ignore", "-c", LOADED, TESTING_INI],
                            capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    modules = set(loaded.stdout.split())
    assert "archive_app.records.services" in modules
    for module in ("archive_app.records.views", "archive_app.records.api",
                   "archive_app.search.exports", "archive_app.access.user_pages",
                   "archive_app.retention.views", "openpyxl", "numpy",
                   "archive_app.records.forms",  # the filing form (Deform's widgets)
                   "ldap3"):  # no directory in testing.ini: no LDAP client  # fmt: skip
        assert module not in modules
