"""A privacy officer reviews who saw a dossier, a user's timeline, and exports the log."""

from __future__ import annotations

import pytest
from factories import file_dossier
from support import PASSWORD

pytestmark = pytest.mark.browser


def test_privacy_officer_reviews_the_log(page, live_server, api, tmp_path):
    dossier = file_dossier(api).json
    api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor")

    page.goto(f"{live_server}/login?_LOCALE_=en")
    page.fill("input[name=username]", "privacy")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Access log")
    assert "The chain verifies" in page.content()

    page.fill("form.filters input[name=dossier_id]", dossier["id"])
    page.click("form.filters button")
    rows = page.locator("table.log tbody tr")
    users = {rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())}
    assert {"archivist", "auditor"} <= users

    page.locator("table.log a", has_text="auditor").first.click()  # the user's timeline
    assert "user=auditor" in page.url
    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    saved = tmp_path / "log.csv"
    download_info.value.save_as(str(saved))
    assert saved.read_text(encoding="utf-8").startswith("seq,at,user,role,action,outcome")
