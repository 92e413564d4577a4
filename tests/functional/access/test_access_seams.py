"""Bearer-only API, CSRF on every page, sessions that end on the server, and accounts that
cannot be doubled or orphaned (issue 10, items 3, 9 and 10)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
import webtest
from alembic import command
from alembic.config import Config
from factories import complete_files, file_dossier, metadata, metadata_part
from plaster import get_settings
from support import PASSWORD, TESTING_INI, USERS, assert_error, make_cli_env, run_cli

from archive_app import main
from archive_app.access.policy import accounts_for
from archive_app.errors import ArchiveError

REMOTE = {"REMOTE_ADDR": "192.0.2.10"}
LOOKUP = "/api/v1/dossiers?complaint_no=TS-I-23-999"  # any reader may ask; none is found


def sign_in(wsgi_app, username: str) -> webtest.TestApp:
    browser = webtest.TestApp(wsgi_app, extra_environ=REMOTE)
    form = browser.get("/login").forms[0]
    form["username"], form["password"] = username, PASSWORD
    form.submit(status=303)
    return browser


def replaying(wsgi_app, cookie: str) -> webtest.TestApp:
    """Another client that sends a captured session cookie."""
    thief = webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "203.0.113.9"})
    thief.set_cookie("archive_session", cookie)
    return thief


def signed_out(response) -> bool:
    return response.status_int == 303 and "/login" in response.headers["Location"]


def usernames(api) -> set[str]:
    return {u["username"] for u in api.get("/api/v1/users", "admin").json["results"]}


# -- item 3: bearer-only API ----------------------------------------------------------


def test_a_page_on_another_origin_cannot_create_an_admin_through_the_cookie(wsgi_app, api):
    """What a page on another port does: a text/plain POST (no preflight) that the browser
    sends with the signed-in admin's cookie."""
    browser = sign_in(wsgi_app, "admin")
    body = json.dumps({"username": "intruder", "role": "admin", "password": PASSWORD})
    refused = browser.post("/api/v1/users", body, content_type="text/plain", status=401)
    assert_error(refused, 401, "unauthorized")
    assert "intruder" not in usernames(api)


def test_a_session_cookie_never_authenticates_an_api_call(wsgi_app, api):
    browser = sign_in(wsgi_app, "admin")
    assert browser.get("/", status=200)  # signed in, for pages
    assert_error(browser.get("/api/v1/users", status=401), 401, "unauthorized")
    archivist = sign_in(wsgi_app, "archivist")
    archivist.get(LOOKUP, status=401)
    filed = archivist.post("/api/v1/dossiers", params=[metadata_part(metadata())],
                           upload_files=complete_files(), status=401)  # fmt: skip
    assert_error(filed, 401, "unauthorized")


def test_json_bodies_must_say_they_are_json(api):
    body = json.dumps({"username": "plainly", "role": "auditor", "password": PASSWORD})
    for kind in ("text/plain", "application/x-www-form-urlencoded", None):
        answer = api.app.post("/api/v1/users", body, headers=api.headers("admin"),
                              content_type=kind, status=415)  # fmt: skip
        assert_error(answer, 415, "unsupported_media_type", None)
    token = api.app.post(
        "/api/v1/auth/token",
        json.dumps({"username": "auditor", "password": PASSWORD}),
        content_type="text/plain",
        status=415,
    )
    assert_error(token, 415, "unsupported_media_type", None)
    assert "plainly" not in usernames(api)
    api.app.post("/api/v1/users", body, headers=api.headers("admin"),
                 content_type="application/json; charset=utf-8", status=201)  # fmt: skip


# -- item 3: CSRF on every page -------------------------------------------------------


