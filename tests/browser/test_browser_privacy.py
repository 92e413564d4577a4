"""A privacy officer reviews who saw a dossier, a user's timeline, and exports the log."""

from __future__ import annotations

import pytest
from factories import file_dossier
from support import sign_in_page, submit

pytestmark = pytest.mark.browser


def test_privacy_officer_reviews_the_log(page, live_server, api, tmp_path):
    dossier = file_dossier(api).json
    api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor")

    sign_in_page(page, live_server, "privacy", locale="en")
    submit(page, "nav >> text=Access log")
    assert "The chain verifies" in page.content()

    page.fill("form.filters input[name=dossier_id]", dossier["id"])
    submit(page, "form.filters button")
    rows = page.locator("table.log tbody tr")
    users = {rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())}
    assert {"archivist", "auditor"} <= users

    with page.expect_navigation():  # the user's timeline
        page.locator("table.log a", has_text="auditor").first.click()
    assert "user=auditor" in page.url
    with page.expect_download() as download_info:
        page.click("text=Export CSV")
    saved = tmp_path / "log.csv"
    download_info.value.save_as(str(saved))
    assert saved.read_text(encoding="utf-8").startswith("seq,at,user,role,action,outcome")
