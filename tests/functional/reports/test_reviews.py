"""Quarterly and annual reviews through the API (contract §8): every figure re-derived here by
SQL over the dossiers filed for it, the signature checked with the contract's rules alone,
the workbook's cells against the JSON, the PDF's text, and clearance both ways."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import statistics
from collections import Counter
from datetime import timedelta

import pytest
import webtest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from factories import complaint_no, file_dossier, metadata
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import text
from support import assert_error

from archive_app.interfaces import IDatabase

PERIOD = "2017Q3"  # no other test files dossiers received in 2016-2017
FROM, TO = "2017-07-01", "2017-09-30"
PREVIOUS = [
    ("2016Q3", "2016-07-01", "2016-09-30"),
    ("2016Q4", "2016-10-01", "2016-12-31"),
    ("2017Q1", "2017-01-01", "2017-03-31"),
    ("2017Q2", "2017-04-01", "2017-06-30"),
]
WINDOW = ("2016-10-01", TO)  # the 12 months that end with the period: recurrences
FAR_EXPIRY = "2099-12"  # never due for destruction while the suite runs
LIVING = ("archived", "held")
LEVELS = {"internal": ("internal",), "confidential": ("internal", "confidential"),
          "restricted": ("internal", "confidential", "restricted")}  # fmt: skip

# (class, type, channel, outcome, measures, capa, level, received, closed, products)
DOSSIERS = [
    ("I", "intrinsic_quality", "phone", "justified", ["return"], "CAPA-17-01", "confidential",
     "2017-07-03", "2017-07-20", [("感冒灵颗粒", "GML1701")]),
    ("I", "intrinsic_quality", "email", "justified", ["return", "recall"], None, "internal",
     "2017-07-10", "2017-08-01", [("感冒灵颗粒", "GML1701")]),
    ("II", "outer_packaging", "phone", "unjustified", [], None, "internal",
     "2017-08-02", "2017-08-05", [("维生素C片", "VC1702")]),
    ("III", "service", "visit", "justified", ["compensation"], "CAPA-17-02", "internal",
     "2017-09-01", "2017-09-30", [("维生素C片", "VC1703"), ("阿莫西林胶囊", "AM1701")]),
    ("I", "intrinsic_quality", "phone", "justified", [], "CAPA-17-03", "restricted",
     "2017-09-05", "2017-09-15", [("感冒灵颗粒", "GML1709")]),
    ("II", "intrinsic_quality", "fax", "justified", ["return"], "CAPA-17-04", "internal",
     "2017-05-05", "2017-05-20", [("感冒灵颗粒", "GML1705")]),
    ("III", "other", "letter", "unjustified", [], None, "internal",
     "2016-11-11", "2016-11-30", [("板蓝根颗粒", "BLG1611")]),
    ("I", "intrinsic_quality", "phone", "justified", ["return"], "CAPA-16-01", "confidential",
     "2016-08-01", "2016-08-20", [("感冒灵颗粒", "GML1608")]),
]  # fmt: skip


@pytest.fixture(scope="module")
def module_api(wsgi_app, tokens):
    """The tests' own client (as the `api` fixture builds it), for the module's fixtures."""
    from conftest import Api

    return Api(webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"}), tokens)


@pytest.fixture(scope="module")
def filed(module_api):
    """The dossiers above, filed once through the API: {complaint_no: level}."""
    api, numbers = module_api, {}
    for cls, kind, channel, outcome, measures, capa, level, received, closed, products in DOSSIERS:
        number = complaint_no(cls, int(received[:4]))
        meta = metadata(
            complaint_no=number, complaint_class=cls, complaint_type=kind, channel=channel,
            outcome=outcome, measures=measures, capa_ref=capa, confidentiality=level,
            received_on=received, closed_on=closed,
            products=[{"name": name, "batch_no": batch, "expiry": FAR_EXPIRY}
                      for name, batch in products],
        )  # fmt: skip
        file_dossier(api, meta)
        numbers[number] = level
    return numbers


@pytest.fixture(scope="module")
def review(module_api, filed):
    """The restricted archivist's review of the quarter."""
    return module_api.post_json("/api/v1/reports/reviews", {"period": PERIOD}, "archivist",
                                status=201).json  # fmt: skip


@pytest.fixture(scope="module")
def internal_review(module_api, filed):
    return module_api.post_json("/api/v1/reports/reviews", {"period": PERIOD},
                                "archivist_internal", status=201).json  # fmt: skip


# -- the figures, re-derived by SQL ------------------------------------------------------------


