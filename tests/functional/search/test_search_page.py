"""The search page: a hint before searching, results with highlights and facets after."""

from __future__ import annotations

import re
from urllib.parse import quote

from factories import file_dossier, metadata
from support import PASSWORD


def test_search_page(app, api, users):
    dossier = file_dossier(api, metadata(title="板蓝根颗粒结块投诉")).json
    form = app.get("/login").forms[0]
    form["username"], form["password"] = "auditor", PASSWORD
    form.submit(status=303)
    empty = app.get("/search")
    assert 'class="hint"' in empty.text
    page = app.get("/search?q=" + quote("结块"))
    assert dossier["complaint_no"] in page.text
    # the facets by their names and values in Chinese, never the codes
    shown = re.sub(r"<[^>]*>", " ", page.text)  # the text, without links' query strings
    assert "<mark" in page.text and "投诉类别" in shown and "complaint_class" not in shown
    nothing = app.get("/search?q=" + quote("不存在的词语组合"))
    assert "<strong>0</strong>" in nothing.text
    app.get("/search?q=x&per_page=1000", status=422)
