"""Previews on the dossier page: a PDF's first page and an image's thumbnail drawn in the
sandboxed child, kept sealed under the document's key, served as PNG to those who may
download, logged, and gone with the dossier."""

from __future__ import annotations

import io
import re

import pytest
from factories import complaint_no, complete_files, file_dossier, jpeg, metadata, png
from PIL import Image
from sqlalchemy import select
from support import REALDOCS

from archive_app.records import derived
from archive_app.records.models import DocumentPreview
from archive_app.search.thumbnails import PREVIEW_SIZE


def preview_url(dossier, document):
    return f"/dossiers/{dossier['id']}/documents/{document['id']}/preview.png"


def by_kind(dossier, kind):
    return next(d for d in dossier["documents"] if d["kind"] == kind)


def stored_preview(wsgi_app, document_id):
    from archive_app.interfaces import IDatabase

    with wsgi_app.registry.getUtility(IDatabase).read() as session:
        return session.scalars(
            select(DocumentPreview).where(DocumentPreview.document_id == document_id)
        ).first()


@pytest.fixture
def dossier(api):
    files = [*complete_files(), ("customer_acceptance", "验收照片.jpg", jpeg(5)),
             ("attachment", "标签.png", png(3))]  # fmt: skip
    return file_dossier(api, files=files).json


def test_the_dossier_page_shows_previews_of_pdfs_and_images_only(api, dossier):
    page = api.get(f"/dossiers/{dossier['id']}", "archivist").text
    shown = set(re.findall(r"documents/([0-9a-f]+)/preview\.png", page))
    drawable = {d["id"] for d in dossier["documents"]
                if d["media_type"] in ("application/pdf", "image/jpeg", "image/png")}  # fmt: skip
    assert shown == drawable and len(drawable) == 4  # two PDFs, a JPEG, a PNG; no DOCX


@pytest.mark.parametrize("kind", ["registration_form", "customer_acceptance", "attachment"])
def test_a_preview_is_a_small_png_of_the_document(api, dossier, kind):
    response = api.get(preview_url(dossier, by_kind(dossier, kind)), "auditor")
    assert response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    image = Image.open(io.BytesIO(response.body))
    assert image.format == "PNG" and max(image.size) <= PREVIEW_SIZE
    darkest, lightest = image.convert("L").getextrema()
    assert darkest < lightest  # something drawn, not a blank square


def test_the_pdf_preview_draws_its_first_page(api, dossier):
    body = api.get(preview_url(dossier, by_kind(dossier, "registration_form")), "archivist").body
    image = Image.open(io.BytesIO(body)).convert("L")
    width, height = image.size
    assert height == PREVIEW_SIZE and width < height  # an A4 page, portrait
    dark = sum(image.histogram()[:128])
    assert dark > 100  # the page's text was drawn, not a blank page


def test_the_stored_preview_is_sealed_under_the_documents_key(api, dossier, wsgi_app):
    document = by_kind(dossier, "customer_acceptance")
    served = api.get(preview_url(dossier, document), "archivist").body
    row = stored_preview(wsgi_app, document["id"])
    assert row is not None and row.sealed_png is not None
    assert b"\x89PNG" not in row.sealed_png and served not in row.sealed_png


def test_a_second_view_serves_the_stored_preview_without_drawing_again(api, dossier,
                                                                        monkeypatch):  # fmt: skip
    document = by_kind(dossier, "attachment")
    first = api.get(preview_url(dossier, document), "archivist").body
    monkeypatch.setenv("ARCHIVE_FAULT", "preview_crash")  # the child would die if asked
    assert api.get(preview_url(dossier, document), "archivist").body == first


def test_a_document_that_cannot_be_drawn_answers_404_and_leaves_the_page(api, monkeypatch,
                                                                         wsgi_app):  # fmt: skip
    dossier = file_dossier(api, metadata(complaint_no=complaint_no())).json
    document = by_kind(dossier, "investigation_report")
    monkeypatch.setenv("ARCHIVE_FAULT", "preview_crash")
    api.get(preview_url(dossier, document), "archivist", status=404)
    monkeypatch.delenv("ARCHIVE_FAULT")
    row = stored_preview(wsgi_app, document["id"])
    assert row.sealed_png is None and "died" in row.reason
    page = api.get(f"/dossiers/{dossier['id']}", "archivist").text
    assert f"{document['id']}/preview.png" not in page  # no broken image
    assert f"documents/{document['id']}" in page  # its download link stays


def test_previews_follow_the_download_right_and_clearance(api, dossier):
    document = by_kind(dossier, "registration_form")
    api.get(preview_url(dossier, document), "records", status=403)  # reads, may not download
    api.get(preview_url(dossier, document), "privacy", status=403)
    page = api.get(f"/dossiers/{dossier['id']}", "records").text
    assert "preview.png" not in page
    secret = file_dossier(api, metadata(complaint_no=complaint_no(),
                                        confidentiality="restricted")).json  # fmt: skip
    secret_document = by_kind(secret, "registration_form")
    api.get(preview_url(secret, secret_document), "auditor", status=404)  # confidential only
    api.get(preview_url(secret, by_kind(secret, "handling_sheet")), "archivist", status=404)


def test_a_preview_is_logged_as_a_read_of_the_document(api, dossier):
    document = by_kind(dossier, "customer_acceptance")
    api.get(preview_url(dossier, document), "auditor")
    entries = api.get(f"/api/v1/access-log?dossier_id={dossier['id']}&action=preview",
                      "privacy").json["entries"]  # fmt: skip
    assert [(e["user"], e["document_id"]) for e in entries] == [("auditor", document["id"])]


def test_destruction_erases_the_previews(api, wsgi_app):
    meta = metadata(
        complaint_no=complaint_no("I", 2019), received_on="2019-03-01", closed_on="2019-04-01",
        products=[{"name": "复方甘草片", "batch_no": "FG190102", "expiry": "2019-06"}],
    )  # fmt: skip
    dossier = file_dossier(api, meta).json
    document = by_kind(dossier, "registration_form")
    api.get(preview_url(dossier, document), "archivist")
    assert stored_preview(wsgi_app, document["id"]) is not None
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    assert stored_preview(wsgi_app, document["id"]) is None
    api.get(preview_url(dossier, document), "archivist", status=410)


@pytest.mark.parametrize("name", ["pdf/multilang.pdf", "pdf/debian-faq.zh-cn.pdf",
                                  "pdf/cmyk-image.pdf", "pdf/crazyones-pdfa.pdf"])  # fmt: skip
def test_real_pdfs_are_drawn(api, name):
    path = REALDOCS / name
    files = [("registration_form", path.name, path.read_bytes()),
             *complete_files()[1:]]  # fmt: skip
    dossier = file_dossier(api, metadata(complaint_no=complaint_no()), files=files).json
    body = api.get(preview_url(dossier, by_kind(dossier, "registration_form")), "archivist").body
    assert Image.open(io.BytesIO(body)).format == "PNG"


def test_sealing_is_bound_to_the_document():
    key = bytes(range(32))
    sealed = derived.seal_preview(key, "doc-a", b"\x89PNG fake")
    assert derived.open_preview(key, "doc-a", sealed) == b"\x89PNG fake"
    with pytest.raises(derived.DerivedTextError):
        derived.open_preview(key, "doc-b", sealed)
    with pytest.raises(derived.DerivedTextError):  # a text key does not open a preview
        derived.open_text(key, "doc-a", sealed)