def sql(wsgi_app, query: str, **params) -> list:
    with wsgi_app.registry.getUtility(IDatabase).engine.connect() as connection:
        return connection.execute(text(query), params).all()


def scope_sql(levels) -> str:
    names = ", ".join(f"'{level}'" for level in levels)
    living = ", ".join(f"'{state}'" for state in LIVING)
    return (f"d.confidentiality IN ({names}) AND d.state IN ({living}) "
            "AND d.received_on >= :start AND d.received_on <= :end")  # fmt: skip


def expected_counts(wsgi_app, levels, start, end) -> dict:
    where = scope_sql(levels)
    found = {}
    for name, column in (("by_type", "complaint_type"), ("by_class", "complaint_class"),
                         ("by_channel", "channel"), ("by_outcome", "outcome")):  # fmt: skip
        rows = sql(
            wsgi_app,
            f"SELECT d.{column}, COUNT(*) FROM dossiers d WHERE {where} "
            f"AND d.{column} IS NOT NULL GROUP BY d.{column}",
            start=start,
            end=end,
        )
        found[name] = {value: count for value, count in rows}
    rows = sql(
        wsgi_app,
        "SELECT p.name, COUNT(DISTINCT d.id) FROM product_lines p JOIN dossiers d "
        f"ON d.id = p.dossier_id WHERE {where} GROUP BY p.name",
        start=start,
        end=end,
    )
    found["by_product"] = {value: count for value, count in rows}
    measures = Counter()
    for (value,) in sql(wsgi_app, f"SELECT d.measures FROM dossiers d WHERE {where}",
                        start=start, end=end):  # fmt: skip
        measures.update(set(json.loads(value) if isinstance(value, str) else value or []))
    found["by_measure"] = dict(measures)
    return found


def test_every_count_equals_sql_over_the_filed_dossiers(wsgi_app, review):
    levels = LEVELS[review["scope"]]
    assert review["scope"] == "restricted" and review["author"] == "archivist"
    assert (review["period"], review["from"], review["to"]) == (PERIOD, FROM, TO)
    assert review["counts"] == expected_counts(wsgi_app, levels, FROM, TO)
    assert review["counts"]["by_type"]["intrinsic_quality"] == 3  # the data is what it says
    numbers = [n for (n,) in sql(wsgi_app, f"SELECT d.complaint_no FROM dossiers d WHERE "
                                 f"{scope_sql(levels)} ORDER BY d.complaint_no",
                                 start=FROM, end=TO)]  # fmt: skip
    assert review["complaint_nos"] == numbers and review["total"] == len(numbers) == 5
    assert [(p["period"], p["from"], p["to"]) for p in review["previous"]] == PREVIOUS
    for entry, (_period, start, end) in zip(review["previous"], PREVIOUS, strict=True):
        assert entry["counts"] == expected_counts(wsgi_app, levels, start, end)


def test_time_to_close_capa_and_control_chart_equal_sql(wsgi_app, review):
    where = scope_sql(LEVELS[review["scope"]])
    rows = sql(wsgi_app, f"SELECT d.received_on, d.closed_on, d.outcome, d.capa_ref "
               f"FROM dossiers d WHERE {where}", start=FROM, end=TO)  # fmt: skip
    days = sorted((_day(closed) - _day(received)).days for received, closed, _o, _c in rows)
    assert review["time_to_close"]["median_days"] == statistics.median(days)
    assert review["time_to_close"]["p90_days"] == days[math.ceil(0.9 * len(days)) - 1]
    justified = [capa for _r, _c, outcome, capa in rows if outcome == "justified"]
    assert review["capa_coverage"] == round(sum(1 for c in justified if c) / len(justified), 4)

    periods = [*PREVIOUS, (PERIOD, FROM, TO)]
    for complaint_type, chart in review["control_chart"].items():
        per_period = {
            period: sql(wsgi_app, f"SELECT COUNT(*) FROM dossiers d WHERE {where} AND "
                        "d.complaint_type = :type", start=start, end=end,
                        type=complaint_type)[0][0]
            for period, start, end in periods
        }  # fmt: skip
        mean = sum(per_period.values()) / len(per_period)
        assert chart["counts"] == per_period
        assert chart["mean"] == round(mean, 4)
        assert chart["ucl"] == round(mean + 3 * math.sqrt(mean), 4)
        assert chart["above"] == [
            p for p, n in per_period.items() if n > mean + 3 * math.sqrt(mean)
        ]