def unsafe_page_routes(registry) -> list[tuple[str, str]]:
    """(route name, pattern) of every route outside the API with a view taking POST."""
    introspector = registry.introspector
    found = []
    for route in introspector.get_category("routes"):
        pattern, name = route["introspectable"]["pattern"], route["introspectable"]["name"]
        if pattern.startswith("/api/v1") or name.startswith("__"):  # the API; static files
            continue
        for view in route["related"]:
            wanted = view["request_methods"] if view.category_name == "views" else ()
            wanted = (wanted,) if isinstance(wanted, str) else wanted
            if wanted is None or "POST" in wanted:
                found.append((name, pattern))
                break
    return found


def test_every_unsafe_page_request_needs_the_csrf_token(wsgi_app, api, tokens):
    dossier = file_dossier(api).json
    values = {"dossier_id": dossier["id"], "document_id": dossier["documents"][0]["id"],
              "saved_id": "999999", "review_id": "0" * 32}  # fmt: skip
    browsers = {name: sign_in(wsgi_app, name) for name in USERS}
    routes = unsafe_page_routes(wsgi_app.registry)
    assert {"access.login", "access.logout", "records.new", "retention.page"} <= {
        name for name, _ in routes}  # fmt: skip
    for name, pattern in routes:
        url = pattern.format(**values)  # a KeyError here: add a value for the new placeholder
        refused_for_csrf = []
        for user, browser in browsers.items():
            # A bearer token beside the cookie changes nothing: pages know only the session.
            for headers in ({}, {"Authorization": f"Bearer {tokens[user]}"}):
                answer = browser.post(url, {"action": "run", "reason": "x"}, headers=headers,
                                      expect_errors=True)  # fmt: skip
                assert answer.status_int in (400, 403, 404), (name, user, headers, answer.status)
                if answer.status_int == 400 and "表单已过期" in answer.text:  # zh-CN page
                    refused_for_csrf.append(user)
        assert refused_for_csrf, f"{name}: no signed-in user was refused for the CSRF token"
    assert browsers["archivist"].get("/", status=200)  # still signed in: nothing happened


# -- item 3: logout ends the session on the server -----------------------------------


def test_logout_is_a_post_and_a_replayed_cookie_signs_nobody_in(wsgi_app, users):
    browser = sign_in(wsgi_app, "auditor")
    cookie = browser.cookies["archive_session"]
    confirm = browser.get("/logout", status=200)  # a bookmarked link: a page with the button
    assert replaying(wsgi_app, cookie).get("/", status=200)  # GET signed nobody out
    form = next(f for f in confirm.forms.values() if f.action.endswith("/logout"))
    assert signed_out(form.submit())
    assert signed_out(browser.get("/"))
    assert signed_out(replaying(wsgi_app, cookie).get("/search"))
    assert signed_out(replaying(wsgi_app, cookie).get("/"))


def test_the_sign_out_button_on_every_page_posts_with_the_token(wsgi_app, users):
    browser = sign_in(wsgi_app, "archivist")
    home = browser.get("/", status=200)
    form = next(f for f in home.forms.values() if f.action.endswith("/logout"))
    assert form.method.lower() == "post" and form["csrf_token"].value
    cookie = browser.cookies["archive_session"]
    assert signed_out(form.submit())
    assert signed_out(replaying(wsgi_app, cookie).get("/"))


def test_an_idle_session_ends_on_the_server(wsgi_app, clock_at):
    browser = sign_in(wsgi_app, "archivist")
    cookie = browser.cookies["archive_session"]
    clock_at(timedelta(minutes=29))
    assert replaying(wsgi_app, cookie).get("/", status=200)
    clock_at(timedelta(minutes=29 + 31))  # 31 minutes after the last use, 30 allowed
    assert signed_out(replaying(wsgi_app, cookie).get("/"))
    assert signed_out(browser.get("/"))


def test_a_session_in_use_still_ends_after_its_lifetime(wsgi_app, clock_at):
    browser = sign_in(wsgi_app, "archivist")
    for step in range(1, 29):  # used every 25 minutes: never idle, for 11 h 40 min
        clock_at(timedelta(minutes=25 * step))
        assert browser.get("/", status=200)
    clock_at(timedelta(minutes=25 * 29))  # 12 h 5 min after signing in
    assert signed_out(browser.get("/"))


