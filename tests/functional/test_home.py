"""Each role's home page (`/`): its own sections, and every list and count trimmed to the
reader's clearance (a restricted dossier is never counted for an internal records manager)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from factories import complaint_no, file_dossier, metadata
from sqlalchemy import select, update
from support import PASSWORD, add_users, create_accounts

from archive_app.access.models import User
from archive_app.interfaces import IClock, IDatabase
from archive_app.records.derived import TextState
from archive_app.records.models import Document, DocumentText, Dossier

SECTIONS = {
    "archivist": {"recent-filings", "incomplete-work"},
    "auditor": {"saved-searches"},
    "privacy": {"chain-status", "anomalies"},
    "records": {"due-soon", "active-holds", "last-runs"},
    "admin": {"accounts"},
}
ALL_SECTIONS = set().union(*SECTIONS.values())
_names = itertools.count(1)


def sections(html: str) -> set[str]:
    return set(re.findall(r'<section id="([a-z-]+)"', html)) & ALL_SECTIONS


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def writing(wsgi_app):
    """A committed change to the test archive, made beside the app (as legacy data would be)."""
    return wsgi_app.registry.getUtility(IDatabase).write.begin()


def today(wsgi_app):
    return wsgi_app.registry.getUtility(IClock).today()


def file_falling_due(api, wsgi_app, days: int, level: str, batch_no: str) -> dict:
    """A dossier whose destroy-after day is `days` from today: it falls due within that."""
    destroy_after = today(wsgi_app) + timedelta(days=days)
    expiry = destroy_after.replace(year=destroy_after.year - 1)
    meta = metadata(
        complaint_no=complaint_no("I", 2020), received_on="2020-01-02", closed_on="2020-02-01",
        confidentiality=level,
        products=[{"name": "板蓝根颗粒", "batch_no": batch_no, "expiry": expiry.isoformat()}],
    )  # fmt: skip
    dossier = file_dossier(api, meta).json
    assert dossier["destroy_after"] == destroy_after.isoformat(), dossier
    return dossier


def due_counts(html: str) -> dict[str, int]:
    part = section(html, "due-soon")
    return {
        name: int(re.search(rf'class="{name}">.*?<strong>(\d+)</strong>', part, re.S).group(1))
        for name in ("due-30", "due-90")
    }


def hold_cover(html: str, batch: str) -> str:
    """The number of dossiers the home says the hold on `batch` covers."""
    holds = section(html, "active-holds")
    return re.search(rf"Batch</span>: {batch}</td>.*?</td>\s*<td>.*?</td>\s*<td>(\d+)", holds,
                     re.S).group(1)  # fmt: skip


@pytest.mark.parametrize("user", SECTIONS)
def test_each_role_sees_its_own_sections_only(api, user):
    page = api.get("/?_LOCALE_=en", user).text
    assert sections(page) == SECTIONS[user]


def test_the_archivist_sees_their_filings_first_and_what_is_incomplete(api, wsgi_app):
    theirs = file_dossier(api, metadata(title="我的档案"), user="archivist").json
    incomplete = file_dossier(api, metadata(outcome="unjustified"), user="archivist",
                              files=None).json  # fmt: skip
    with writing(wsgi_app) as session:
        # An archive imported before the completeness rule: its handling sheet filed as an
        # attachment; and a document whose text no reader could extract.
        session.execute(update(Document).where(
            Document.dossier_id == incomplete["id"], Document.kind == "handling_sheet")
            .values(kind="attachment"))  # fmt: skip
        failed = session.scalars(select(Document).where(
            Document.dossier_id == theirs["id"])).first()  # fmt: skip
        text = session.get(DocumentText, failed.id)
        if text is None:
            text = DocumentText(document_id=failed.id, updated_at=failed.added_at)
            session.add(text)
        text.state, text.sealed_text, text.reason = TextState.FAILED, None, "unreadable"
        session.execute(update(Dossier).where(Dossier.id == incomplete["id"])
                        .values(confidentiality="restricted"))  # fmt: skip

    page = api.get("/?_LOCALE_=en", "archivist").text
    assert theirs["complaint_no"] in section(page, "recent-filings")
    work = section(page, "incomplete-work")
    line = re.search(rf"{incomplete['complaint_no']}</a>(.*?)</li>", work, re.S).group(1)
    assert "Handling sheet" in line and "Registration form" not in line
    assert theirs["complaint_no"] in work.split("could not be read")[1]
    assert failed.filename in work

    # The incomplete dossier is restricted now: an internal archivist never sees it.
    assert incomplete["complaint_no"] not in api.get("/?_LOCALE_=en", "archivist_internal").text


def test_the_archivists_own_filings_come_before_newer_ones_of_others(api, wsgi_app):
    tokens = add_users(api.app, {"archivist_two": ("archivist", "restricted")})
    api.tokens.update(tokens)
    mine = file_dossier(api, metadata(), user="archivist").json
    others = file_dossier(api, metadata(), user="archivist_two").json
    recent = section(api.get("/?_LOCALE_=en", "archivist").text, "recent-filings")
    # The session's archivist has filed more than the list holds: the other's newer filing
    # comes after all of theirs, or not at all.
    assert mine["complaint_no"] in recent
    if others["complaint_no"] in recent:
        assert recent.index(mine["complaint_no"]) < recent.index(others["complaint_no"])
    recent = section(api.get("/?_LOCALE_=en", "archivist_two").text, "recent-filings")
    assert recent.index(others["complaint_no"]) < recent.index(mine["complaint_no"])


def test_a_restricted_dossier_is_never_counted_for_an_internal_records_manager(api, wsgi_app):
    tokens = add_users(api.app, {"records_home_internal": ("records_manager", "internal")})
    api.tokens.update(tokens)
    before = {name: due_counts(api.get("/?_LOCALE_=en", name).text)
              for name in ("records", "records_home_internal")}  # fmt: skip
    restricted = file_falling_due(api, wsgi_app, 10, "restricted", "HOME0010")
    internal = file_falling_due(api, wsgi_app, 60, "internal", "HOME0060")

    full = api.get("/?_LOCALE_=en", "records").text
    trimmed = api.get("/?_LOCALE_=en", "records_home_internal").text
    assert due_counts(full) == {"due-30": before["records"]["due-30"] + 1,
                                "due-90": before["records"]["due-90"] + 2}  # fmt: skip
    assert due_counts(trimmed) == {
        "due-30": before["records_home_internal"]["due-30"],
        "due-90": before["records_home_internal"]["due-90"] + 1,
    }
    assert restricted["complaint_no"] in section(full, "due-soon")
    assert restricted["complaint_no"] not in trimmed
    assert internal["complaint_no"] in section(trimmed, "due-soon")

    # A hold by query on the restricted dossier's batch: it covers one for the restricted
    # manager, none that the internal one may count.
    api.post_json("/api/v1/holds", {"batch_no": "HOME0010", "reason": "诉讼"}, "records",
                  status=201)  # fmt: skip
    assert hold_cover(api.get("/?_LOCALE_=en", "records").text, "HOME0010") == "1"
    assert hold_cover(api.get("/?_LOCALE_=en", "records_home_internal").text, "HOME0010") == "0"


def test_holds_say_what_they_cover_and_one_covering_nothing_is_flagged(api, wsgi_app):
    batch = f"HOMEHOLD{next(_names)}"
    file_falling_due(api, wsgi_app, 20, "internal", batch)
    covering = api.post_json("/api/v1/holds", {"batch_no": batch, "reason": "诉讼"}, "records",
                             status=201).json  # fmt: skip
    assert covering["covers"] == 1 and "warning" not in covering
    empty = api.post_json("/api/v1/holds", {"batch_no": batch + "X", "reason": "笔误"},
                          "records", status=201).json  # fmt: skip
    assert empty["covers"] == 0 and "covers no dossier" in empty["warning"]

    holds = section(api.get("/?_LOCALE_=en", "records").text, "active-holds")
    rows = {re.search(r"Batch</span>: (\S+)</td>", row).group(1): (flag, row)
            for flag, row in re.findall(r'<tr( class="covers-nothing")?>(.*?)</tr>', holds, re.S)
            if "Batch</span>" in row}  # fmt: skip
    flag, row = rows[batch]
    assert not flag and "<td>1</td>" in row and "covers no dossier" not in row
    flag, row = rows[batch + "X"]
    assert flag and "<td>0<strong" in row and "covers no dossier" in row


def test_placing_a_hold_that_covers_nothing_says_so_on_the_retention_page(api):
    page = api.post("/retention?_LOCALE_=en", "records", params={
        "action": "hold", "scope": "batch_no", "value": f"NOSUCH{next(_names)}",
        "reason": "笔误"})  # fmt: skip
    assert page.status_int == 200
    assert "covers no dossier" in page.text


def test_the_last_runs_are_listed_for_the_records_manager(api):
    api.post_json("/api/v1/retention/runs", {"as_of": "2000-01-01", "dry_run": True}, "records",
                  status=201)  # fmt: skip
    runs = section(api.get("/?_LOCALE_=en", "records").text, "last-runs")
    assert "2000-01-01" in runs


def test_the_privacy_officer_sees_the_chain_and_the_flags(api):
    page = api.get("/?_LOCALE_=en", "privacy").text
    assert "The chain verifies" in section(page, "chain-status")
    assert "Flagged patterns" in section(page, "anomalies")


def test_the_admin_sees_locked_dormant_and_recently_changed_accounts(api, wsgi_app):
    locked, dormant, added = (f"{kind}{next(_names)}" for kind in ("locked", "dormant", "added"))
    # Created, never signed in (add_users would sign them in for a token).
    create_accounts({locked: ("auditor", "internal"), dormant: ("auditor", "internal")})
    with writing(wsgi_app) as session:
        long_ago = wsgi_app.registry.getUtility(IClock).now() - timedelta(days=120)
        session.execute(update(User).where(User.username == dormant).values(created_at=long_ago))
    for _ in range(5):
        form = api.app.get("/login").forms[0]
        form["username"], form["password"] = locked, "wrong " + PASSWORD
        form.submit(status=400)
    api.post_json("/api/v1/users", {"username": added, "role": "auditor",
                                    "password": PASSWORD, "clearance": "internal"},
                  "admin", status=201)  # fmt: skip

    page = section(api.get("/?_LOCALE_=en", "admin").text, "accounts")
    assert locked in page.split("Locked")[1].split("Dormant")[0]
    assert dormant in page.split("Dormant")[1].split("Deactivated")[0]
    assert locked not in page.split("Dormant")[1].split("Deactivated")[0]
    changes = page.split("Recently changed")[1]
    assert re.search(rf"<td>{added}</td><td>Account created</td><td>admin</td>", changes)


def test_an_auditors_home_lists_their_own_saved_searches(api):
    page = api.get("/search?q=%E8%83%B6%E5%9B%8A&complaint_class=I", "auditor")
    form = page.forms["save-search"]
    form["name"] = "一类胶囊投诉"
    form.submit(status=303)
    home = section(api.get("/", "auditor").text, "saved-searches")
    assert "一类胶囊投诉" in home
    assert "q=%E8%83%B6%E5%9B%8A&amp;complaint_class=I" in home  # the search it runs
    other = api.get("/", "archivist").text
    assert "一类胶囊投诉" not in other
