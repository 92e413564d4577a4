"""An admin's day in the browser, in Chinese: open the accounts page from the menu, create an
account, change its role and clearance, be refused demoting oneself, deactivate and
reactivate the account; and a bookmarked page is where signing in leads."""

from __future__ import annotations

import pytest
from support import PASSWORD, screenshot_folder, sign_in_page, submit

pytestmark = pytest.mark.browser


def row(page, username: str):
    return page.locator(f"tr#user-{username}")


def test_admin_manages_accounts(page, live_server, tmp_path):
    sign_in_page(page, live_server, "admin")
    submit(page, "nav >> text=账户")
    assert page.url == f"{live_server}/users"
    assert "审计员" in row(page, "auditor").inner_text()

    page.fill("#new-username", "browser_new")
    page.select_option("#new-role", "auditor")
    page.select_option("#new-clearance", "confidential")
    page.fill("#new-password", "short")
    page.evaluate("document.querySelector('#new-password').removeAttribute('minlength')")
    submit(page, "#create-user button[type=submit]")
    assert page.locator("#password-error").is_visible()  # beside its field, in Chinese
    assert "12" in page.locator("#password-error").inner_text()
    assert page.input_value("#new-username") == "browser_new"  # what was typed stays

    page.fill("#new-password", PASSWORD)
    submit(page, "#create-user button[type=submit]")
    assert "browser_new" in page.locator("#users-message").inner_text()
    assert "机密" in row(page, "browser_new").inner_text()

    row(page, "browser_new").locator("select[name=role]").select_option("records_manager")
    row(page, "browser_new").locator("select[name=clearance]").select_option("restricted")
    submit(page, "tr#user-browser_new form.change button")
    assert "档案主管" in row(page, "browser_new").inner_text()
    assert "已保存" in page.locator("#users-message").inner_text()

    row(page, "admin").locator("select[name=role]").select_option("auditor")
    submit(page, "tr#user-admin form.change button")
    assert "您不能修改自己的角色" in row(page, "admin").locator(".error").inner_text()
    assert "管理员" in row(page, "admin").inner_text()  # unchanged

    submit(page, "tr#user-browser_new form.activity button")
    assert row(page, "browser_new").locator("button[value=reactivate]").is_visible()
    page.screenshot(path=str(screenshot_folder(tmp_path) / "users.png"), full_page=True)
    submit(page, "tr#user-browser_new form.activity button")
    assert row(page, "browser_new").locator("button[value=deactivate]").is_visible()


def test_signing_in_leads_to_the_bookmarked_page(page, live_server):
    page.goto(f"{live_server}/search?q=x&_LOCALE_=en")
    assert "/login?next=" in page.url
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "form.login button[type=submit]")
    assert page.url.startswith(f"{live_server}/search?q=x")
