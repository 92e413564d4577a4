"""The direct segment writer writes the files Whoosh's own writer writes, byte for byte."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.codec import default_codec
from whoosh.fields import ID, TEXT, Schema
from whoosh.writing import SegmentWriter

from archive_app.search.engine import _fields
from archive_app.search.schema import dossier_schema
from archive_app.search.segment_writer import DirectMpWriter, DirectSegmentWriter

WORDS = ["阿莫西林胶囊", "溶出度", "不合格", "AM2305012", "批号", "包装破损", "李", "Capa-2023",
         "说明书", "胶囊", "20230512", "ß", "かナ", "한글"]  # fmt: skip


def documents(count: int, seed: int = 5) -> list[dict]:
    """Entries with repeated and rare terms, so that terms span one block or several
    (Whoosh's blocks hold 128 postings), weights vary, and some fields are missing."""
    rng = random.Random(seed)

    def text(low, high):
        return " ".join(rng.choices(WORDS, k=rng.randrange(low, high)))

    made = []
    for number in range(count):
        entry = {
            "id": f"{number:032x}", "complaint_no": f"TS-{number:05d}",
            "batch_no": [f"AM{rng.randrange(40):03d}", "Z9"][: rng.randrange(1, 3)],
            "title": text(1, 6), "product": [text(1, 3)], "product_name": [text(1, 2)],
            "manufacturer": text(0, 3), "summary": text(0, 12),
            "text": text(0, 400) + f" 批号{number}",
            "complaint_class": rng.choice(["I", "II", "III"]), "outcome": "justified",
            "confidentiality": rng.choice(["internal", "confidential"]), "state": "archived",
            "year": 2019 + number % 5, "received_on": datetime(2020, 1, 1 + number % 28),
            "closed_on": datetime(2021, 2, 1 + number % 28),
        }  # fmt: skip
        made.append(_fields(entry, set(dossier_schema().names())))
    return made


def segment_files(folder: Path, writer_class, docs: list[dict]) -> dict[str, bytes]:
    """The segment's files (not assembled, to compare each), keyed without the segment id."""
    built = whoosh_index.create_in(str(folder), dossier_schema())
    codec = default_codec()
    codec.length_stats = False
    writer = writer_class(built, codec=codec, compound=False)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(merge=False)
    (segment,) = built._segments()
    prefix = segment.segment_id()
    return {path.name.replace(prefix, "SEGMENT"): path.read_bytes()
            for path in folder.iterdir() if path.name.startswith(prefix)}  # fmt: skip


@pytest.mark.parametrize("count", [1, 7, 300])
def test_the_files_are_whooshs_own(tmp_path, count):
    docs = documents(count)
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "direct").mkdir()
    theirs = segment_files(tmp_path / "whoosh", SegmentWriter, docs)
    ours = segment_files(tmp_path / "direct", DirectSegmentWriter, docs)
    assert ".pst" in "".join(ours) and ".trm" in "".join(ours)
    assert sorted(ours) == sorted(theirs)
    for name, data in theirs.items():
        assert ours[name] == data, name


def test_whoosh_reads_every_posting_back(tmp_path):
    docs = documents(300, seed=9)
    built = whoosh_index.create_in(str(tmp_path), dossier_schema())
    codec = default_codec()
    codec.length_stats = False
    writer = DirectSegmentWriter(built, codec=codec)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(merge=False)
    with built.searcher() as searcher:
        reader = searcher.reader()
        texts = [doc["text"] for doc in docs]
        found = list(reader.postings("text", "批号").all_ids())
        assert found == [number for number, value in enumerate(texts) if "批号" in value]
        assert searcher.document(id=f"{42:032x}")["title"] == docs[42]["title"]


def test_two_processes_write_the_entries_once_each(tmp_path):
    docs = documents(250, seed=3)
    built = whoosh_index.create_in(str(tmp_path), dossier_schema())
    codec = default_codec()
    codec.length_stats = False
    writer = DirectMpWriter(built, procs=2, codec=codec)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(merge=False)
    assert len(built._segments()) == 2
    with built.searcher() as searcher:
        assert sorted(fields["id"] for fields in searcher.all_stored_fields()) == sorted(
            doc["id"] for doc in docs
        )
        assert searcher.doc_frequency("batch_no", "z9") == sum(
            "Z9" in doc["batch_no"] for doc in docs
        )


def test_a_schema_with_vectors_is_refused(tmp_path):
    built = whoosh_index.create_in(str(tmp_path), Schema(id=ID, body=TEXT(vector=True)))
    codec = default_codec()
    codec.length_stats = False
    with pytest.raises(ValueError, match="vectors"):
        DirectSegmentWriter(built, codec=codec)
