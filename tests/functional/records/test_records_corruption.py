"""Damaged storage: every kind of blob and key damage is detected, no plaintext is released,
and `archive verify` names each damaged document (issue 6, corruption)."""

from __future__ import annotations

import os

from factories import complaint_no, complete_files, jpeg, metadata, metadata_part, png
from sqlalchemy import select, update
from support import TESTING_INI, assert_error, run_cli

from archive_app.bootstrap import open_app
from archive_app.interfaces import IBlobStore
from archive_app.records.models import Document


def file_with_attachments(api) -> dict:
    files = [*complete_files(), ("attachment", "现场照片.jpg", jpeg(7)),
             ("attachment", "检验截图.png", png(8)), ("attachment", "来电记录.txt",
                                                    "客户来电：胶囊破损。".encode())]  # fmt: skip
    meta = metadata(complaint_no=complaint_no("II", 2023), complaint_class="II")
    return api.post("/api/v1/dossiers", "archivist", params=[metadata_part(meta)],
                    upload_files=files, status=201).json  # fmt: skip


def flip(data: bytes, offset: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 0x04
    return bytes(damaged)


def test_every_kind_of_damage_is_detected_named_and_releases_nothing(api):
    dossier = file_with_attachments(api)
    other = file_with_attachments(api)
    with open_app(TESTING_INI) as env:
        blobs, request = env["registry"].getUtility(IBlobStore), env["request"]
        with request.tm:
            rows = {
                d.id: (d.storage_name, d.wrapped_key)
                for d in request.dbsession.scalars(
                    select(Document).where(Document.dossier_id.in_([dossier["id"], other["id"]]))
                )
            }
    ids = [d["id"] for d in dossier["documents"]]
    a, b = other["documents"][0]["id"], other["documents"][1]["id"]
    paths = {doc_id: blobs.path_of(rows[doc_id][0]) for doc_id in rows}
    originals = {doc_id: path.read_bytes() for doc_id, path in paths.items()}
    damage = {
        ids[0]: lambda data: flip(data, 6),  # header
        ids[1]: lambda data: flip(data, len(data) // 2),  # body
        ids[2]: lambda data: flip(data, len(data) - 1),  # the last tag
        ids[3]: lambda data: data[:-10],  # truncated
        ids[4]: lambda data: data + os.urandom(16),  # extended
    }
    try:
        for doc_id, spoil in damage.items():
            paths[doc_id].write_bytes(spoil(originals[doc_id]))
        # Two blobs' bodies swapped, and two rows' wrapped keys swapped.
        paths[ids[5]].write_bytes(originals[ids[6]])
        paths[ids[6]].write_bytes(originals[ids[5]])
        with open_app(TESTING_INI) as env:
            request = env["request"]
            with request.tm:
                for doc_id, key in ((a, rows[b][1]), (b, rows[a][1])):
                    request.dbsession.execute(
                        update(Document).where(Document.id == doc_id).values(wrapped_key=key)
                    )
        damaged = [*ids[:7], a, b]

        for doc_id in damaged:
            owner = dossier if doc_id in ids else other
            response = api.get(f"/api/v1/dossiers/{owner['id']}/documents/{doc_id}", "auditor",
                               status=500)  # fmt: skip
            assert_error(response, 500, "internal", "document_id")  # and not a byte of it
        intact = other["documents"][2]["id"]
        api.get(f"/api/v1/dossiers/{other['id']}/documents/{intact}", "auditor", status=200)

        report = run_cli(dict(os.environ), "verify")
        assert report.returncode == 1
        named = {line.split()[1] for line in report.stdout.splitlines()
                 if line.startswith("document ")}  # fmt: skip
        assert set(damaged) <= named
        assert intact not in named
        entries = api.get(f"/api/v1/access-log?dossier_id={dossier['id']}&outcome=failed",
                          "privacy").json["entries"]  # fmt: skip
        assert {entry["document_id"] for entry in entries} >= set(ids[:7])
    finally:
        for doc_id, data in originals.items():
            paths[doc_id].write_bytes(data)
        with open_app(TESTING_INI) as env:
            request = env["request"]
            with request.tm:
                for doc_id in (a, b):
                    request.dbsession.execute(update(Document).where(Document.id == doc_id)
                                              .values(wrapped_key=rows[doc_id][1]))  # fmt: skip
