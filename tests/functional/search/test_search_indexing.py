"""Indexing after filing: a document whose extraction hangs does not hold filing up."""

from __future__ import annotations

from urllib.parse import quote

from factories import complaint_no, complete_files, metadata, metadata_part

from archive_app.demo.documents import make_pdf


def file_with_report(api, title: str, report_text: str) -> dict:
    meta = metadata(complaint_no=complaint_no("I", 2023), title=title)
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", [report_text])))
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=files, status=201).json  # fmt: skip


def found(api, words: str) -> set[str]:
    body = api.get(f"/api/v1/search?q={quote(words)}", "archivist").json
    return {result["id"] for result in body["results"]}


def test_a_hanging_extraction_is_killed_and_the_dossier_indexed_without_text(
    api, wsgi_app, monkeypatch
):
    extractor = wsgi_app.registry["archive.indexer"].extractor
    monkeypatch.setattr(extractor, "timeout", 0.5)
    monkeypatch.setenv("ARCHIVE_FAULT", "extract_hang")
    dossier = file_with_report(api, "挂起提取标题甲", "挂起提取正文乙")
    monkeypatch.delenv("ARCHIVE_FAULT")
    assert found(api, "挂起提取标题甲") == {dossier["id"]}  # filed and indexed
    assert found(api, "挂起提取正文乙") == set()  # without the text it could not read
    other = file_with_report(api, "正常提取标题丙", "正常提取正文丁")
    assert found(api, "正常提取正文丁") == {other["id"]}  # the next child reads again
