"""Bad input: each gets the contract's error, leaves no temp file or orphan, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import complete_files, file_dossier, jpeg, metadata, metadata_part, pdf
from sqlalchemy import create_engine, func, select, text
from support import assert_error

from archive_app.interfaces import IDatabase
from archive_app.records.models import Document, Dossier

ELF = Path("/bin/ls").read_bytes()[:4096]
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def unchanged(storage):
    """Asserts that the request left storage exactly as it was: rows, blobs, temp files."""
    import os

    engine = create_engine(os.environ["ARCHIVE_SQLALCHEMY_URL"])

    def snapshot():
        with engine.connect() as connection:
            counts = (
                connection.scalar(select(func.count()).select_from(Dossier)),
                connection.scalar(select(func.count()).select_from(Document)),
                connection.scalar(text("SELECT count(*) FROM product_lines")),
            )
        files = sorted(str(p) for p in (storage / "blobs").rglob("*") if p.is_file())
        temps = sorted(str(p) for p in (storage / "tmp").rglob("*") if p.is_file())
        return counts, files, temps

    before = snapshot()
    yield
    assert snapshot() == before
    engine.dispose()


def post(api, params, files, status):
    return api.post("/api/v1/dossiers", "archivist", params=params, upload_files=files,
                    status=status)  # fmt: skip


def bad_metadata(api, meta, field, code="invalid", status=422):
    response = post(api, [metadata_part(meta)], complete_files(), status)
    assert_error(response, status, code, field)


def test_metadata_not_json(api, unchanged):
    bad_metadata(api, "{not json", "metadata", "bad_request", 400)


def test_metadata_not_utf8(api, unchanged):
    # Built by hand: WebTest would re-encode a form field's bytes.
    boundary = "archive-test-boundary"
    metadata_bytes = '{"title": "阿莫西林"}'.encode("gb18030")
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'.encode()
        + metadata_bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = api.app.request(
        "/api/v1/dossiers", method="POST", body=body, headers=api.headers("archivist"),
        content_type=f"multipart/form-data; boundary={boundary}", status=400,
    )  # fmt: skip
    assert_error(response, 400, "bad_request", "metadata")


def test_metadata_not_an_object(api, unchanged):
    bad_metadata(api, "[1, 2]", "metadata")


def test_metadata_missing(api, unchanged):
    assert_error(post(api, [], complete_files(), 400), 400, "bad_request", "metadata")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"complaint_no": "TS-IV-23-001"}, "complaint_no"),
        ({"complaint_no": "TS-I-23-01"}, "complaint_no"),
        ({"complaint_class": "II"}, "complaint_no"),
        ({"received_on": "2022-05-12"}, "complaint_no"),
        ({"received_on": "2023-07-04"}, "closed_on"),
        ({"received_on": "2023-02-30"}, "received_on"),
        ({"closed_on": "03/07/2023"}, "closed_on"),
        ({"complaint_type": "taste"}, "complaint_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"outcome": "maybe"}, "outcome"),
        ({"measures": ["refund"]}, "measures.0"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"title": ""}, "title"),
        ({"title": 42}, "title"),
        ({"customer": {"phone": "13812345678"}}, "customer.name"),
        ({"products": [{"name": "阿莫西林胶囊"}]}, "products.0.batch_no"),
        ({"products": [{"batch_no": "2023"}]}, "products.0.name"),
        ({"products": [{"name": "x", "batch_no": "1", "expiry": "2025-13"}]},
         "products.0.expiry"),
        ({"products": [{"name": "x", "batch_no": "../1"}]}, "products.0.batch_no"),
    ],
)  # fmt: skip
def test_invalid_fields_are_named(api, unchanged, change, field):
    meta = metadata()
    meta.update(change)
    bad_metadata(api, meta, field)


def test_missing_required_field(api, unchanged):
    meta = metadata()
    del meta["received_on"]
    bad_metadata(api, meta, "received_on")


@pytest.mark.parametrize("outcome,missing", [
    ("justified", "investigation_report"), ("justified", "reply_report"),
    ("justified", "registration_form"), ("unjustified", "handling_sheet"),
])  # fmt: skip
def test_incomplete_dossier(api, unchanged, outcome, missing):
    meta = metadata(outcome=outcome, measures=[])
    files = [item for item in complete_files(outcome) if item[0] != missing]
    assert_error(post(api, [metadata_part(meta)], files, 422), 422, "incomplete", missing)


def replace_part(kind, filename, content):
    return [item for item in complete_files() if item[0] != kind] + [(kind, filename, content)]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("report.pdf", ELF),
        ("report.pdf", HTML),
        ("drawing.svg", SVG),
        ("drawing.png", SVG),
        ("page.html", HTML),
        ("photo.pdf", jpeg()),
    ],
)  # fmt: skip
def test_refused_content(api, unchanged, filename, content):
    files = replace_part("registration_form", filename, content)
    response = post(api, [metadata_part(metadata())], files, 415)
    assert_error(response, 415, "unsupported_media_type", "registration_form")


def test_empty_file(api, unchanged):
    # An empty file is no kind of document the archive keeps: 415, as the real corpus's
    # emptyfile.mp3 and null_file.xlsx are refused.
    files = replace_part("registration_form", "empty.pdf", b"")
    assert_error(post(api, [metadata_part(metadata())], files, 415), 415,
                 "unsupported_media_type", "registration_form")  # fmt: skip


def test_unknown_part(api, unchanged):
    files = complete_files() + [("malware", "x.pdf", pdf())]
    assert_error(post(api, [metadata_part(metadata())], files, 422), 422, "invalid", "malware")


def test_a_kind_sent_as_text_is_refused_naming_it(api, unchanged):
    """A document's part without a file (a form field) is no document: filing and appending
    name the first such part; the metadata is the one text part filing takes."""
    parts = [metadata_part(metadata()), ("reply_report", "see the letter"), ("attachment", "x")]
    answer = post(api, parts, complete_files(), 422)
    assert_error(answer, 422, "invalid", "attachment")
    assert answer.json["detail"] == "attachment must be a file part"


def test_an_append_takes_files_only(api):
    dossier = file_dossier(api).json
    url = f"/api/v1/dossiers/{dossier['id']}/documents"
    for parts in ([("attachment", "a note")], [metadata_part(metadata())]):
        answer = api.post(url, "archivist", params=parts,
                          upload_files=[("attachment", "b.pdf", pdf())], status=422)  # fmt: skip
        assert_error(answer, 422, "invalid", parts[0][0])
    assert len(api.get(f"/api/v1/dossiers/{dossier['id']}", "archivist").json["documents"]) == 4


def test_too_many_parts(api, unchanged):
    files = complete_files() + [("attachment", f"a{i}.pdf", b"%PDF-1.4\n") for i in range(1000)]
    assert_error(post(api, [metadata_part(metadata())], files, 413), 413, "too_large")


@pytest.fixture(scope="module")
def small_limit_app(wsgi_app):
    """The same storage, served by an app whose upload limit is 1 MB."""
    import webtest
    from support import TESTING_INI

    from archive_app import main
    from archive_app.bootstrap import read_settings

    settings = read_settings(TESTING_INI) | {"archive.max_upload_mb": "1"}
    app = main({}, **settings)
    yield webtest.TestApp(app)
    app.registry.getUtility(IDatabase).dispose()


def test_oversize_part(api, unchanged, small_limit_app):
    big = pdf() + b"\0" * (2 * 1024 * 1024)
    files = replace_part("registration_form", "big.pdf", big)
    response = small_limit_app.post(
        "/api/v1/dossiers", params=[metadata_part(metadata())], upload_files=files,
        headers=api.headers("archivist"), status=413,
    )  # fmt: skip
    assert_error(response, 413, "too_large", "registration_form")


def test_not_multipart(api, unchanged):
    response = api.app.post_json("/api/v1/dossiers", metadata(), headers=api.headers("archivist"),
                                 status=415)  # fmt: skip
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\x\\报告.pdf", "报告.pdf"),
        ("invoice\u202efdp.pdf", "invoicefdp.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
    ],
)
def test_filenames_are_cleaned_not_refused(api, raw, expected):
    files = replace_part("registration_form", raw, pdf())
    body = post(api, [metadata_part(metadata())], files, 201).json
    names = [d["filename"] for d in body["documents"] if d["kind"] == "registration_form"]
    assert names == [expected]


def test_an_undeclared_method_is_405_with_allow_and_an_unknown_parameter_is_422(api):
    response = api.app.put("/api/v1/retention/due", headers=api.headers("records"), status=405)
    assert_error(response, 405, "method_not_allowed", None)
    assert response.headers["Allow"] == "GET"
    response = api.app.request("/api/v1/dossiers", method="DELETE",
                               headers=api.headers("archivist"), status=405)  # fmt: skip
    assert response.headers["Allow"] == "GET, POST"
    assert_error(api.get("/api/v1/retention/due?as_of=2021-01-01&asof=2022-01-01", "records",
                         status=422), 422, "invalid", "asof")  # fmt: skip
    api.get("/api/v1/retention/due?asof=2022-01-01", status=401)  # sign in first
    api.app.get("/api/v1/nowhere", status=404)
