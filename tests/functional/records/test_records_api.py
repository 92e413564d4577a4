"""Filing, reading, appending and downloading dossiers through the JSON API."""

from __future__ import annotations

import hashlib

from factories import complete_files, docx, eml, file_dossier, jpeg, metadata, pdf, png, xlsx
from support import assert_error, bytes_on_disk


def test_filing_returns_the_dossier_with_its_documents(api):
    meta = metadata()
    extra = [
        ("customer_acceptance", "验收.jpg", jpeg()),
        ("attachment", "photo.png", png()),
        ("attachment", "mail.eml", eml()),
        ("attachment", "检验数据.xlsx", xlsx()),
    ]
    response = file_dossier(api, meta, complete_files() + extra)
    body = response.json
    assert body["complaint_no"] == meta["complaint_no"]
    assert body["state"] == "archived"
    assert body["destroy_after"] == "2026-06-30"
    assert "expiry 2025-06" in body["retention_rule"]
    assert body["filed_by"] == "archivist"
    assert body["customer"] == meta["customer"]  # archivists see personal data
    kinds = [document["kind"] for document in body["documents"]]
    assert kinds.count("attachment") == 3 and "customer_acceptance" in kinds
    types = {document["filename"]: document["media_type"] for document in body["documents"]}
    assert types["mail.eml"] == "message/rfc822"
    assert types["验收.jpg"] == "image/jpeg"
    assert types["检验数据.xlsx"].endswith("spreadsheetml.sheet")


def test_every_byte_comes_back(api, storage):
    files = complete_files()
    body = file_dossier(api, files=files).json
    for document, (_kind, _name, content) in zip(body["documents"], files, strict=True):
        assert document["sha256"] == hashlib.sha256(content).hexdigest()
        assert document["size"] == len(content)
        download = api.get(f"/api/v1/dossiers/{body['id']}/documents/{document['id']}",
                           "auditor")  # fmt: skip
        assert download.body == content
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
        assert download.content_type == document["media_type"]


def test_blobs_on_disk_are_ciphertext(api, storage):
    content = docx("独一无二的标记文本 UNIQUEMARKER-7431")
    file_dossier(api, files=complete_files()[:1] + [("handling_sheet", "a.docx", content)]
                 + complete_files()[2:])  # fmt: skip
    blobs = list((storage / "blobs").rglob("*.blob"))
    assert blobs
    for blob in blobs:
        data = blob.read_bytes()
        assert content[:64] not in data and b"PK\x03\x04" not in data[:64]


def test_personal_data_is_not_in_the_database_file_in_clear(api, storage):
    meta = metadata(
        customer={
            "name": "欧阳明日",
            "phone": "13900001111",
            "organization": "独特标记药房",
            "address": "某地某路 1 号",
        }
    )
    file_dossier(api, meta)
    for path in storage.glob("archive.sqlite*"):
        raw = bytes_on_disk(path)
        for secret in ("欧阳明日", "13900001111", "独特标记药房"):
            assert secret.encode() not in raw


def test_auditor_sees_masked_personal_data(api):
    body = file_dossier(api).json
    seen = api.get(f"/api/v1/dossiers/{body['id']}", "auditor").json
    assert seen["customer"] == {"name": "张**", "organization": "***",
                                "phone": "138****5678", "address": "***"}  # fmt: skip


def test_lookup_by_complaint_number(api):
    body = file_dossier(api).json
    found = api.get(f"/api/v1/dossiers?complaint_no={body['complaint_no']}", "auditor").json
    assert [result["id"] for result in found["results"]] == [body["id"]]
    lower = api.get(f"/api/v1/dossiers?complaint_no={body['complaint_no'].lower()}", "auditor")
    assert [result["id"] for result in lower.json["results"]] == [body["id"]]
    none = api.get("/api/v1/dossiers?complaint_no=TS-I-23-999999", "auditor").json
    assert none == {"results": []}


def test_appending_adds_and_never_replaces(api):
    body = file_dossier(api).json
    before = {document["id"] for document in body["documents"]}
    appended = api.post(f"/api/v1/dossiers/{body['id']}/documents", "archivist",
                        upload_files=[("registration_form", "补充登记表.pdf", pdf("补充登记表"))],
                        status=201).json  # fmt: skip
    after = {document["id"] for document in appended["documents"]}
    assert before < after and len(after) == len(before) + 1


def test_duplicate_complaint_number_conflicts(api):
    meta = metadata()
    file_dossier(api, meta)
    assert_error(file_dossier(api, meta, status=409), 409, "conflict", "complaint_no")


def test_unknown_dossier_and_document(api):
    assert_error(api.get("/api/v1/dossiers/" + "0" * 32, "auditor", status=404), 404,
                 "not_found")  # fmt: skip
    body = file_dossier(api).json
    assert_error(api.get(f"/api/v1/dossiers/{body['id']}/documents/{'f' * 32}", "auditor",
                         status=404), 404, "not_found")  # fmt: skip
