"""A privacy officer's access review in the browser, in Chinese: open it from the menu, be
refused signing off without the password, sign it off with it and see it kept."""

from __future__ import annotations

import pytest
from support import PASSWORD, screenshot_folder, sign_in_page, submit

pytestmark = pytest.mark.browser


def test_privacy_officer_signs_the_access_review_off(page, live_server, tmp_path):
    sign_in_page(page, live_server, "privacy")
    submit(page, "nav >> text=访问权限评审")
    assert page.url == f"{live_server}/users/review"
    assert "审计员" in page.locator("tr#review-auditor").inner_text()

    submit(page, "form.sign-off button[type=submit]")
    assert "电子签名" in page.locator("#review-error").inner_text()

    page.fill("form.sign-off input[name=signature_password]", PASSWORD)
    assert page.input_value("form.sign-off select[name=signature_meaning]") == "access_review"
    submit(page, "form.sign-off button[type=submit]")
    assert page.url == f"{live_server}/users/review"
    signed = page.locator("ul.past-reviews").inner_text()
    assert "privacy" in signed and "访问权限评审" in signed
    page.screenshot(path=str(screenshot_folder(tmp_path) / "access-review.png"), full_page=True)