# -- item 9: accounts -----------------------------------------------------------------


def test_user_names_are_unique_whatever_their_case_and_clean(api, app):
    def add(name, status):
        body = {"username": name, "role": "auditor", "password": PASSWORD}
        return api.post_json("/api/v1/users", body, "admin", status=status)

    for taken in ("ADMIN", "Admin", "aRcHiViSt"):
        answer = add(taken, 409)
        assert_error(answer, 409, "conflict", "username")
    for unclean in ("admin\n", "newname\n", " spaced", "spaced ", "tab\tname", "bell\x07",
                    "zero\x00", "ad\u200bmin"):  # fmt: skip
        answer = add(unclean, 422)
        assert_error(answer, 422, "invalid", "username")
    names = usernames(api)
    assert len({name.lower() for name in names}) == len(names)
    assert not [name for name in names if name != name.strip()]

    # Sign-in by name ignores case; the stored spelling is the one that is logged.
    token = app.post_json("/api/v1/auth/token", {"username": "AUDITOR", "password": PASSWORD},
                          status=200).json["token"]  # fmt: skip
    app.get(LOOKUP, headers={"Authorization": f"Bearer {token}"}, status=200)
    logins = api.get("/api/v1/access-log?action=login", "privacy").json["entries"]
    assert logins[0]["user"] == "auditor"


def test_the_database_refuses_names_differing_only_in_case(users, dbsession):
    from archive_app.access.models import User

    created = dbsession.get(User, 1).created_at
    dbsession.add(User(username="AdMiN", password_hash="x", role="admin", clearance="internal",
                       active=True, created_at=created))  # fmt: skip
    with pytest.raises(sa.exc.IntegrityError):
        dbsession.flush()


def test_the_migration_refuses_clearly_when_names_already_collide(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path}/old.sqlite")
    config = Config(TESTING_INI)
    config.attributes["skip_logging"] = True
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_index_queue")
        for name in ("wang", "WANG", "li", "zhao", "zhao\n"):
            connection.execute(sa.text(
                "INSERT INTO users (username, password_hash, role, clearance, active, created_at)"
                " VALUES (:name, 'x', 'auditor', 'internal', 1, '2026-01-01 00:00:00')"),
                {"name": name})  # fmt: skip
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        with pytest.raises(RuntimeError, match="letter case.*'wang', 'zhao'"):
            command.upgrade(config, "head")
    engine.dispose()


def test_an_admin_cannot_demote_or_deactivate_themselves(api):
    for change, field in (({"role": "auditor"}, "role"), ({"active": False}, "active")):
        answer = api.app.patch_json("/api/v1/users/admin", change, headers=api.headers("admin"),
                                    status=403)  # fmt: skip
        assert_error(answer, 403, "forbidden", field)
    mine = next(u for u in api.get("/api/v1/users", "admin").json["results"]
                if u["username"] == "admin")  # fmt: skip
    assert mine["role"] == "admin" and mine["active"] is True


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(users, dbsession,
                                                                 script_request):  # fmt: skip
    from archive_app.access.models import User

    accounts = accounts_for(script_request, dbsession)
    # Undone after the test (the dbsession fixture): the shared archive keeps its other admins.
    dbsession.execute(sa.update(User).where(User.role == "admin", User.username != "admin")
                      .values(active=False))  # fmt: skip
    admin = accounts.find_user("admin")
    for change, field in (({"role": "auditor"}, "role"), ({"active": False}, "active")):
        with pytest.raises(ArchiveError) as refused:
            accounts.change_user(admin, by=None, **change)
        assert (refused.value.status, refused.value.field) == (409, field)
        assert "last active admin" in refused.value.detail
    assert admin.role == "admin" and admin.active


