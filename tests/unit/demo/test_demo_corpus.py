"""The demo archive: valid per the contract, deterministic, with real documents of every kind."""

from __future__ import annotations

import email
import io
import json
import zipfile
from collections import Counter
from datetime import date

import pytest
from pypdf import PdfReader

from archive_app.demo.corpus import build_demo_dossiers, write_demo_archive
from archive_app.demo.products import PRODUCTS, product_metadata
from archive_app.demo.trends import build_trend_dossiers
from archive_app.records.media import detect_media_type
from archive_app.records.schemas import REQUIRED_KINDS, validate_metadata


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return root, write_demo_archive(root)


def test_every_dossier_is_valid_and_complete(archive):
    _root, folders = archive
    numbers = set()
    for folder in folders:
        listing = json.loads((folder / "dossier.json").read_text(encoding="utf-8"))
        documents = listing.pop("documents")
        validated = validate_metadata(listing)
        numbers.add(validated["complaint_no"])
        kinds = {document["kind"] for document in documents}
        assert set(REQUIRED_KINDS[validated["outcome"]]) <= kinds
    assert len(numbers) == len(folders) >= 30


def test_spread_over_classes_types_years_and_levels():
    dossiers = build_demo_dossiers()
    assert {d["complaint_class"] for d in dossiers} == {"I", "II", "III"}
    assert len({d["complaint_type"] for d in dossiers}) == 7
    assert len({d["received_on"][:4] for d in dossiers}) >= 4
    assert {d["confidentiality"] for d in dossiers} == {"internal", "confidential", "restricted"}
    assert {d["outcome"] for d in dossiers} == {"justified", "unjustified", "not_established"}
    assert any("expiry" not in p for d in dossiers for p in d["products"])


def test_batches_recur_across_dossiers():
    batches = Counter(p["batch_no"] for d in build_demo_dossiers() for p in d["products"])
    assert max(batches.values()) >= 2


def test_a_product_reads_the_same_in_the_showcase_and_the_history():
    """One product, one specification and one maker, in both demo sets (demo/products.py)."""
    catalogue = {name: (specification, maker) for name, specification, maker, _ in PRODUCTS}
    dossiers = build_demo_dossiers() + build_trend_dossiers(date(2026, 12, 1))
    named = [product for dossier in dossiers for product in dossier["products"]]
    assert {p["name"] for p in named} == set(catalogue)
    assert all((p["specification"], p["manufacturer"]) == catalogue[p["name"]] for p in named)
    assert "expiry" not in product_metadata(PRODUCTS[0], "AM2301001", None)


def test_deterministic(tmp_path):
    first = write_demo_archive(tmp_path / "a", count=3)
    second = write_demo_archive(tmp_path / "b", count=3)
    for one, two in zip(first, second, strict=True):
        files = sorted(p.name for p in one.iterdir())
        assert files == sorted(p.name for p in two.iterdir())
        for name in files:
            assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_real_documents_of_every_kind(archive):
    _root, folders = archive
    types = Counter()
    for folder in folders:
        for path in folder.iterdir():
            if path.name == "dossier.json":
                continue
            media_type = detect_media_type(path, path.name)
            types[media_type] += 1
            data = path.read_bytes()
            if media_type == "application/pdf":
                text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
                assert folder.name in text
            elif media_type == "message/rfc822":
                message = email.message_from_bytes(data)
                assert message.get_content_type() == "text/plain"
            elif media_type.startswith("application/vnd.openxmlformats"):
                assert "[Content_Types].xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    for expected in ("application/pdf", "image/jpeg", "image/png", "message/rfc822",
                     "text/plain"):  # fmt: skip
        assert types[expected] >= 3, types
    assert any("wordprocessingml" in t for t in types)
    assert any("spreadsheetml" in t for t in types)
