"""Every route × role × clearance, found from Pyramid's introspector, so that no new route can
ship unguarded (issue 10): each route is classified below, a role without the route's
permission is refused (401 signed out, 403 signed in, a sign-in redirect on pages), and no
answer to a caller whose clearance is below `restricted` names the restricted dossier the
walk aims at, whatever the route: lists, due lists, holds, logs, exports and error answers."""

from __future__ import annotations

from urllib.parse import quote

import webtest
from factories import complete_files, metadata, metadata_part
from support import PASSWORD, TESTING_INI

from archive_app.access.permissions import ROLE_PERMISSIONS, Permission
from archive_app.bootstrap import open_app
from archive_app.interfaces import IAccountService

PUBLIC = "public"
# A view declared for any method is classified as ANY and walked with GET and POST.
ANY = "ANY"
ANY_METHODS = ("GET", "POST")

# (route name, method) -> the permission its view requires, or PUBLIC. A route missing here
# fails `test_every_route_is_classified`: decide who may call it before it ships.
ROUTES: dict[tuple[str, str], str] = {
    ("home", ANY): PUBLIC,
    ("access.login", "GET"): PUBLIC,
    ("access.login", "POST"): PUBLIC,
    ("access.logout", "GET"): PUBLIC,
    ("access.logout", "POST"): PUBLIC,
    ("api.openapi", ANY): PUBLIC,
    ("api.auth.token", "POST"): PUBLIC,
    ("api.auth.token", "DELETE"): PUBLIC,
    ("api.dossiers", "GET"): Permission.READ_DOSSIERS,
    ("api.dossiers", "POST"): Permission.FILE_DOSSIERS,
    ("api.dossier", "GET"): Permission.READ_DOSSIERS,
    ("api.dossier.documents", "POST"): Permission.FILE_DOSSIERS,
    ("api.dossier.document", "GET"): Permission.DOWNLOAD_DOCUMENTS,
    ("api.dossier.holds", "POST"): Permission.MANAGE_RETENTION,
    ("api.dossier.hold", "DELETE"): Permission.MANAGE_RETENTION,
    ("api.dossier.corrections", "GET"): Permission.MANAGE_RETENTION,
    ("api.dossier.corrections", "POST"): Permission.MANAGE_RETENTION,
    ("api.holds", "GET"): Permission.MANAGE_RETENTION,
    ("api.holds", "POST"): Permission.MANAGE_RETENTION,
    ("api.hold", "DELETE"): Permission.MANAGE_RETENTION,
    ("api.retention.due", "GET"): Permission.MANAGE_RETENTION,
    ("api.retention.runs", "POST"): Permission.MANAGE_RETENTION,
    ("api.retention.proposals", "GET"): Permission.MANAGE_RETENTION,
    ("api.retention.proposal", "POST"): Permission.MANAGE_RETENTION,
    ("api.retention.certificate", "GET"): Permission.READ_CERTIFICATES,
    ("api.retention.certificate.pdf", "GET"): Permission.READ_CERTIFICATES,
    ("api.search", "GET"): Permission.READ_DOSSIERS,
    ("api.access_log", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("api.access_log.verify", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("api.access_log.export", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("api.access_log.export_xlsx", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("api.access_log.anomalies", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("api.users", "GET"): Permission.MANAGE_USERS,
    ("api.users", "POST"): Permission.MANAGE_USERS,
    ("api.user", "PATCH"): Permission.MANAGE_USERS,
    ("api.user.password", "POST"): Permission.MANAGE_USERS,
    ("api.user.second_factor", "DELETE"): Permission.MANAGE_USERS,
    ("api.account.password", "POST"): Permission.OWN_ACCOUNT,
    ("access.account", "GET"): Permission.OWN_ACCOUNT,
    ("access.account", "POST"): Permission.OWN_ACCOUNT,
    ("access.login.code", "GET"): PUBLIC,
    ("access.login.code", "POST"): PUBLIC,
    ("records.new", "GET"): Permission.FILE_DOSSIERS,
    ("records.new", "POST"): Permission.FILE_DOSSIERS,
    ("records.lookup", ANY): Permission.READ_DOSSIERS,
    ("records.detail", "GET"): Permission.READ_DOSSIERS,
    ("records.detail", "POST"): Permission.FILE_DOSSIERS,  # append documents from the page
    ("records.detail.download", ANY): Permission.DOWNLOAD_DOCUMENTS,
    ("records.detail.preview", ANY): Permission.DOWNLOAD_DOCUMENTS,
    ("api.search.csv", "GET"): Permission.READ_DOSSIERS,
    ("api.search.xlsx", "GET"): Permission.READ_DOSSIERS,
    ("search.export.csv", "GET"): Permission.READ_DOSSIERS,
    ("search.export.xlsx", "GET"): Permission.READ_DOSSIERS,
    ("search.saved", "GET"): Permission.READ_DOSSIERS,
    ("search.saved", "POST"): Permission.READ_DOSSIERS,
    ("search.saved.delete", "POST"): Permission.READ_DOSSIERS,
    ("search.page", "GET"): Permission.READ_DOSSIERS,
    ("retention.page", "GET"): Permission.MANAGE_RETENTION,
    ("retention.page", "POST"): Permission.MANAGE_RETENTION,
    ("access.log", ANY): Permission.REVIEW_ACCESS_LOG,
    ("access.log.export", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("access.log.export_xlsx", "GET"): Permission.REVIEW_ACCESS_LOG,
    ("access.users", "GET"): Permission.MANAGE_USERS,
    ("access.users", "POST"): Permission.MANAGE_USERS,
    ("retention.certificate.json", "GET"): Permission.READ_CERTIFICATES,
    ("retention.certificate.pdf", "GET"): Permission.READ_CERTIFICATES,
    ("api.reports.ledger", "GET"): Permission.READ_DOSSIERS,
    ("api.reports.ledger.xlsx", "GET"): Permission.READ_DOSSIERS,
    ("reports.ledger", "GET"): Permission.READ_DOSSIERS,
    ("reports.ledger.xlsx", "GET"): Permission.READ_DOSSIERS,
    ("retention.certificate", "GET"): Permission.READ_CERTIFICATES,
    ("api.reports.reviews", "POST"): Permission.CREATE_REVIEWS,
    ("api.reports.reviews", "GET"): Permission.READ_REVIEWS,
    ("api.reports.review", "GET"): Permission.READ_REVIEWS,
    ("api.reports.review.pdf", "GET"): Permission.READ_REVIEWS,
    ("api.reports.review.xlsx", "GET"): Permission.READ_REVIEWS,
    ("reports.reviews", "GET"): Permission.READ_REVIEWS,
    ("reports.reviews", "POST"): Permission.CREATE_REVIEWS,
    ("reports.review", "GET"): Permission.READ_REVIEWS,
    ("reports.review.json", "GET"): Permission.READ_REVIEWS,
    ("reports.review.pdf", "GET"): Permission.READ_REVIEWS,
    ("reports.review.xlsx", "GET"): Permission.READ_REVIEWS,
    ("api.reports.review.approval", "POST"): Permission.CREATE_REVIEWS,
    ("api.reports.review.approval", "GET"): Permission.READ_REVIEWS,
    ("reports.review.approval", "POST"): Permission.CREATE_REVIEWS,
    ("access.review", "GET"): Permission.REVIEW_ACCESS,
    ("access.review", "POST"): Permission.REVIEW_ACCESS,
    ("api.access_reviews", "GET"): Permission.REVIEW_ACCESS,
    ("api.access_reviews", "POST"): Permission.REVIEW_ACCESS,
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("archivist", "auditor", "privacy_officer", "records_manager", "admin")
LEVELS = ("internal", "restricted")
CALLERS = [(role, level) for role in ROLES for level in LEVELS] + [(None, None)]


def walker_name(role: str, level: str) -> str:
    return f"walk_{role}_{level}"


def declared_views(registry) -> dict[tuple[str, str], str]:
    """(route, method) -> permission, as Pyramid will enforce it (static views left out)."""
    views = {}
    for entry in registry.introspector.get_category("views"):
        view = entry["introspectable"]
        route = view["route_name"]
        if route is None or route.startswith("__"):
            continue  # exception views, and the static assets (public by design)
        permissions = [related["value"] for related in entry["related"]
                       if related.category_name == "permissions"]  # fmt: skip
        permission = permissions[0] if permissions else "archive:deny:default"
        methods = view["request_methods"] or ANY
        for method in (methods,) if isinstance(methods, str) else methods:
            views[(route, method)] = PUBLIC if permission == "__no_permission_required__" else (
                permission)  # fmt: skip
    return views


def test_every_route_is_classified(wsgi_app):
    declared = declared_views(wsgi_app.registry)
    unclassified = sorted(set(declared) - set(ROUTES))
    assert not unclassified, f"classify these routes in ROUTES: {unclassified}"
    changed = {key: (declared[key], ROUTES[key]) for key in declared
               if declared[key] != ROUTES[key]}  # fmt: skip
    assert not changed, f"a route's permission differs from ROUTES: {changed}"


# -- the walk ----------------------------------------------------------------------------------


class Walk:
    """The restricted dossier aimed at, what would betray it, and a signed-in client per
    caller (bearer token for /api/v1, a session cookie for pages)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.clients: dict[tuple, tuple[webtest.TestApp, dict]] = {}

    def client(self, role, level) -> tuple[webtest.TestApp, dict]:
        key = (role, level)
        if key not in self.clients:
            app = webtest.TestApp(self.wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.77"})
            headers = {}
            if role is not None:
                name = walker_name(role, level)
                token = app.post_json(
                    "/api/v1/auth/token", {"username": name, "password": PASSWORD}
                ).json["token"]
                headers = {"Authorization": f"Bearer {token}"}
                form = app.get("/login").forms[0]
                form["username"], form["password"] = name, PASSWORD
                form.submit()
            self.clients[key] = (app, headers)
        return self.clients[key]


def make_walkers(wsgi_app) -> None:
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            accounts = request.find_service(IAccountService)
            for role, level in CALLERS[:-1]:
                accounts.add_user(walker_name(role, level), role, PASSWORD, level)


def file_target(wsgi_app, tokens) -> dict:
    """A restricted dossier, due for destruction but held (so no other test's run destroys it),
    with a hold reason and a title that must never reach a caller below `restricted`."""
    app = webtest.TestApp(wsgi_app)
    archivist = {"Authorization": f"Bearer {tokens['archivist']}"}
    records = {"Authorization": f"Bearer {tokens['records']}"}
    body = metadata(confidentiality="restricted", title="绝密走查标题投诉",
                    summary="走查摘要，不得泄露。")  # fmt: skip
    dossier = app.post("/api/v1/dossiers", params=[metadata_part(body)],
                       upload_files=complete_files(), headers=archivist).json  # fmt: skip
    hold = app.post_json(f"/api/v1/dossiers/{dossier['id']}/holds",
                         {"reason": "走查保全理由-机密"}, headers=records).json  # fmt: skip
    return {"dossier": dossier, "hold": hold}


def secrets_of(target) -> list[str]:
    dossier = target["dossier"]
    return [dossier["id"], dossier["complaint_no"], "绝密走查标题投诉", "走查保全理由-机密"]


def path_for(pattern: str, target) -> str:
    dossier = target["dossier"]
    values = {
        "dossier_id": dossier["id"], "document_id": dossier["documents"][0]["id"],
        "hold_id": str(target["hold"]["id"]), "certificate_id": "0" * 32,
        "proposal_id": "0" * 32, "decision": "approve", "username": "walk_nobody",
        "saved_id": "999999",
        "review_id": "0" * 32,
    }  # fmt: skip
    path = pattern
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"give the walk a value for {pattern}"
    return path


def expected_refusal(route: str, permission: str, role, level) -> int | None:
    """The status a caller without the right gets, or None when the caller may go on."""
    if permission == PUBLIC:
        return None
    api = route.startswith("api.")
    if role is None:
        return 401 if api else 303
    if permission not in ROLE_PERMISSIONS[role]:
        return 403
    return None


def call(client, headers, method: str, path: str, api: bool):
    app = client
    kw = {"headers": headers if api else {}, "expect_errors": True}
    if method == "GET":
        return app.get(path, **kw)
    # An unsafe call carries a body no view accepts (a JSON array, an empty form): it must be
    # refused, never acted on, so the walk changes nothing for the other tests.
    if api:
        return app.request(path, method=method, body=b"[]", content_type="application/json",
                           **kw)  # fmt: skip
    form = "application/x-www-form-urlencoded"
    return app.request(path, method=method, body=b"", content_type=form, **kw)


def check(client, headers, method, route, pattern, path, permission, role, level, secrets,
          seen_by_cleared: set) -> list[str]:  # fmt: skip
    """What is wrong with one caller's answer on one route (nothing: an empty list)."""
    api = route.startswith("api.")
    response = call(client, headers, method, path, api)
    who = f"{role or 'anonymous'}@{level} {method} {path}"
    if response.status_int >= 500:
        return [f"{who}: {response.status}"]
    problems = []
    refusal = expected_refusal(route, permission, role, level)
    if refusal is not None and response.status_int != refusal:
        problems.append(f"{who}: {response.status_int}, expected {refusal}")
    # The caller's own request echoed back (a sign-in redirect's `next`) reveals nothing.
    text = response.body.decode("utf-8", "replace").replace(quote(path, safe=""), "")
    text = text.replace(path, "")
    leaked = [secret for secret in secrets if secret in text]
    if level == "restricted" and leaked:
        seen_by_cleared.add(route)
    elif leaked:
        problems.append(f"{who}: reveals {leaked}")
    acts_on_target = api and method in UNSAFE and "{dossier_id}" in pattern
    if acts_on_target and level == "internal" and refusal is None and response.status_int != 404:
        problems.append(f"{who}: {response.status_int}, expected 404 above clearance")
    return problems


def test_routes_by_role_and_clearance(wsgi_app, tokens):
    make_walkers(wsgi_app)
    target = file_target(wsgi_app, tokens)
    walk = Walk(wsgi_app)
    patterns = {route.name: route.pattern for route in
                (entry["introspectable"]["object"] for entry in
                 wsgi_app.registry.introspector.get_category("routes"))}  # fmt: skip
    secrets = secrets_of(target)
    problems: list[str] = []
    seen_by_cleared: set[str] = set()
    for (route, method), permission in sorted(declared_views(wsgi_app.registry).items()):
        if route in ("access.logout", "api.auth.token"):
            continue  # would end the walker's own session or token (tested on their own)
        path = path_for(patterns[route], target)
        for role, level in CALLERS:
            client, headers = walk.client(role, level)
            for verb in ANY_METHODS if method == ANY else (method,):
                problems += check(client, headers, verb, route, patterns[route], path,
                                  permission, role, level, secrets, seen_by_cleared)  # fmt: skip
    assert not problems, "\n".join(problems)
    # The walk's own check: a cleared caller does see the target where it is listed, so a
    # route that reveals nothing to the uncleared does so by trimming, not by accident.
    shown = {"api.dossier", "api.retention.due", "api.holds", "records.detail", "retention.page"}
    assert shown <= seen_by_cleared, seen_by_cleared
