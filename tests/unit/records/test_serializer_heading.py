"""The dossier's shapes open alike (records/serializers.py `heading`): the summary (search
results) and the ledger's row name the complaint as the full dossier does, in that order."""

from __future__ import annotations

from datetime import date

from archive_app.records.models import Dossier, ProductLine
from archive_app.records.serializers import heading, summary

# CONTRACT.md §4: a search result is a summary with these members.
SUMMARY = ["id", "complaint_no", "complaint_class", "complaint_type", "title", "received_on",
           "closed_on", "state", "confidentiality", "products"]  # fmt: skip


def a_dossier() -> Dossier:
    return Dossier(
        id="d-1", complaint_no="TS-I-23-001", complaint_class="I",
        complaint_type="intrinsic_quality", title="阿莫西林胶囊溶出度不合格投诉",
        received_on=date(2023, 5, 12), closed_on=date(2023, 7, 3), state="archived",
        confidentiality="confidential",
        products=[ProductLine(name="阿莫西林胶囊", batch_no="20230512", specification="0.25g")],
    )  # fmt: skip


def test_the_summary_is_the_contracts_in_its_order():
    shown = summary(a_dossier())
    assert list(shown) == SUMMARY
    assert shown["received_on"] == "2023-05-12" and shown["closed_on"] == "2023-07-03"
    assert shown["products"] == [{"name": "阿莫西林胶囊", "batch_no": "20230512"}]


def test_the_heading_opens_the_summary():
    dossier = a_dossier()
    assert list(summary(dossier))[: len(heading(dossier))] == list(heading(dossier))
    assert heading(dossier)["complaint_no"] == "TS-I-23-001"
