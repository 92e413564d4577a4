"""Search through the API: recall on Chinese substrings, exact batches, facets, trimming."""

from __future__ import annotations

import subprocess
from urllib.parse import quote

import pytest
from factories import complaint_no, complete_files, file_dossier, metadata
from support import PASSWORD, StepClock, assert_error, costly

from archive_app.demo.documents import make_pdf
from archive_app.interfaces import ISearchService
from archive_app.search import engine


def file(api, *, level="internal", product="阿莫西林胶囊", batch="20230512", title=None,
         text="胶囊溶出度检验报告", cls="I", year=2023, expiry="2030-06"):  # fmt: skip
    meta = metadata(
        complaint_no=complaint_no(cls, year), complaint_class=cls,
        received_on=f"{year}-05-12", closed_on=f"{year}-07-03", confidentiality=level,
        title=title or f"{product}投诉",
        products=[{"name": product, "batch_no": batch, "expiry": expiry}],
    )  # fmt: skip
    files = [item for item in complete_files() if item[0] != "investigation_report"]
    files.append(("investigation_report", "report.pdf", make_pdf("调查报告", [text])))
    return file_dossier(api, meta, files).json


def encoded(query: str) -> str:
    return quote(query, safe="=&%")


def search(api, query, user="archivist", status=200):
    return api.get(f"/api/v1/search?{encoded(query)}", user, status=status).json


@pytest.fixture(scope="module")
def corpus(search_app, tokens):
    import webtest
    from conftest import Api

    api = Api(webtest.TestApp(search_app), tokens)
    return {
        "amox": file(api, product="阿莫西林胶囊", batch="SRCH230512", text="独特检验词甲乙 溶出度"),
        "cef": file(api, product="头孢克肟分散片", batch="SRCH240108", cls="II", year=2024,
                    level="confidential", text="外箱压损照片"),
        "secret": file(api, product="布洛芬缓释胶囊", batch="SRCH250101", cls="III", year=2025,
                       level="restricted", text="机密标记丙丁"),
    }  # fmt: skip


def ids(body):
    return {result["id"] for result in body["results"]}


def test_chinese_word_inside_longer_words_and_document_text(api, corpus):
    assert corpus["amox"]["id"] in ids(search(api, "q=阿莫西林"))
    assert corpus["amox"]["id"] in ids(search(api, "q=独特检验词"))  # from the PDF's text
    assert corpus["cef"]["id"] in ids(search(api, "q=压损"))


def test_exact_batch_with_no_partial_hits(api, corpus):
    assert ids(search(api, "batch_no=SRCH230512")) == {corpus["amox"]["id"]}
    assert ids(search(api, "batch_no=SRCH23051")) == set()


def test_product_filter_and_date_range(api, corpus):
    found = ids(search(api, "product=头孢"))
    assert corpus["cef"]["id"] in found and corpus["amox"]["id"] not in found
    body = search(api, "batch_no=SRCH240108&received_from=2024-01-01&received_to=2024-12-31")
    assert ids(body) == {corpus["cef"]["id"]}
    assert search(api, "batch_no=SRCH240108&received_to=2023-12-31")["total"] == 0


def test_clearance_trims_hits_totals_and_facets(api, corpus):
    full = search(api, "q=机密标记", "archivist")
    assert ids(full) == {corpus["secret"]["id"]} and full["total"] == 1
    assert full["facets"]["complaint_class"] == {"III": 1}
    trimmed = search(api, "q=机密标记", "auditor")  # clearance confidential < restricted
    assert trimmed["total"] == 0 and trimmed["results"] == []
    assert all(counts == {} for counts in trimmed["facets"].values())
    broad = search(api, "q=投诉&per_page=100", "auditor")
    assert corpus["secret"]["id"] not in ids(broad)
    assert sum(broad["facets"]["complaint_class"].values()) == broad["total"]


def test_facets_agree_with_totals(api, corpus):
    body = search(api, "q=投诉&per_page=5")
    assert sum(body["facets"]["complaint_class"].values()) == body["total"]
    assert sum(body["facets"]["year"].values()) == body["total"]
    assert len(body["results"]) <= 5 and body["per_page"] == 5


def test_results_are_summaries_with_highlights(api, corpus):
    result = next(r for r in search(api, "q=头孢克肟")["results"] if r["id"] == corpus["cef"]["id"])
    assert set(result) >= {
        "id",
        "complaint_no",
        "complaint_class",
        "complaint_type",
        "title",
        "received_on",
        "closed_on",
        "state",
        "confidentiality",
        "products",
    }
    assert result["products"] == [{"name": "头孢克肟分散片", "batch_no": "SRCH240108"}]
    assert "<mark" in result["highlights"]["title"]


