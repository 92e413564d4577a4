"""Signing out is a button on every page; it ends the session, and the back button does not
bring it back."""

from __future__ import annotations

import pytest
from support import PASSWORD

pytestmark = pytest.mark.browser


def test_the_sign_out_button_ends_the_session(page, live_server):
    page.goto(f"{live_server}/login?_LOCALE_=en")
    page.fill("input[name=username]", "auditor")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "archive_session")

    page.goto(f"{live_server}/search")
    page.click("header form.logout button")
    page.wait_for_url(f"{live_server}/login")
    page.goto(f"{live_server}/search")
    assert page.url.startswith(f"{live_server}/login")

    # The old cookie, put back by hand (as a thief would), signs nobody in either.
    page.context.add_cookies([cookie])
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
