"""Setting up a second factor in a real browser: the QR code and the key on /account, the
first code, the recovery codes shown once, then a sign-in that asks for a code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import webtest
from support import PASSWORD, add_users, submit

from archive_app.access.second_factor import code_at, step_at

pytestmark = pytest.mark.browser


def test_enrol_a_second_factor_and_sign_in_with_it(page, live_server, wsgi_app):
    add_users(webtest.TestApp(wsgi_app), {"browser_factor": ("auditor", "internal")})
    page.goto(f"{live_server}/login?_LOCALE_=en")
    page.fill("input[name=username]", "browser_factor")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "form.login button[type=submit]")
    page.goto(f"{live_server}/account?_LOCALE_=en")
    submit(page, "#start-factor button")
    assert page.locator("#enrolment-qr svg").is_visible()
    secret = page.inner_text("#enrolment-secret").strip()
    step = step_at(datetime.now(UTC))
    page.fill("#confirm-code", code_at(secret, step))
    submit(page, "#confirm-factor button")
    assert page.locator("#recovery-codes li").count() == 10

    submit(page, "header form.logout button")
    page.fill("input[name=username]", "browser_factor")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "form.login button[type=submit]")
    assert page.url.startswith(f"{live_server}/login/code")
    page.fill("#code", code_at(secret, step + 1))  # this step's code is used up
    submit(page, "#login-code button")
    assert page.url == f"{live_server}/"
