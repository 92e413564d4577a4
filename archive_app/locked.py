"""When the keyring cannot be used: a WSGI app that refuses every request with the reason.

Nothing is served in this state, not even sign-in: every request the archive answers writes
an access-log entry, and the log's chain and encrypted details need the keyring. The message
names the problem (a path, a field, "does not open this archive's data keys"), never a key.
"""

from __future__ import annotations

import html
import json
import logging

log = logging.getLogger(__name__)
HEADERS = [
    ("Retry-After", "300"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'"),
    ("X-Frame-Options", "DENY"),
]


def locked_app(problem: str):
    message = (f"The archive is locked: {problem}. No content is served until a keyring that "
               "opens this archive is restored (README, \"Keys\").")  # fmt: skip
    log.error("%s", message)
    json_body = json.dumps({"error": "unavailable", "detail": message, "field": None},
                           ensure_ascii=False).encode("utf-8")  # fmt: skip
    html_body = (f"<!doctype html><meta charset=utf-8><title>Archive locked</title>"
                 f"<h1>Archive locked · 档案库已锁定</h1><p>{html.escape(message)}</p>"
                 ).encode()  # fmt: skip

    def app(environ, start_response):
        is_api = environ.get("PATH_INFO", "").startswith("/api/")
        body = json_body if is_api else html_body
        kind = "application/json" if is_api else "text/html; charset=utf-8"
        start_response("503 Service Unavailable",
                       [("Content-Type", kind), ("Content-Length", str(len(body))), *HEADERS])
        return [body]

    app.locked_because = problem
    return app
