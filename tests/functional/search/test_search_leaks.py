"""Search leaks nothing: document text only for roles that read documents, no personal data in
the index, no document text in the server log, no purged segment kept open."""

from __future__ import annotations

from urllib.parse import quote

from factories import complaint_no, complete_files, metadata, metadata_part

from archive_app.demo.documents import make_pdf


def search(api, user: str, query: str) -> dict:
    return api.get(f"/api/v1/search?{quote(query, safe='=&')}", user, status=200).json


def ids(body: dict) -> set[str]:
    return {result["id"] for result in body["results"]}


def file(api, files: list, **overrides) -> dict:
    meta = metadata(complaint_no=complaint_no(), confidentiality="internal", **overrides)
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=files, status=201).json  # fmt: skip


def test_document_text_is_searched_by_readers_of_documents_only(api):
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", ["文本独有词鹦鹉螺"])))
    dossier = file(api, files, title="文本权限测试投诉")
    for reader in ("auditor", "archivist"):
        assert ids(search(api, reader, "q=文本独有词鹦鹉螺")) == {dossier["id"]}, reader
    # A records manager searches metadata: the word in the document finds nothing, in hits,
    # totals and facets alike; the title still finds the dossier.
    metadata_only = search(api, "records", "q=文本独有词鹦鹉螺")
    assert (metadata_only["total"], metadata_only["results"]) == (0, [])
    assert metadata_only["facets"]["complaint_class"] == {}
    assert ids(search(api, "records", "q=文本权限测试")) == {dossier["id"]}
