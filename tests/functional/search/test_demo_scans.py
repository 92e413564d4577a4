"""The demo archive's scans (#14 item 5): faxed registration forms and package photos, found
by their batch numbers once OCR has read them (the words are in no text layer)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from archive_app.demo.corpus import write_demo_archive
from archive_app.interfaces import IOcrQueue
from archive_app.records.importer import ImportStatus, dossier_folders, import_folders

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.usefixtures("whoosh_backend_only"),
]


def with_scans(root) -> list[tuple]:
    """(folder, batch number) of the demo dossiers that carry scans."""
    chosen = []
    for folder in dossier_folders(root):
        listing = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
        if any("包装照片-" in document["file"] for document in listing["documents"]):
            chosen.append((folder, listing["products"][0]["batch_no"]))
    return chosen


def found(api, words: str) -> set[str]:
    body = api.get(f"/api/v1/search?q={quote(words)}", "archivist").json
    return {result["complaint_no"] for result in body["results"]}


def test_the_demo_scans_are_found_by_their_batch_numbers_after_ocr(
    api, wsgi_app, script_request, tmp_path
):
    # The first demo dossier carries scans (a faxed form and a package photo, every fourth
    # does): it alone is written and imported, and its two scans read.
    write_demo_archive(tmp_path, count=1, trends=False)
    chosen = with_scans(tmp_path)
    assert chosen, "the demo archive carries scans"
    reports = list(import_folders(script_request, tmp_path, [f for f, _ in chosen]))
    assert all(report.status == ImportStatus.FILED for report in reports), reports
    numbers = {
        json.loads((f / "dossier.json").read_text(encoding="utf-8"))["complaint_no"]
        for f, _ in chosen
    }
    # "FAX COPY" and "BATCH NO." are printed on the scans only: found once OCR read them.
    assert not found(api, "FAX COPY") & numbers
    wsgi_app.registry.getUtility(IOcrQueue).drain()
    assert found(api, "FAX COPY") >= numbers
    for folder, batch_no in chosen:
        number = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))["complaint_no"]
        assert number in found(api, f"BATCH {batch_no}")