def test_on_time_counts_working_days_by_the_official_calendar(wsgi_app, review):
    """Re-derived with chinesecalendar itself: working days in (received, closed] against the
    testing.ini limits (I 5, II 10, III 15); the filed dossiers carry no reply date."""
    import chinese_calendar

    limits = {"I": 5, "II": 10, "III": 15}
    rows = sql(wsgi_app, f"SELECT d.complaint_class, d.received_on, d.closed_on FROM dossiers d "
               f"WHERE {scope_sql(LEVELS[review['scope']])}", start=FROM, end=TO)  # fmt: skip
    met = 0
    for complaint_class, received, closed in rows:
        first, last = _day(received), _day(closed)
        days = sum(1 for offset in range(1, (last - first).days + 1)
                   if chinese_calendar.is_workday(first + timedelta(days=offset)))  # fmt: skip
        met += days <= limits[complaint_class]
    assert review["on_time"] == round(met / len(rows), 4) == 0.2  # one reply of five in time


def test_recurrences_equal_sql_over_the_twelve_months(wsgi_app, review):
    where = scope_sql(LEVELS[review["scope"]])
    join = "FROM product_lines p JOIN dossiers d ON d.id = p.dossier_id WHERE " + where
    problems = sql(wsgi_app, f"SELECT p.name, d.complaint_type, COUNT(DISTINCT d.id) {join} "
                   "GROUP BY p.name, d.complaint_type HAVING COUNT(DISTINCT d.id) >= 3",
                   start=WINDOW[0], end=WINDOW[1])  # fmt: skip
    batches = sql(wsgi_app, f"SELECT p.name, p.batch_no, COUNT(DISTINCT d.id) {join} "
                  "GROUP BY p.name, p.batch_no HAVING COUNT(DISTINCT d.id) >= 2",
                  start=WINDOW[0], end=WINDOW[1])  # fmt: skip

    def numbers(condition, **params):
        return sorted(n for (n,) in sql(wsgi_app, f"SELECT DISTINCT d.complaint_no {join} AND "
                                        f"{condition}", start=WINDOW[0], end=WINDOW[1],
                                        **params))  # fmt: skip

    found = {(r["kind"], r["product"], r.get("batch_no") or r["complaint_type"]): r
             for r in review["recurrences"]}  # fmt: skip
    expected = set()
    for name, kind, count in problems:
        item = found[("product_type", name, kind)]
        assert item["count"] == count
        assert item["complaint_nos"] == numbers("p.name = :n AND d.complaint_type = :t", n=name,
                                                t=kind)  # fmt: skip
        expected.add(("product_type", name, kind))
    for name, batch, count in batches:
        item = found[("batch", name, batch)]
        assert item["count"] == count
        assert item["complaint_nos"] == numbers("p.name = :n AND p.batch_no = :b", n=name, b=batch)
        expected.add(("batch", name, batch))
    assert set(found) == expected
    # 感冒灵颗粒 intrinsic quality: 4 in the window (2016-08 is outside it); GML1701 twice.
    assert found[("product_type", "感冒灵颗粒", "intrinsic_quality")]["count"] == 4
    assert ("batch", "感冒灵颗粒", "GML1701") in found


def test_the_dataset_hash_is_the_rows_counted(wsgi_app, review):
    (dataset,) = sql(wsgi_app, "SELECT dataset FROM reviews WHERE id = :id",
                     id=review["review_id"])[0]  # fmt: skip
    assert hashlib.sha256(dataset.encode()).hexdigest() == review["dataset_sha256"]
    rows = json.loads(dataset)
    assert [row["complaint_no"] for row in rows] == review["complaint_nos"]
    assert not any("customer" in row for row in rows)  # no personal data in a review


def _day(value):
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- the signature, with the contract's rules alone ---------------------------------------------


def canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")  # fmt: skip


def verifies(document: dict, public_key: bytes) -> bool:
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.b64decode(document["signature"]), canonical(unsigned)
        )
    except InvalidSignature:
        return False
    return True


def test_the_signature_verifies_by_the_contract_and_fails_after_one_character(wsgi_app, review):
    from archive_app.interfaces import IKeyring

    archive_key = wsgi_app.registry.getUtility(IKeyring).public_key_bytes()
    assert base64.b64decode(review["public_key"]) == archive_key
    assert verifies(review, archive_key)
    first = review["complaint_nos"][0]  # its last digit changed (a number may end in 9)
    other = "8" if first.endswith("9") else "9"
    changed = dict(review, complaint_nos=[first[:-1] + other, *review["complaint_nos"][1:]])
    assert changed != review and not verifies(changed, archive_key)
    assert not verifies(dict(review, period="2017Q4"), archive_key)


