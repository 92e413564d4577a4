"""A command's configurator: every feature's services and routes, and none of its views.

A command serves no request, but scanning the view modules would import them and all they
import (forms, page helpers, the exports' openpyxl) and read the source of every decorated
view: about a third of a command's start-up, paid again by each process a command starts
(`archive import`'s drain process, a timer's `archive retention run`). The features'
`includeme` stay the same for both apps; only `scan` (views and the request subscribers of
web.py: nothing a service needs) is left out here.
"""

from __future__ import annotations

from pyramid.config import Configurator


class ServicesOnlyConfigurator(Configurator):
    def scan(self, *args, **kwargs) -> None:
        """Nothing scanned: the views are the web app's (make_app(views=True))."""
