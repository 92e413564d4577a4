"""The web server: waitress, refusing an oversized body outside the upload routes from its
headers, before waitress buffers a byte of it.

waitress reads every request body whole, into memory and then a temporary file, before the
application runs, so a cap in the application (bounds.py) comes too late to stop an
unauthenticated 300 MB POST to `/login` from being spooled to disk. Its only limit,
`max_request_body_size`, is one number for every path, and uploads need gigabytes. So the
request parser here applies `archive.max_body_kb` to every request but the upload routes
(bounds.UPLOAD_ROUTES, matched with the application's own routes) as the headers arrive,
and, for a chunked body, as it grows. `[server:main] use = egg:archive_app#waitress`.
"""

from __future__ import annotations

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer
from waitress.utilities import RequestEntityTooLarge

from .bounds import UPLOAD_ROUTES
from .settings import as_int


def upload_matcher(app):
    """path, method -> whether the request is an upload (none for the locked app)."""
    registry = getattr(app, "registry", None)
    if registry is None:
        return lambda path, method: False
    from pyramid.interfaces import IRoutesMapper  # the locked app has no Pyramid registry

    mapper = registry.queryUtility(IRoutesMapper)
    routes = [route for route in mapper.get_routes()
              if any(route.name == name for name, _method in UPLOAD_ROUTES)]  # fmt: skip

    def is_upload(path: str, method: str) -> bool:
        return any((route.name, method) in UPLOAD_ROUTES and route.match(path) is not None
                   for route in routes)  # fmt: skip

    return is_upload


def bounded_channel(is_upload, limit: int) -> type[HTTPChannel]:
    """waitress's channel, with a parser that refuses a body over `limit` bytes outside the
    uploads as soon as its length is known (or, chunked, as soon as it passes the limit)."""

    class BoundedRequestParser(HTTPRequestParser):
        def received(self, data):
            consumed = super().received(data)
            if self.headers_finished and self.error is None and not self.empty:
                size = max(self.content_length, self.body_bytes_received)
                if size > limit and not is_upload(self.path, self.command):
                    self.error = RequestEntityTooLarge(f"the request body exceeds {limit} bytes")
                    self.completed = True
                    self.connection_close = True
            return consumed

    class BoundedChannel(HTTPChannel):
        parser_class = BoundedRequestParser

    return BoundedChannel


def make_server(app, max_body_kb: int | None = None, **waitress_settings):
    """A waitress server (not yet running) for `app` with the body cap; `max_body_kb` defaults
    to the application's `archive.max_body_kb`."""
    if max_body_kb is None:
        settings = getattr(getattr(app, "registry", None), "settings", None) or {}
        max_body_kb = as_int(settings, "archive.max_body_kb", 1024)
    sockets: dict = {}  # waitress's socket map: every listener registers itself in it
    server = create_server(app, map=sockets, **waitress_settings)
    channel = bounded_channel(upload_matcher(app), max_body_kb * 1024)
    # One listening socket or several (a MultiSocketServer): each accepts with this channel.
    for listener in list(sockets.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = channel
    return server


def serve_paste(app, global_conf, **settings):
    """paste.server_runner: `pserve production.ini` serves the app here."""
    server = make_server(app, **settings)
    server.print_listen("Serving on http://{}:{}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