def test_the_stored_review_is_the_signed_one(api, review):
    shown = api.get(f"/api/v1/reports/reviews/{review['review_id']}", "auditor", status=404)
    assert shown.json["error"] == "not_found"  # the auditor's clearance is below "restricted"
    assert api.get(f"/api/v1/reports/reviews/{review['review_id']}", "records").json == review
    listed = api.get("/api/v1/reports/reviews", "records").json["results"]
    assert review["review_id"] in {row["review_id"] for row in listed}


# -- clearance --------------------------------------------------------------------------------


def test_an_internal_author_counts_no_dossier_above_internal(wsgi_app, filed, internal_review):
    above = {number for number, level in filed.items() if level != "internal"}
    assert internal_review["scope"] == "internal"
    assert not above & set(internal_review["complaint_nos"])
    for item in internal_review["recurrences"]:
        assert not above & set(item["complaint_nos"])
    assert internal_review["counts"] == expected_counts(wsgi_app, LEVELS["internal"], FROM, TO)
    assert internal_review["total"] == 3
    # Three 感冒灵颗粒 in 12 months for the restricted author; one in reach of the internal one.
    assert not any(item["kind"] == "product_type" for item in internal_review["recurrences"])


def test_a_reader_below_the_scope_gets_404_everywhere(api, review, internal_review):
    review_id = review["review_id"]
    for suffix in ("", ".pdf", ".xlsx"):
        assert_error(api.get(f"/api/v1/reports/reviews/{review_id}{suffix}", "auditor",
                             status=404), 404, "not_found")  # fmt: skip
    api.get(f"/reports/reviews/{review_id}", "auditor", status=404)
    listed = {row["review_id"] for row in api.get("/api/v1/reports/reviews", "auditor").json[
        "results"]}  # fmt: skip
    assert review_id not in listed and internal_review["review_id"] in listed
    api.get(f"/api/v1/reports/reviews/{internal_review['review_id']}", "auditor", status=200)


def test_issuing_reading_and_refusals_are_in_the_access_log(api, review):
    review_id = review["review_id"]
    api.get(f"/api/v1/reports/reviews/{review_id}.xlsx", "records")
    api.get(f"/api/v1/reports/reviews/{review_id}", "auditor", status=404)
    entries = set()
    for action in ("report_issue", "export", "report_view"):
        found = api.get(f"/api/v1/access-log?action={action}", "privacy").json["entries"]
        entries |= {(e["user"], e["action"], e["outcome"]) for e in found
                    if f"review {review_id}" in (e["detail"] or "")}  # fmt: skip
    assert ("archivist", "report_issue", "ok") in entries
    assert ("records", "export", "ok") in entries
    assert ("auditor", "report_view", "refused") in entries


def test_who_may_create_and_read(api, review):
    for user in ("auditor", "records", "privacy", "admin"):
        api.post_json("/api/v1/reports/reviews", {"period": PERIOD}, user, status=403)
    for user in ("privacy", "admin"):
        api.get("/api/v1/reports/reviews", user, status=403)
        api.get(f"/api/v1/reports/reviews/{review['review_id']}", user, status=403)
    api.post_json("/api/v1/reports/reviews", {"period": PERIOD}, status=401)


def test_bad_and_unfinished_periods_answer_422(api):
    for period in ("2017Q5", "17Q3", "2017-Q3", "", "1989"):
        assert_error(api.post_json("/api/v1/reports/reviews", {"period": period}, "archivist",
                                   status=422), 422, "invalid", "period")  # fmt: skip
    assert_error(api.post_json("/api/v1/reports/reviews", {}, "archivist", status=422),
                 422, "invalid", "period")  # fmt: skip
    # The archive's clock says 2026-12 or later: this year has not ended (no signed, frozen
    # figures of a period still receiving complaints).
    answer = api.post_json("/api/v1/reports/reviews", {"period": "2999"}, "archivist", status=422)
    assert_error(answer, 422, "invalid", "period")
    assert "not ended" in answer.json["detail"]


def test_a_yearly_review_has_the_four_years_before(api, filed):
    year = api.post_json("/api/v1/reports/reviews", {"period": "2017"}, "archivist").json
    assert (year["from"], year["to"]) == ("2017-01-01", "2017-12-31")
    assert [entry["period"] for entry in year["previous"]] == ["2013", "2014", "2015", "2016"]
    assert year["total"] == 6 and year["previous"][-1]["total"] == 2


# -- the workbook and the PDF -----------------------------------------------------------------


