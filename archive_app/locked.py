"""When the keyring cannot be used: a WSGI app that refuses every request, saying it is locked.

Nothing is served in this state, not even sign-in: every request the archive answers writes
an access-log entry, and the log's chain and encrypted details need the keyring. Callers are
all anonymous here, so they learn only that the archive is locked (in Chinese and English);
the reason, with its paths and fields, goes to the server log, as the CLI prints it.
"""

from __future__ import annotations

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
MESSAGE = ("The archive is locked: no content is served until its keys are restored. "
           "The administrator finds the reason in the server log.")  # fmt: skip
MESSAGE_ZH = "档案库已锁定：在恢复其密钥之前，不提供任何内容。管理员可在服务器日志中查到原因。"


def locked_app(problem: str):
    log.error("The archive is locked: %s. No content is served until a keyring that opens "
              "this archive is restored (README, \"Keys\").", problem)  # fmt: skip
    json_body = json.dumps({"error": "unavailable", "detail": f"{MESSAGE} {MESSAGE_ZH}",
                            "field": None}, ensure_ascii=False).encode("utf-8")  # fmt: skip
    html_body = ("<!doctype html><meta charset=utf-8><title>档案库已锁定 · Archive locked</title>"
                 f"<h1>档案库已锁定 · Archive locked</h1><p lang=zh-CN>{MESSAGE_ZH}</p>"
                 f"<p lang=en>{MESSAGE}</p>").encode()  # fmt: skip

    def app(environ, start_response):
        is_api = environ.get("PATH_INFO", "").startswith("/api/")
        body = json_body if is_api else html_body
        kind = "application/json" if is_api else "text/html; charset=utf-8"
        start_response(
            "503 Service Unavailable",
            [("Content-Type", kind), ("Content-Length", str(len(body))), *HEADERS],
        )
        return [body]

    app.locked_because = problem
    return app
