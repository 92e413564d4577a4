"""The admins' accounts page (issue 12 item 8): the list, creating, changing role and
clearance, deactivating and reactivating through the account service's rules, refusals
beside their fields, and nobody else let in."""

from __future__ import annotations

import itertools

import pytest
import webtest
from support import PASSWORD, sign_in

from archive_app.access.permissions import Role

_names = itertools.count(1)


def new_name(prefix: str = "page") -> str:
    return f"{prefix}_{next(_names)}_user"


def admin_page(api, locale: str = "en"):
    return api.get(f"/users?_LOCALE_={locale}", "admin")


def create(api, username, role="auditor", clearance="confidential", password=PASSWORD,
           status=200):  # fmt: skip
    form = admin_page(api).forms["create-user"]
    form["username"], form["role"], form["clearance"] = username, role, clearance
    form["password"] = password
    return form.submit(status=status)


def row_form(page, username: str, kind: str):
    """The `change` or `activity` form of a user's row."""
    for form in page.forms.values():
        names = form.fields
        if form.id is None and "username" in names and form["username"].value == username:
            if (kind == "change") == ("role" in names):
                return form
    raise AssertionError(f"no {kind} form for {username}")


def api_user(api, username: str) -> dict:
    users = api.get("/api/v1/users", "admin").json["results"]
    return next(user for user in users if user["username"] == username)


@pytest.mark.parametrize("user", ["archivist", "auditor", "privacy", "records"])
def test_only_admins_see_the_page(api, user):
    api.get("/users", user, status=403)
    api.post("/users", user, params={"action": "create", "username": new_name()}, status=403)


def test_signed_out_the_page_asks_to_sign_in(app):
    answer = app.get("/users", status=303)
    assert "/login?next=%2Fusers" in answer.headers["Location"]


def test_the_list_shows_each_account_in_words(api):
    api.get("/", "auditor")  # a sign-in the list shows
    page = admin_page(api)
    row = page.html.select_one("tr#user-auditor").get_text(" ")
    assert "Auditor" in row and "Confidential" in row and "Yes" in row
    assert "Asia/Shanghai" in row  # the last sign-in, in the archive's zone
    assert "auditor" in [option["value"] for option in page.html.select("#new-role option")]
    chinese = admin_page(api, "zh_CN").html.select_one("tr#user-auditor").get_text(" ")
    assert "审计" in chinese and "Auditor" not in chinese


def test_create_an_account_that_can_sign_in(api, wsgi_app):
    name = new_name()
    answer = create(api, name)
    assert f"Account {name} created." in answer.html.select_one("#users-message").get_text()
    expected = {"username": name, "full_name": None, "role": "auditor",
                "clearance": "confidential", "active": True, "must_change_password": False,
                "second_factor": False, "source": "local"}  # fmt: skip
    created = api_user(api, name)
    assert {key: created[key] for key in expected} == expected
    sign_in(wsgi_app, name)  # 303 to home
    logged = api.get("/api/v1/access-log?action=user_add&user=admin", "privacy").json
    assert any(name in (entry["detail"] or "") for entry in logged["entries"])


def test_refusals_are_shown_beside_their_fields(api):
    short = create(api, new_name(), password="short", status=422)
    assert "At least 12 characters" in short.html.select_one("#password-error").get_text()
    taken = create(api, "AUDITOR", status=409)  # names are the same whatever their case
    assert "taken" in taken.html.select_one("#username-error").get_text()
    assert taken.forms["create-user"]["username"].value == "AUDITOR"  # what was typed stays
    bad = create(api, "no spaces allowed", status=422)
    assert bad.html.select_one("#username-error") is not None
    chinese = api.post("/users?_LOCALE_=zh_CN", "admin", params={
        "action": "create", "username": new_name(), "role": "auditor", "password": "short"},
        status=422)  # fmt: skip
    assert "12" in chinese.html.select_one("#password-error").get_text()
    assert "At least" not in chinese.text


def test_change_role_and_clearance(api):
    name = new_name()
    create(api, name)
    form = row_form(admin_page(api), name, "change")
    form["role"], form["clearance"] = "records_manager", "restricted"
    answer = form.submit()
    assert f"Changes to {name} saved." in answer.text
    user = api_user(api, name)
    assert (user["role"], user["clearance"]) == ("records_manager", "restricted")
    logged = api.get("/api/v1/access-log?action=user_change", "privacy").json["entries"]
    assert any(entry["detail"].startswith(f"user {name}: role auditor -> records_manager")
               for entry in logged)  # fmt: skip


def test_deactivate_ends_the_users_sessions_and_reactivate_restores_sign_in(api, wsgi_app):
    name = new_name()
    create(api, name)
    theirs = sign_in(wsgi_app, name)
    theirs.get("/", status=200)
    answer = row_form(admin_page(api), name, "activity").submit("action", value="deactivate")
    assert "deactivated" in answer.text and api_user(api, name)["active"] is False
    theirs.get("/", status=303)  # the session died with the deactivation
    refused = webtest.TestApp(wsgi_app).get("/login").forms[0]
    refused["username"], refused["password"] = name, PASSWORD
    refused.submit(status=400)
    page = admin_page(api)
    assert "Reactivate" in page.html.select_one(f"tr#user-{name}").get_text()
    row_form(page, name, "activity").submit("action", value="reactivate")
    assert api_user(api, name)["active"] is True
    sign_in(wsgi_app, name)


def test_an_admin_cannot_demote_or_deactivate_themselves(api):
    page = admin_page(api)
    form = row_form(page, "admin", "change")
    form["role"] = "auditor"
    refused = form.submit(status=403)
    message = refused.html.select_one("tr#user-admin .error").get_text()
    assert "You cannot change your own role" in message
    assert api_user(api, "admin")["role"] == Role.ADMIN
    refused = row_form(page, "admin", "activity").submit("action", value="deactivate",
                                                         status=403)  # fmt: skip
    assert "You cannot deactivate yourself" in refused.html.select_one("tr#user-admin").text
    assert api_user(api, "admin")["active"] is True


def test_forms_without_the_csrf_token_are_refused(api):
    browser = api.browser("admin")
    browser.post("/users", {"action": "create", "username": new_name(), "role": "auditor",
                            "password": PASSWORD}, status=400)  # fmt: skip
