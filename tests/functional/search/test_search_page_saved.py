"""Saved searches: saved from the search page under a name, listed there and on
/search/saved, run from their link, deleted; each user sees and deletes only their own."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from factories import complaint_no, file_dossier, metadata

from archive_app.search.saved import saved_searches_of

# Run on the Whoosh backend only: conftest.py whoosh_backend_only says why.
pytestmark = pytest.mark.usefixtures("whoosh_backend_only")

WORD = "存档检索专用词"


def test_a_saved_search_is_listed_run_and_deleted_by_its_owner_only(api, dbsession):
    numbers = [complaint_no(cls) for cls in ("I", "II")]
    for number, cls in zip(numbers, ("I", "II"), strict=True):
        file_dossier(api, metadata(complaint_no=number, complaint_class=cls,
                                   confidentiality="internal", summary=f"{WORD}。"))  # fmt: skip
    page = api.get(f"/search?q={quote(WORD)}&complaint_class=II&page=1", "archivist_internal")
    form = page.forms["save-search"]
    form["name"] = "二类的存档检索"
    listing = form.submit(status=303).follow()
    assert "检索已保存。" in listing.text and "二类的存档检索" in listing.text
    run = re.search(r'<a href="([^"]+)" class="run">二类的存档检索</a>', listing.text)
    assert run and "page=" not in run[1]  # the search, not the page one was on
    found = api.get(run[1].replace("&amp;", "&").replace("http://localhost", ""),
                    "archivist_internal")  # fmt: skip
    assert "<strong>1</strong>" in found.text and numbers[1] in found.text
    assert numbers[0] not in found.text
    assert "我保存的检索" in found.text and "二类的存档检索" in found.text  # on the search page
    [saved] = [s for s in saved_searches_of(dbsession, "archivist_internal")
               if s.name == "二类的存档检索"]  # fmt: skip
    assert saved.query_string == f"q={quote(WORD)}&complaint_class=II"
    # Another user neither sees it nor deletes it.
    assert "二类的存档检索" not in api.get("/search/saved", "auditor").text
    assert "二类的存档检索" not in api.get(f"/search?q={quote(WORD)}", "auditor").text
    assert all(s.name != "二类的存档检索" for s in saved_searches_of(dbsession, "auditor"))
    api.post(f"/search/saved/{saved.id}/delete", "auditor", status=404)
    assert "二类的存档检索" in api.get("/search/saved", "archivist_internal").text
    api.post(f"/search/saved/{saved.id}/delete", "archivist_internal", status=303)
    assert "二类的存档检索" not in api.get("/search/saved", "archivist_internal").text
    api.post(f"/search/saved/{saved.id}/delete", "archivist_internal", status=404)


def test_a_search_is_saved_only_with_a_name_and_a_search(api):
    query = f"q={quote(WORD)}"
    nameless = api.post("/search/saved", "auditor", params={"name": "  ", "query": query},
                        status=422)  # fmt: skip
    assert "请为检索起一个名称。" in nameless.text
    empty = api.post("/search/saved", "auditor", params={"name": "空", "query": "page=2"},
                     status=422)  # fmt: skip
    assert "只有包含检索词或筛选条件的检索才能保存。" in empty.text
    unreadable = "q=x&received_from=yesterday"
    api.post("/search/saved", "auditor", params={"name": "坏的", "query": unreadable},
             status=422)  # fmt: skip
    reversed_dates = "received_from=2023-02-01&received_to=2023-01-01"
    api.post("/search/saved", "auditor", params={"name": "反", "query": reversed_dates},
             status=422)  # fmt: skip
    assert "坏的" not in api.get("/search/saved", "auditor").text
    # Signed out, or in a role that does not search, there is no saving.
    api.app.get("/search/saved", status=303)
    api.get("/search/saved", "privacy", status=403)
