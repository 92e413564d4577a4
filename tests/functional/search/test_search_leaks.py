"""Search leaks nothing: document text only for roles that read documents, no personal data in
the index, no document text in the server log, no purged segment kept open."""

from __future__ import annotations

import io
import logging
import os
import zipfile
import zlib
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata
from sqlalchemy import select

from archive_app.demo.documents import make_docx, make_pdf, make_xlsx
from archive_app.interfaces import IDatabase, IIndexer
from archive_app.records.models import DocumentText


def search(api, user: str, query: str) -> dict:
    return api.get(f"/api/v1/search?{quote(query, safe='=&')}", user, status=200).json


def ids(body: dict) -> set[str]:
    return {result["id"] for result in body["results"]}


def file(api, files: list, **overrides) -> dict:
    meta = metadata(**{"complaint_no": complaint_no(), "confidentiality": "internal"} | overrides)
    return file_dossier(api, meta, files).json


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


def form_with(lines: list[str]) -> list:
    """A complete filing whose registration form (a real PDF) and handling sheet (a real DOCX)
    hold these lines."""
    files = [item for item in complete_files() if item[0] not in ("registration_form",
                                                                  "handling_sheet")]  # fmt: skip
    files.append(("registration_form", "登记表.pdf", make_pdf("投诉客户信息登记表", lines)))
    files.append(("handling_sheet", "处理单.docx", make_docx("客户质量投诉处理单", lines)))
    return files


def test_the_customer_s_own_personal_data_is_not_in_the_index(api, storage):
    phone, name = "13987651234", "欧阳娜娜"
    customer = {"name": name, "organization": "康宁大药房", "phone": phone,
                "address": "杭州市西湖区文三路 188 号"}  # fmt: skip
    lines = [f"客户姓名：{name}", f"联系电话：{phone}（备用 139 8765 1234）",
             "单位：康宁大药房", "登记表留存词甘露"]  # fmt: skip
    dossier = file(api, form_with(lines), customer=customer,
                   title=f"{name}投诉", summary=f"{name}来电 {phone} 反映胶囊破损")  # fmt: skip
    for user in ("auditor", "archivist"):
        for query in (phone, name, "139 8765 1234", "欧阳", "康宁大药房"):
            assert dossier["id"] not in ids(search(api, user, f"q={query}")), (user, query)
        # The rest of the form's text is indexed: only the customer's values are cut out.
        assert dossier["id"] in ids(search(api, user, "q=登记表留存词甘露")), user
    for path in (storage / "index").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert phone.encode() not in data and name.encode() not in data, path


def workbook_that_quotes_a_cell(secret: str) -> bytes:
    """A real workbook whose number cell holds text: openpyxl's error quotes the cell."""
    source = zipfile.ZipFile(io.BytesIO(make_xlsx("检验数据", [["项目", 12345]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as crafted:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<v>12345</v>", f"<v>{secret}</v>".encode())
            crafted.writestr(item, body)
    return out.getvalue()


def test_an_extraction_error_logs_no_document_text(api, caplog):
    secret = "机密单元格内容"
    files = complete_files() + [("attachment", "数据.xlsx", workbook_that_quotes_a_cell(secret))]
    with caplog.at_level(logging.DEBUG):
        dossier = file(api, files)
    attachment = next(d for d in dossier["documents"] if d["kind"] == "attachment")
    logged = [record for record in caplog.records if attachment["id"] in record.getMessage()]
    assert logged, "the failed extraction is logged with the document's id"
    for record in caplog.records:
        assert secret not in record.getMessage() and secret not in (record.exc_text or "")


def deleted_files_open(folder: Path) -> list[str]:
    """Files under `folder` this process still holds (descriptors or mappings) after their
    deletion."""
    held = []
    for link in Path("/proc/self/fd").iterdir():
        with suppress(OSError):
            target = os.readlink(link)
            if target.startswith(str(folder)) and target.endswith("(deleted)"):
                held.append(target)
    for line in Path("/proc/self/maps").read_text().splitlines():
        if str(folder) in line and line.endswith("(deleted)"):
            held.append(line)
    return held


def test_a_purge_lets_go_of_the_purged_segments_at_once(api, storage, whoosh_only):
    dossier = file(api, complete_files(), complaint_no=complaint_no("I", 2018),
                   received_on="2018-05-12", closed_on="2018-07-03",
                   products=[{"name": "复方甘草片", "batch_no": "LEAKPURGE1",
                              "expiry": "2018-06"}])  # fmt: skip
    assert ids(search(api, "auditor", "batch_no=LEAKPURGE1")) == {dossier["id"]}  # searcher open
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"]
    assert deleted_files_open(storage / "index") == []


def test_appending_a_document_extracts_only_that_document(api, search_app, search_backend,
                                                          monkeypatch):  # fmt: skip
    indexer = search_app.registry.getUtility(IIndexer)
    extracted = []  # the media type of each document the readers ran on
    extract = indexer.extractor.extract

    def counted(path, media_type, *args, **kwargs):
        extracted.append(media_type)
        return extract(path, media_type, *args, **kwargs)

    monkeypatch.setattr(indexer.extractor, "extract", counted)
    # One word per backend: the rebuild below reads every living dossier of the database,
    # the other backend's run's too.
    words = "派生文本密封词" + {"whoosh": "甲", "postgres": "乙"}[search_backend]
    dossier = file(api, form_with([words]))
    filed = {document["id"] for document in dossier["documents"]}
    assert len(extracted) == 4  # each document once, at filing
    extracted.clear()
    appended = api.post(f"/api/v1/dossiers/{dossier['id']}/documents", "archivist",
                        upload_files=[("attachment", "补充.pdf", make_pdf("补充", ["补充说明"]))],
                        status=201).json  # fmt: skip
    new = {document["id"] for document in appended["documents"]} - filed
    assert extracted == ["application/pdf"]  # the new document alone, not the four others
    extracted.clear()
    indexer.rebuild()  # what `archive reindex` runs: every stored text is reused
    assert extracted == []
    assert ids(search(api, "auditor", f"q={words}")) == {dossier["id"]}
    # The stored texts are sealed: no word of them in the rows, not even compressed.
    with search_app.registry.getUtility(IDatabase).read() as session:
        rows = session.scalars(select(DocumentText).where(
            DocumentText.document_id.in_(filed | new))).all()  # fmt: skip
    assert {row.document_id for row in rows} == filed | new
    for row in rows:
        sealed = bytes(row.sealed_text)
        assert words.encode() not in sealed and row.state == "extracted"
        for start in range(len(sealed)):
            with pytest.raises(zlib.error):
                zlib.decompress(sealed[start:])
