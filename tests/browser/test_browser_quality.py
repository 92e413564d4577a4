"""The quality of the main pages (issue 12 item 9): usable on a phone 390 px wide (nothing
wider than the screen: tables scroll in their own box, the menu wraps, forms take one
column), and no serious or critical axe-core violation on any of them, in Chinese."""

from __future__ import annotations

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from factories import file_dossier, metadata
from support import PASSWORD, sign_in_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SERIOUS = ("serious", "critical")
# Which role opens which of the main pages (the login page is opened signed out).
PAGES = {
    "archivist": ["/", "/search?q=阿莫西林", "/dossiers/{dossier}", "/dossiers/new"],
    "auditor": ["/"],
    "privacy": ["/", "/access-log"],
    "records": ["/", "/retention"],
    "admin": ["/"],
}


@pytest.fixture
def dossier_id(api):
    """A dossier to open, and something on every home: a hold that covers nothing, a run,
    an account created."""
    suffix = uuid.uuid4().hex[:8]
    api.post_json("/api/v1/holds", {"batch_no": f"NONE{suffix}", "reason": "核对批号"},
                  "records", status=201)  # fmt: skip
    api.post_json("/api/v1/retention/runs", {"as_of": "2001-01-01", "dry_run": True}, "records",
                  status=201)  # fmt: skip
    api.post_json("/api/v1/users", {"username": f"auditor{suffix}", "role": "auditor",
                                    "password": PASSWORD, "clearance": "internal"},
                  "admin", status=201)  # fmt: skip
    return file_dossier(api, metadata()).json["id"]


@pytest.fixture(params=["phone", "desktop"])
def screen(request, browser):
    """A signed-out page on a phone 390 px wide, or on a desktop screen."""
    phone = request.param == "phone"
    context = browser.new_context(
        locale="zh-CN", **({"viewport": PHONE, "is_mobile": True, "has_touch": True}
                           if phone else {"viewport": {"width": 1280, "height": 900}}))  # fmt: skip
    page = context.new_page()
    yield request.param, page
    context.close()


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the phone's screen (0: no sideways
    scrolling). Measured against the screen's width, not `innerWidth`: a mobile browser
    zooms out to show a page that is too wide, which widens `innerWidth` with it."""
    width = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    return width - PHONE["width"]


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]


def check(page, where: str, problems: list[str], on_phone: bool, shot) -> None:
    if on_phone and (wider := overflow(page)) > 0:
        problems.append(f"{where}: {wider} px wider than a 390 px screen")
    problems += [f"{where}: {violation}" for violation in serious_violations(page)]
    page.screenshot(path=str(shot), full_page=True)


def test_main_pages_fit_a_phone_and_pass_axe(screen, live_server, dossier_id, tmp_path):
    kind, page = screen
    problems: list[str] = []
    page.goto(f"{live_server}/login")
    check(page, "login", problems, kind == "phone", tmp_path / f"{kind}-login.png")
    for user, paths in PAGES.items():
        page.context.clear_cookies()
        sign_in_page(page, live_server, user)
        for path in paths:
            address = path.format(dossier=dossier_id)
            page.goto(live_server + address)
            assert page.url.startswith(live_server + address.split("?")[0]), page.url
            name = (user + address.split("?")[0].replace("/", "-")).rstrip("-")[:40]
            check(page, f"{address} as {user}", problems, kind == "phone",
                  tmp_path / f"{kind}-{name}.png")  # fmt: skip
    assert not problems, "\n".join(problems)