def test_the_workbook_cells_equal_the_json(api, review):
    answer = api.get(f"/api/v1/reports/reviews/{review['review_id']}.xlsx", "archivist")
    assert answer.content_type.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(answer.body), read_only=True)
    summary = {row[1]: row[2] for row in book["概要"].iter_rows(min_row=2, max_col=3,
                                                              values_only=True)}  # fmt: skip
    for key in (
        "review_id",
        "period",
        "from",
        "to",
        "issued_at",
        "author",
        "scope",
        "total",
        "dataset_sha256",
        "on_time",
        "capa_coverage",
        "public_key",
        "signature",
    ):
        assert summary[key] == review[key], key
    assert summary["time_to_close.median_days"] == review["time_to_close"]["median_days"]
    assert summary["time_to_close.p90_days"] == review["time_to_close"]["p90_days"]
    counted: dict = {}
    for period, dimension, value, count in book["统计"].iter_rows(min_row=2, values_only=True):
        counted.setdefault(period, {}).setdefault(dimension, {})[value] = count
    assert {d: v for d, v in counted[PERIOD].items()} == {
        d: v for d, v in review["counts"].items() if v}  # fmt: skip
    for entry in review["previous"]:
        assert counted.get(entry["period"], {}) == {d: v for d, v in entry["counts"].items() if v}
    recurrences = list(book["重复发生"].iter_rows(min_row=2, values_only=True))
    assert [[r[0], r[1], r[2], r[3], r[4], r[5].split(", ")] for r in recurrences] == [
        [i["kind"], i["product"], i["complaint_type"], i.get("batch_no"), i["count"],
         i["complaint_nos"]] for i in review["recurrences"]]  # fmt: skip
    control = list(book["控制图"].iter_rows(values_only=True))
    periods = list(control[0][4:])
    for row in control[1:]:
        chart = review["control_chart"][row[0]]
        assert (row[1], row[2], row[3] or "") == (
            chart["mean"],
            chart["ucl"],
            ", ".join(chart["above"]),
        )
        assert dict(zip(periods, row[4:], strict=True)) == chart["counts"]
    numbers = [row[0] for row in book["投诉编号"].iter_rows(min_row=2, values_only=True)]
    assert numbers == review["complaint_nos"]


def test_the_pdf_has_chinese_headings_and_the_recurrences_numbers(api, review):
    answer = api.get(f"/api/v1/reports/reviews/{review['review_id']}.pdf", "records")
    assert answer.content_type == "application/pdf"
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.body)).pages)
    squeezed = "".join(words.split())
    for heading in ("投诉质量回顾", "重复发生", "控制图", "按投诉类型", "按产品", "签名"):
        assert heading in squeezed, heading
    for item in review["recurrences"]:
        for number in item["complaint_nos"]:
            assert number in squeezed, number


def test_a_review_outlives_the_dossiers_it_counts(api, wsgi_app):
    """Destroyed by a run as of 2013-01-01 (due since 2012-07: nothing else filed by the tests
    is), the dossier leaves its review whole and signed; a later review leaves it out."""
    from archive_app.interfaces import IKeyring

    number = complaint_no("II", 2011)
    file_dossier(api, metadata(complaint_no=number, complaint_class="II", received_on="2011-02-01",
                               closed_on="2011-02-20", confidentiality="internal",
                               products=[{"name": "清开灵胶囊", "batch_no": "QK1102",
                                          "expiry": "2011-06"}]))  # fmt: skip
    before = api.post_json("/api/v1/reports/reviews", {"period": "2011Q1"}, "archivist").json
    assert before["complaint_nos"] == [number]
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2013-01-01", "dry_run": False},
                        "records").json  # fmt: skip
    assert number in run["destroyed"]
    kept = api.get(f"/api/v1/reports/reviews/{before['review_id']}", "records").json
    assert kept == before
    assert verifies(kept, wsgi_app.registry.getUtility(IKeyring).public_key_bytes())
    after = api.post_json("/api/v1/reports/reviews", {"period": "2011Q1"}, "archivist").json
    assert after["complaint_nos"] == [] and after["total"] == 0


def test_the_answers_fit_the_openapi_document(wsgi_app, tokens, review):
    import schemathesis
    from werkzeug.test import Client

    document = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    headers = {"Authorization": f"Bearer {tokens['records']}"}
    for path, url in (("/reports/reviews/{review_id}", f"/{review['review_id']}"),
                      ("/reports/reviews", "")):  # fmt: skip
        answer = Client(wsgi_app).get(f"/api/v1/reports/reviews{url}", headers=headers)
        assert answer.status_code == 200
        document[path]["GET"].validate_response(answer)  # raises on a misfit
