"""Bounds that hold before any view runs: request bodies outside uploads capped before they
are read, a client address no header can forge, and waitress as production.ini sets it up
(slow and half-open connections, body limits, the trusted proxy), on loopback only."""

from __future__ import annotations

import configparser
import io
import socket
import threading
import time
from contextlib import contextmanager

import webob
import webtest
from factories import (
    complaint_no,
    complete_files,
    file_dossier,
    filled_form,
    jpeg,
    metadata,
    metadata_part,
    pdf,
)
from support import PASSWORD, ROOT, assert_error
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.utilities import RequestEntityTooLarge

from archive_app.server import bounded_channel, make_server, upload_matcher

PRODUCTION_INI = ROOT / "production.ini"
LIMIT = 1024 * 1024  # archive.max_body_kb in testing.ini


class CountingInput:
    """A wsgi.input that says how much was read from it; it holds `available` bytes of
    `fill` (never allocated at once), so a server that would read 300 MB stops early."""

    def __init__(self, available: int, fill: bytes = b"a"):
        self.available, self.fill, self.read_bytes = available, fill, 0

    def read(self, size=-1):
        left = self.available - self.read_bytes
        size = left if size is None or size < 0 else min(size, left)
        size = min(size, 1024 * 1024)
        self.read_bytes += size
        return self.fill * size

    def readline(self, size=-1):
        return self.read(size if size is not None and size >= 0 else 64 * 1024)


def raw_request(app, path, *, length=None, body_stream, content_type, headers=None):
    environ = {"REMOTE_ADDR": "192.0.2.10", "wsgi.input": body_stream}
    if length is None:
        # Chunked, as a server that passes it on unbuffered shows it: no length, an input
        # that ends by itself.
        environ["wsgi.input_terminated"] = True
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(length)
    request = webob.Request.blank(path, method="POST", environ=environ, headers=headers or {})
    request.content_type = content_type
    if length is None:
        request.environ.pop("CONTENT_LENGTH", None)
    return request.get_response(app)


# -- body caps ----------------------------------------------------------------------------