@pytest.mark.parametrize("query", ["q=" + "阿" * 10_000, "q=((((", 'q="unbalanced', "q=*moxi",
                                   "q=title:x%20OR", "q=a%00b"])  # fmt: skip
def test_hostile_queries_never_fail_the_server(api, corpus, query):
    response = api.get(f"/api/v1/search?{encoded(query)}", "archivist", expect_errors=True)
    assert response.status_int in (200, 422)
    if response.status_int == 422:
        assert_error(response, 422, "invalid", "q")


def test_bad_parameters(api):
    assert_error(api.get("/api/v1/search?per_page=101", "archivist", status=422), 422,
                 "invalid", "per_page")  # fmt: skip
    api.get("/api/v1/search?received_from=yesterday", "archivist", status=422)
    api.get("/api/v1/search?q=x", "privacy", status=403)
    api.get("/api/v1/search?q=x", None, status=401)


def test_searches_are_logged_with_terms_and_counts(api, corpus):
    search(api, "q=头孢克肟&batch_no=SRCH240108", "auditor")
    entries = api.get("/api/v1/access-log?action=search&user=auditor", "privacy").json["entries"]
    assert any("头孢克肟" in e["detail"] and "SRCH240108" in e["detail"] and "1 results"
               in e["detail"] for e in entries)  # fmt: skip


def test_index_folder_deleted_is_rebuilt(api, corpus, storage, whoosh_only):
    import shutil

    shutil.rmtree(storage / "index")
    # The next filing or search rebuilds it from the database and blobs.
    assert corpus["amox"]["id"] in ids(search(api, "q=阿莫西林"))


def test_destroyed_dossier_leaves_no_term_in_the_index(api, storage):
    marker = "索引残留标记戊己"
    dossier = file(api, product="复方甘草片", batch="SRCHPURGE1", text=marker, year=2019,
                   expiry="2019-06")  # fmt: skip
    assert search(api, f"q={marker}")["total"] == 1
    run = api.post_json("/api/v1/retention/runs", {"as_of": "2021-01-01", "dry_run": False},
                        "records", status=201).json  # fmt: skip
    assert dossier["complaint_no"] in run["destroyed"], (run, dossier["destroy_after"])
    after = search(api, f"q={marker}")
    assert after["total"] == 0, (after, dossier["id"])
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor", status=410)
    found = subprocess.run(["grep", "-rl", "SRCHPURGE1".lower(), str(storage / "index")],
                           capture_output=True, text=True)  # fmt: skip
    assert found.stdout == ""


def test_spreadsheet_and_email_text_is_searchable(api):
    from datetime import datetime

    from archive_app.demo.documents import make_eml, make_xlsx

    meta = metadata(complaint_no=complaint_no("I", 2023))
    files = complete_files() + [
        ("attachment", "检验数据.xlsx", make_xlsx("检验数据", [["项目"], ["表格独有词庚辛"]])),
        ("attachment", "mail.eml", make_eml("来信", "a@example.com", "b@example.com",
                                            "邮件独有词壬癸", datetime(2023, 5, 1))),
    ]  # fmt: skip
    dossier = file_dossier(api, meta, files).json
    assert ids(search(api, "q=表格独有词庚辛")) == {dossier["id"]}
    assert ids(search(api, "q=邮件独有词壬癸")) == {dossier["id"]}


def test_a_query_past_the_time_limit_answers_query_too_costly(whoosh_only, api, app, corpus,
                                                              search_app, monkeypatch):  # fmt: skip
    build, clock = engine.build_query, StepClock()
    monkeypatch.setattr(engine, "build_query", lambda query: costly(build(query), clock))
    index = search_app.registry.getUtility(ISearchService)
    monkeypatch.setattr(index, "monotonic", clock)
    monkeypatch.setattr(index, "query_timeout", 0.02)
    response = api.get("/api/v1/search?q=" + quote("投诉"), "archivist", status=422)
    assert_error(response, 422, "query_too_costly", "q")
    assert "0.02 s" in response.json["detail"]
    form = app.get("/login").forms[0]
    form["username"], form["password"] = "auditor", PASSWORD
    form.submit(status=303)
    page = app.get("/search?q=" + quote("投诉"), status=422)
    assert "检索耗时过长" in page.text  # the page says it in its language