def test_deactivation_ends_tokens_and_sessions_for_good(wsgi_app, api, app):
    api.post_json("/api/v1/users", {"username": "leaving", "role": "auditor",
                                    "password": PASSWORD}, "admin", status=201)  # fmt: skip
    token = app.post_json("/api/v1/auth/token", {"username": "leaving", "password": PASSWORD},
                          status="2*").json["token"]  # fmt: skip
    bearer = {"Authorization": f"Bearer {token}"}
    browser = sign_in(wsgi_app, "leaving")
    app.get(LOOKUP, headers=bearer, status=200)
    for active in (False, True):
        api.app.patch_json("/api/v1/users/leaving", {"active": active},
                           headers=api.headers("admin"), status=200)  # fmt: skip
    app.get(LOOKUP, headers=bearer, status=401)
    assert signed_out(browser.get("/search"))
    # Signing in again works: it is the old credentials that are dead, not the account.
    fresh = app.post_json("/api/v1/auth/token", {"username": "leaving", "password": PASSWORD},
                          status="2*").json["token"]  # fmt: skip
    app.get(LOOKUP, headers={"Authorization": f"Bearer {fresh}"}, status=200)
    assert sign_in(wsgi_app, "leaving").get("/search", status=200)


def test_the_locked_archive_says_so_and_keeps_its_reasons_for_the_log(tmp_path, caplog):
    missing = tmp_path / "secret-place" / "keyring.json"
    settings = dict(get_settings(TESTING_INI, "app:main"), **{"archive.keyring_path":
                                                              str(missing)})  # fmt: skip
    with caplog.at_level(logging.ERROR):
        locked = webtest.TestApp(main({"__file__": TESTING_INI}, **settings))
    page = locked.get("/login", status=503)
    assert "档案库已锁定" in page.text and "Archive locked" in page.text
    answer = locked.get(LOOKUP, status=503)
    assert_error(answer, 503, "unavailable", None)
    assert "locked" in answer.json["detail"]
    for shown in (page.text, answer.text):
        assert "secret-place" not in shown and "keyring.json" not in shown
        assert "not found" not in shown
    assert str(missing) in caplog.text  # the administrator learns why from the server log


# -- item 10: the token answers 200 ---------------------------------------------------


def test_a_token_is_issued_with_200(app, users):
    issued = app.post_json("/api/v1/auth/token", {"username": "auditor", "password": PASSWORD},
                           status=200).json  # fmt: skip
    assert issued["token"] and issued["expires_at"]
    responses = app.get("/api/v1/openapi.json").json["paths"]["/auth/token"]["post"]["responses"]
    assert "200" in responses and "201" not in responses and "415" in responses


def test_pages_download_through_the_session_and_the_api_through_tokens_only(wsgi_app, api):
    privacy = sign_in(wsgi_app, "privacy")
    page = privacy.get("/access-log", status=200)
    link = page.html.find("a", string=lambda text: text and "CSV" in text)["href"]
    assert "/api/" not in link
    exported = privacy.get(link, status=200)
    assert exported.content_type == "text/csv" and exported.text.startswith("seq,at,user")
    privacy.get("/api/v1/access-log/export.csv", status=401)


def test_the_command_line_keeps_the_same_rules_for_names(tmp_path_factory):
    env = make_cli_env(tmp_path_factory, "cli_names")
    added = run_cli(env, "user", "add", "Wang", "--role", "auditor", "--password-stdin",
                    stdin=PASSWORD)  # fmt: skip
    assert added.returncode == 0, added.stderr
    for name in ("wang", "WANG", "li\n", " li"):
        again = run_cli(env, "user", "add", name, "--role", "admin", "--password-stdin",
                        stdin=PASSWORD)  # fmt: skip
        assert again.returncode == 2 and "username" in again.stderr, (name, again.stderr)
    token = run_cli(env, "token", "WANG", "--password-stdin", stdin=PASSWORD)
    assert token.returncode == 0 and token.stdout.strip(), token.stderr