def test_a_300_mb_sign_in_is_refused_before_a_byte_is_read(wsgi_app, users):
    body = CountingInput(300 * 1024 * 1024)
    response = raw_request(wsgi_app, "/login", length=300 * 1024 * 1024, body_stream=body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_int == 413
    assert response.content_type == "text/html"  # a page for people
    assert body.read_bytes == 0


def test_a_large_declared_json_body_is_refused_in_the_contract_shape_unread(wsgi_app, users):
    body = CountingInput(300 * 1024 * 1024)
    response = raw_request(wsgi_app, "/api/v1/auth/token", length=300 * 1024 * 1024,
                           body_stream=body, content_type="application/json")  # fmt: skip
    assert_error(response, 413, "too_large", None)
    assert body.read_bytes == 0


def test_a_chunked_json_body_is_read_no_further_than_the_limit(wsgi_app, users):
    body = CountingInput(20 * LIMIT, fill=b" ")
    response = raw_request(wsgi_app, "/api/v1/auth/token", body_stream=body,
                           content_type="application/json")  # fmt: skip
    assert_error(response, 413, "too_large", None)
    assert body.read_bytes <= LIMIT + 1


def test_a_chunked_form_body_is_read_no_further_than_the_limit(wsgi_app, users):
    body = CountingInput(20 * LIMIT)
    response = raw_request(wsgi_app, "/login", body_stream=body,
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_int == 413
    assert body.read_bytes <= LIMIT + 1


def test_a_small_chunked_body_still_signs_in(wsgi_app, users):
    payload = f'{{"username": "auditor", "password": "{PASSWORD}"}}'.encode()
    response = raw_request(wsgi_app, "/api/v1/auth/token", body_stream=io.BytesIO(payload),
                           content_type="application/json")  # fmt: skip
    assert response.status_int in (200, 201), response.text
    assert response.json["token"]


def test_uploads_over_the_body_limit_still_work(api, app, users):
    big_photo = jpeg(seed=7) + b"\0" * (2 * LIMIT)
    files = complete_files() + [("attachment", "photo.jpg", big_photo)]
    filed = file_dossier(api, None, files).json
    appended = api.post(f"/api/v1/dossiers/{filed['id']}/documents", "archivist",
                        upload_files=[("attachment", "photo2.jpg", big_photo)])  # fmt: skip
    assert appended.status_int in (200, 201), appended.text

    # The web filing form too (a signed-in archivist, with its CSRF token).
    form = app.get("/login").forms[0]
    form["username"], form["password"] = "archivist", PASSWORD
    form.submit(status=303)
    number = complaint_no("III", 2022)
    form = filled_form(app, number, "大附件投诉", "BIG220801")
    form.set("upload", ("登记表.pdf", pdf("登记表") + b"\n%" + b"x" * (2 * LIMIT)), index=0)
    form.set("upload", ("处理单.docx", complete_files()[1][2]), index=1)
    assert form.submit("file", status=303)


# -- the client address -------------------------------------------------------------------


def last_failed_sign_in_address(api, username: str) -> str:
    entries = api.get(f"/api/v1/access-log?action=login_failed&user={username}",
                      "privacy").json["entries"]  # fmt: skip
    return entries[0]["ip"]


def test_a_forwarded_for_header_does_not_set_the_logged_address(api, app):
    app.post_json("/api/v1/auth/token", {"username": "forger", "password": "x"},
                  headers={"X-Forwarded-For": "203.0.113.9"}, status=401)  # fmt: skip
    assert last_failed_sign_in_address(api, "forger") == "192.0.2.10"


# -- waitress as production.ini configures it -------------------------------------------


def production_server_settings() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI)
    settings = dict(parser["server:main"])
    assert settings.pop("use") == "egg:archive_app#waitress"
    return settings


def production_app_settings() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(PRODUCTION_INI)
    return dict(parser["app:main"])


@contextmanager
def production_server(app, **overrides):
    """waitress with production.ini's [server:main], on a free loopback port."""
    settings = production_server_settings() | {"listen": "127.0.0.1:0"} | overrides
    server = make_server(app, **settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        # Closed in the server's own thread: sockets closed from here, while that thread is
        # in select() over them, now and then make the select fail (EBADF) and the thread die.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=5)
        assert not thread.is_alive()
        server.task_dispatcher.shutdown()


def connect(port: int, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
    assert source.startswith("127.")  # loopback only
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def get(port: int, path: str, source: str = "127.0.0.1", headers: str = "") -> bytes:
    with connect(port, source) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: archive\r\n{headers}"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
        return read_answer(sock)


def test_production_server_settings_are_sane():
    server = production_server_settings()
    app = production_app_settings()
    assert 8 <= int(server["threads"])
    assert int(server["connection_limit"]) >= 4 * int(server["threads"])
    assert 0 < int(server["channel_timeout"]) <= 120
    assert 0 < int(server["cleanup_interval"]) <= int(server["channel_timeout"])
    # Waitress reads whole requests below this size: enough for one filing, not 16 GiB.
    upload = int(app["archive.max_upload_mb"]) * 1024 * 1024
    assert upload < int(server["max_request_body_size"]) <= 4 * 1024**3
    assert int(server["inbuf_overflow"]) >= int(app["archive.max_body_kb"]) * 1024
    # Forwarded headers believed from one configured address only, and removed otherwise.
    assert server["trusted_proxy"] not in ("", "*")
    assert server["trusted_proxy_count"] == "1"
    assert server["clear_untrusted_proxy_headers"] == "true"
    assert "x-forwarded-for" in server["trusted_proxy_headers"].split()
    # Two database connections per thread: the request's and the access log's own.
    pool = int(app["sqlalchemy.pool_size"]) + int(app["sqlalchemy.max_overflow"])
    assert pool >= 2 * int(server["threads"])


def test_a_body_above_the_server_limit_is_refused_from_its_header(wsgi_app):
    with production_server(wsgi_app) as port, connect(port) as sock:
        sock.sendall(b"POST /api/v1/dossiers HTTP/1.1\r\nHost: archive\r\n"
                     b"Content-Length: 3221225472\r\n\r\n" + b"x" * 1000)  # fmt: skip
        assert read_answer(sock).startswith(b"HTTP/1.1 413")


def test_the_server_refuses_a_large_sign_in_from_its_headers_before_buffering_it(wsgi_app):
    """waitress reads a body whole before the app runs: a 300 MB POST to /login would be
    spooled to a temp file. The archive's server refuses it as its headers arrive; the
    client has sent no byte of the body when the 413 comes."""
    with production_server(wsgi_app) as port, connect(port, timeout=5) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: archive\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 314572800\r\n\r\n")  # fmt: skip
        assert read_answer(sock).startswith(b"HTTP/1.1 413")


def test_the_server_stops_a_chunked_body_outside_uploads_once_past_the_limit(wsgi_app):
    """The same parser, fed as waitress feeds it: a chunked body (no length to refuse from)
    is refused as soon as it passes the limit, not once it has been buffered whole."""
    parser_class = bounded_channel(upload_matcher(wsgi_app), LIMIT).parser_class
    parser = parser_class(Adjustments())
    parser.received(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: archive\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    fed = 0
    while not parser.completed and fed < 10 * LIMIT:
        fed += parser.received(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    assert isinstance(parser.error, RequestEntityTooLarge)
    assert fed <= LIMIT + 2 * len(chunk)
    # An upload route's chunked body is the uploads' to bound (archive.max_upload_mb).
    upload = parser_class(Adjustments())
    upload.received(
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: archive\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    for _ in range(2 * LIMIT // len(chunk)):
        upload.received(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    assert upload.error is None and not upload.completed
    parser.close()
    upload.close()  # their buffers (spilled to temporary files past inbuf_overflow)


def test_the_server_streams_uploads_past_the_body_limit(wsgi_app, tokens):
    big = pdf() + b"%" * (2 * LIMIT)  # a PDF with a comment tail, twice the body limit
    files = [
        (kind, name, big if kind == "attachment" else data) for kind, name, data in complete_files()
    ] + [("attachment", "big.pdf", big)]
    content_type, body = webtest.TestApp(wsgi_app).encode_multipart(
        [metadata_part(metadata(complaint_no=complaint_no()))], files)  # fmt: skip
    with production_server(wsgi_app) as port, connect(port, timeout=30) as sock:
        sock.sendall(b"POST /api/v1/dossiers HTTP/1.1\r\nHost: archive\r\nConnection: close\r\n"
                     + f"Authorization: Bearer {tokens['archivist']}\r\n"
                       f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)  # fmt: skip
        assert read_answer(sock).startswith(b"HTTP/1.1 201")


def test_half_open_connections_do_not_take_the_workers(wsgi_app):
    threads = int(production_server_settings()["threads"])
    with production_server(wsgi_app) as port:
        stalled = []
        try:
            for number in range(2 * threads):
                sock = connect(port)
                if number % 2:  # a request line cut short
                    sock.sendall(b"GET /log")
                else:  # headers sent, the body promised and never sent
                    sock.sendall(b"POST /login HTTP/1.1\r\nHost: archive\r\n"
                                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                                 b"Content-Length: 1000\r\n\r\nusername=a")  # fmt: skip
                stalled.append(sock)
            started = time.monotonic()
            answer = get(port, "/login")
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            assert time.monotonic() - started < 5
        finally:
            for sock in stalled:
                sock.close()


def test_stalled_and_unread_connections_are_closed_after_the_channel_timeout(wsgi_app):
    # production.ini's own timeout is asserted above; a short one keeps this test fast.
    with production_server(wsgi_app, channel_timeout="1", cleanup_interval="1") as port:
        half_sent, unread = connect(port), connect(port)
        try:
            half_sent.sendall(b"GET /login HTTP/1.1\r\nHost: arch")
            unread.sendall(b"GET /login HTTP/1.1\r\nHost: archive\r\n\r\n")  # keep-alive
            started = time.monotonic()
            assert read_answer(half_sent) == b""  # closed by the server, within the deadline
            answer = read_answer(unread)  # the answer, then the server's close
            assert answer.startswith(b"HTTP/1.1 200")
            assert 0.9 < time.monotonic() - started < 8
        finally:
            half_sent.close()
            unread.close()


def failed_sign_in(port: int, username: str, source: str, forwarded_for: str) -> bytes:
    body = f'{{"username": "{username}", "password": "wrong"}}'.encode()
    with connect(port, source) as sock:
        sock.sendall(b"POST /api/v1/auth/token HTTP/1.1\r\nHost: archive\r\n"
                     b"Content-Type: application/json\r\nConnection: close\r\n"
                     + f"X-Forwarded-For: {forwarded_for}\r\n".encode()
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)  # fmt: skip
        return read_answer(sock)


def test_forwarded_for_is_believed_from_the_configured_proxy_only(wsgi_app, api):
    proxy = production_server_settings()["trusted_proxy"]
    assert proxy == "127.0.0.1"  # else: connect from that address below
    with production_server(wsgi_app) as port:
        answer = failed_sign_in(port, "via_stranger", "127.0.0.2", "203.0.113.9")
        assert answer.startswith(b"HTTP/1.1 401")
        # The proxy appends the peer it saw to whatever the client sent: the last entry.
        answer = failed_sign_in(port, "via_proxy", proxy, "198.51.100.66, 203.0.113.9")
        assert answer.startswith(b"HTTP/1.1 401")
    assert last_failed_sign_in_address(api, "via_stranger") == "127.0.0.2"
    assert last_failed_sign_in_address(api, "via_proxy") == "203.0.113.9"
