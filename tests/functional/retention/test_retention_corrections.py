"""Correcting what feeds the retention rule: the date is recomputed, kept as history, logged,
and the keys follow the dossier to its new bucket."""

from __future__ import annotations

from factories import complaint_no, file_dossier, metadata
from support import TESTING_INI, assert_error

from archive_app.bootstrap import open_app
from archive_app.records.models import Document, Dossier


def file_two_products(api, expiry="2030-06", batch="CR2030A") -> dict:
    meta = metadata(
        complaint_no=complaint_no("I", 2023), received_on="2023-03-01", closed_on="2023-04-01",
        products=[{"name": "阿莫西林胶囊", "batch_no": batch, "expiry": expiry},
                  {"name": "阿莫西林胶囊", "batch_no": batch + "B", "expiry": "2029-01"}],
    )  # fmt: skip
    return file_dossier(api, meta).json


def buckets_of(dossier_id: str) -> set:
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            session = request.dbsession
            found = {session.get(Dossier, dossier_id).key_bucket}
            documents = session.query(Document).filter_by(dossier_id=dossier_id)
            found |= {document.key_bucket for document in documents}
    return found


def test_a_corrected_expiry_recomputes_the_date_and_moves_the_keys(api):
    dossier = file_two_products(api)
    assert dossier["destroy_after"] == "2031-06-30" and buckets_of(dossier["id"]) == {"2031-06"}
    url = f"/api/v1/dossiers/{dossier['id']}/corrections"
    body = {"reason": "厂家更正有效期", "products": [{"batch_no": "CR2030A", "expiry": "2032-02"}]}
    correction = api.post_json(url, body, "records", status=201).json
    assert correction["destroy_after"] == "2033-02-28"
    assert correction["changes"] == {"CR2030A.expiry": ["2030-06", "2032-02"],
                                     "destroy_after": ["2031-06-30", "2033-02-28"]}  # fmt: skip
    assert correction["retention_rule"].startswith("expiry-plus-1y v1: expiry 2032-02")
    shown = api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json
    assert shown["destroy_after"] == "2033-02-28" and shown["products"][0]["expiry"] == "2032-02"
    assert buckets_of(dossier["id"]) == {"2033-02"}
    # Every byte is still readable under the new bucket's key, and the customer too.
    document = dossier["documents"][0]
    api.get(f"/api/v1/dossiers/{dossier['id']}/documents/{document['id']}", "auditor")
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "archivist").json["customer"]["name"] \
        == metadata()["customer"]["name"]  # fmt: skip

    closed = api.post_json(url, {"reason": "结案日期录入错误", "closed_on": "2023-05-02"},
                           "records", status=201).json  # fmt: skip
    assert "destroy_after" not in closed["changes"]  # the expiry still decides
    history = api.get(url, "records").json["results"]
    assert [row["reason"] for row in history] == ["厂家更正有效期", "结案日期录入错误"]
    entries = api.get(f"/api/v1/access-log?action=correct&dossier_id={dossier['id']}",
                      "privacy").json["entries"]  # fmt: skip
    assert len(entries) == 2 and "2031-06-30 → 2033-02-28" in entries[-1]["detail"]


def test_an_earlier_expiry_makes_a_dossier_due(api):
    dossier = file_two_products(api, batch="CR2030C")
    due = api.get("/api/v1/retention/due?as_of=2026-01-01", "records").json["results"]
    assert dossier["id"] not in {row["id"] for row in due}
    api.post_json(f"/api/v1/dossiers/{dossier['id']}/corrections",
                  {"reason": "召回批次", "products": [{"batch_no": "CR2030C", "expiry": "2023-06"},
                                                  {"batch_no": "CR2030CB", "expiry": None}]},
                  "records", status=201)  # fmt: skip
    due = api.get("/api/v1/retention/due?as_of=2026-01-01", "records").json["results"]
    row = next(row for row in due if row["id"] == dossier["id"])
    assert row["destroy_after"] == "2024-06-30"


def test_bad_corrections_are_refused_and_change_nothing(api):
    dossier = file_two_products(api, batch="CR2030D")
    url = f"/api/v1/dossiers/{dossier['id']}/corrections"
    for body, field in (
        ({"products": [{"batch_no": "CR2030D", "expiry": "2031-01"}]}, "reason"),
        ({"reason": "x", "title": "新标题"}, "title"),
        ({"reason": "x", "products": [{"batch_no": "NOPE", "expiry": "2031-01"}]},
         "products.0.batch_no"),
        ({"reason": "x", "products": [{"batch_no": "CR2030D", "expiry": "2031-13"}]},
         "products.0.expiry"),
        ({"reason": "x", "products": [{"batch_no": "CR2030D", "name": "别的"}]},
         "products.0.name"),
        ({"reason": "x", "products": [{"batch_no": "CR2030D", "certified_on": "soon"}]},
         "products.0.certified_on"),
        ({"reason": "x", "products": "CR2030D"}, "products"),
        ({"reason": "x", "closed_on": "2023-02-01"}, "closed_on"),
        ({"reason": "x", "closed_on": 20230401}, "closed_on"),
        ({"reason": "x", "closed_on": "2023-04-01"}, None),  # nothing changes
    ):  # fmt: skip
        assert_error(api.post_json(url, body, "records", status=422), 422, "invalid", field)
    for user in ("archivist", "auditor", "privacy", "admin"):
        api.post_json(url, {"reason": "x", "closed_on": "2023-05-01"}, user, status=403)
    api.post_json("/api/v1/dossiers/nope/corrections", {"reason": "x"}, "records", status=404)
    shown = api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json
    assert shown["destroy_after"] == dossier["destroy_after"]
    assert api.get(url, "records").json["results"] == []
