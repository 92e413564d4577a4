"""Every page people use, walked as each role in Chinese and in English: no vocabulary code
and no English message of the catalogue shows as visible text on a zh-CN page, the English
pages show English labels and no codes, times carry the archive's zone and no microseconds,
and the certificate PDF prints labels, not codes."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import webtest
from babel.messages.pofile import read_po
from factories import complaint_no, complete_files, docx, filled_form, metadata, metadata_part, pdf
from pypdf import PdfReader
from sqlalchemy import select
from support import ROOT, TESTING_INI, add_users, sign_in

from archive_app.access.models import AccessLogEntry, User
from archive_app.bootstrap import open_app
from archive_app.labels import LABELS
from archive_app.records.models import Document, Dossier
from archive_app.retention.models import RetentionProposal

# People named unlike any code, so a name on a page is never mistaken for a raw role.
PEOPLE = {"zhang3": ("archivist", "restricted"), "li4": ("auditor", "restricted"),
          "wang5": ("records_manager", "restricted"), "zhao6": ("privacy_officer", "restricted"),
          "qian7": ("admin", "restricted")}  # fmt: skip
# Destroy after 2013-06-30: due at this date, earlier than anything the other tests file.
AS_OF = "2014-01-01"
CATALOGUE = ROOT / "archive_app/locale/zh_CN/LC_MESSAGES/archive.po"
# Codes that are words of their own (`I`, `II`, MIME types are checked through their labels).
CODES = sorted(code for code in LABELS if re.fullmatch(r"[a-z][a-z_-]{2,}", code))
# On English pages a one-word code may be prose ("a justified complaint", "under hold"):
# there the compound codes, the lower-case roles and state, and the labels asserted by name.
ENGLISH_PAGE_CODES = [code for code in CODES if re.search("[_-]", code)] + [
    "archivist", "auditor", "archived"]  # fmt: skip
# English a zh-CN page must not show besides the catalogue's own: colander's and Deform's.
FOREIGN_ENGLISH = ["Required", "There was a problem with your submission", "Time (UTC)"]


class VisibleText(HTMLParser):
    """The text a person sees: text nodes and the labelling attributes, without scripts,
    styles and the access log's recorded details (free text the archive wrote, item 7)."""

    LABELLING = ("placeholder", "title", "aria-label", "alt")

    def __init__(self):
        super().__init__()
        self.parts, self.skipping = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style") or "detail" in (attrs.get("class") or "").split():
            self.skipping.append(tag)
        self.parts += [attrs[name] for name in self.LABELLING if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible(html: str, names: re.Pattern) -> str:
    """The page's visible text, every user name taken out: the other tests' people are named
    after their roles (`archivist`), a name there, not a code shown raw."""
    parser = VisibleText()
    parser.feed(html)
    return names.sub("[user]", " ".join(" ".join(parser.parts).split()))


def user_names() -> re.Pattern:
    """Any user name the archive knows, as a whole word."""
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:  # ended, so SQLite's lock goes with it
            names = request.dbsession.scalars(select(User.username)).all()
    ordered = sorted(names, key=len, reverse=True)  # `records_internal` before `records`
    return re.compile(
        r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, ordered)) + r")(?![A-Za-z0-9_])"
    )


def english_messages() -> list[str]:
    """The catalogue's English (msgids) that read differently in Chinese."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    return [m.id for m in catalogue if m.id and m.string != m.id and re.search("[A-Za-z]{3}", m.id)]


def word(text: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z_]){re.escape(text)}(?![A-Za-z_])")


def assert_no_codes(page: str, where: str, codes=CODES):
    shown = [code for code in codes if word(code).search(page)]
    assert not shown, f"{where} shows codes {shown}: {page[:3000]}"


def assert_chinese(page: str, where: str):
    assert_no_codes(page, where)
    english = [text for text in english_messages() + FOREIGN_ENGLISH if word(text).search(page)]
    assert not english, f"{where} shows English {english}: {page[:3000]}"
    assert_times(page, where)


def assert_times(page: str, where: str):
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", page), f"{where}: microseconds shown"
    assert not re.search(r"\d{2}:\d{2}(:\d{2})?[+-]\d{2}:\d{2}", page), f"{where}: raw offset"
    for shown in re.findall(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S*( \S+)?", page):
        assert shown.strip() == "Asia/Shanghai", f"{where}: a time without its zone"


@pytest.fixture(scope="module")
def people(wsgi_app, users):
    return add_users(webtest.TestApp(wsgi_app), PEOPLE)


def browser_for(app, name: str, locale: str) -> webtest.TestApp:
    browser = sign_in(app.app, name, app.extra_environ)
    browser.get(f"/?_LOCALE_={locale}")  # the switch, remembered in a cookie
    return browser


def token(browser) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text).group(1)


def file_due(api, **overrides) -> dict:
    meta = metadata(
        complaint_no=complaint_no("I", 2012), received_on="2012-03-01", closed_on="2012-04-01",
        products=[{"name": "清开灵颗粒", "batch_no": "ZH201203", "expiry": "2012-06"}],
        complaint_type="adverse_reaction", channel="phone", confidentiality="internal",
        **overrides,
    )  # fmt: skip
    return api.post("/api/v1/dossiers", "zhang3", params=[metadata_part(meta)],
                    upload_files=complete_files(), status=201).json  # fmt: skip


@pytest.fixture(scope="module")
def archive(people, wsgi_app):
    """Dossiers that name every kind of value: one held, one due, one destroyed by a run."""
    from conftest import Api

    api = Api(webtest.TestApp(wsgi_app), people)
    held, due, gone = file_due(api), file_due(api), file_due(api)
    api.post_json(f"/api/v1/dossiers/{held['id']}/holds", {"reason": "诉讼保全"}, "wang5",
                  status=201)  # fmt: skip
    result = api.post_json("/api/v1/retention/runs", {"as_of": AS_OF, "dry_run": False},
                           "wang5", status=201).json  # fmt: skip
    assert (
        gone["complaint_no"] in result["destroyed"] and due["complaint_no"] in result["destroyed"]
    )
    due = file_due(api)  # due again, for the page's list and its runs
    return {"held": held, "due": due, "gone": gone, "certificate_id": result["certificate_id"]}


def walk(app, locale: str, archive) -> dict[str, str]:
    """The visible text of every main page as the role that uses it, and the certificate
    PDF's text."""
    pages = {}
    for name in PEOPLE:
        pages[f"home as {name}"] = browser_for(app, name, locale).get("/").text
    archivist = browser_for(app, "zhang3", locale)
    dossier = archive["held"]
    pages["search"] = archivist.get("/search?q=" + quote("清开灵")).text
    assert dossier["complaint_no"] in pages["search"]
    pages["search, reversed dates"] = archivist.get(
        "/search?received_from=2023-02-01&received_to=2023-01-01", status=422
    ).text
    pages["saved searches"] = archivist.get("/search/saved").text
    pages["dossier"] = archivist.get(f"/dossiers/{dossier['id']}").text
    pages["filing form"] = archivist.get("/dossiers/new").text
    pages["filing form, nothing filled"] = (
        archivist.get("/dossiers/new").forms["filing"].submit("file", status=422).text
    )
    form = filled_form(archivist, complaint_no("III", 2022), "电话格式错误", "ZH220801")
    form.set("phone", "not a phone")
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    pages["filing form, refused"] = form.submit("file", status=422).text
    auditor = browser_for(app, "li4", locale)
    pages["dossier as auditor"] = auditor.get(f"/dossiers/{dossier['id']}").text
    pages["ledger"] = auditor.get("/reports/ledger?from=2012-03-01&to=2012-03-01").text
    manager = browser_for(app, "wang5", locale)
    pages["retention"] = manager.get(f"/retention?as_of={AS_OF}").text
    pages["retention, dry run"] = manager.post(
        "/retention",
        {"csrf_token": token(manager), "action": "run", "as_of": AS_OF, "dry_run": "on"},
    ).text
    pages["retention, refused"] = manager.post(
        "/retention", {"csrf_token": token(manager), "action": "hold", "value": "", "reason": ""},
        status=404,
    ).text  # fmt: skip
    pages["retention, confirmation"] = manager.post(
        "/retention", {"csrf_token": token(manager), "action": "run", "as_of": AS_OF}
    ).text
    certificate = f"/retention/certificates/{archive['certificate_id']}"
    pages["certificate page"] = manager.get(certificate).text
    pages["tombstone"] = auditor.get(f"/dossiers/{archive['gone']['id']}", status=410).text
    privacy = browser_for(app, "zhao6", locale)
    pages["access log"] = privacy.get("/access-log").text
    pages["error page"] = privacy.get(f"/dossiers/{dossier['id']}", status=403).text
    admin = browser_for(app, "qian7", locale)
    pages["accounts"] = admin.get("/users").text
    pages["accounts, refused"] = admin.post("/users", {
        "csrf_token": token(admin), "action": "change", "username": "qian7", "role": "auditor"},
        status=403).text  # fmt: skip
    pages["access review"] = admin.get("/users/review").text
    unsigned = {"csrf_token": token(admin), "action": "sign_off", "expected": "x"}
    pages["access review, unsigned"] = admin.post("/users/review", unsigned, status=401).text
    names = user_names()
    pages = {where: visible(html, names) for where, html in pages.items()}
    pdf_body = manager.get(f"/retention/certificates/{archive['certificate_id']}.pdf").body
    pages["certificate PDF"] = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf_body)).pages
    )
    return pages


def test_chinese_pages_show_labels_never_codes_or_english(app, archive):
    pages = walk(app, "zh_CN", archive)
    for where, page in pages.items():
        if where != "certificate PDF":
            assert_chinese(page, where)
    shown = pages["dossier"]
    for label in ("不良反应", "电话", "投诉成立", "内部", "保全中", "退货", "PDF 文档"):
        assert label in shown, label
    assert "Asia/Shanghai" in shown  # the filing time, with its zone
    assert "必需" in pages["filing form, nothing filled"]  # colander's, in Chinese
    assert "电话: 应为电话号码" in pages["filing form, refused"]
    dry_run = pages["retention, dry run"]
    assert "不会销毁任何档案" in dry_run or "将销毁" in dry_run
    assert "档案主管" in pages["home as wang5"]  # the role in the header
    assert "您的角色无权执行此操作" in pages["error page"]
    log = pages["access log"]
    assert "登录" in log and "成功" in log and "隐私专员" in log
    printed = pages["certificate PDF"]
    # The PDF is in Chinese and English: English words are expected, compound codes are not.
    assert not [code for code in CODES if re.search("[_-]", code) and code in printed], printed
    assert "■" not in printed  # no Chinese set in a font without it
    for text in ("数据销毁证书", "Certificate of Destruction", "不良反应", "Adverse reaction",
                 "Asia/Shanghai"):  # fmt: skip
        assert text in printed, text


def test_every_code_the_archive_stored_has_a_label(archive):
    """What the walk cannot see by itself: a code with no label yet (the log's `checkpoint`,
    the command line's role `system`) would be shown as it is. Every value of a vocabulary
    column in the archive these tests filled must have its label."""
    columns = [AccessLogEntry.action, AccessLogEntry.role, AccessLogEntry.outcome, User.role,
               User.clearance, Dossier.state, Dossier.complaint_type, Dossier.channel,
               Dossier.outcome, Dossier.confidentiality, Document.kind, Document.media_type,
               RetentionProposal.state, Dossier.retention_rule]  # fmt: skip
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            stored = {column: set(request.dbsession.scalars(select(column).distinct()))
                      for column in columns}  # fmt: skip
    assert stored[AccessLogEntry.action] and stored[Dossier.state]  # the walk's archive
    missing = {str(column): sorted(values - set(LABELS) - {None})
               for column, values in stored.items()}  # fmt: skip
    unlabelled = {column: values for column, values in missing.items() if values}
    assert not unlabelled, f"give these a label in archive_app/labels.py: {unlabelled}"


def test_english_pages_show_english_labels_never_codes(app, archive):
    pages = walk(app, "en", archive)
    for where, page in pages.items():
        if where != "certificate PDF":
            assert_no_codes(page, where, ENGLISH_PAGE_CODES)
            assert_times(page, where)
    shown = pages["dossier"]
    for label in ("Adverse reaction", "Phone", "Justified", "Internal", "Under hold", "Return"):
        assert label in shown, label
    assert "Records manager" in pages["home as wang5"]
    assert "Phone: must be a phone number" in pages["filing form, refused"]
    assert "your role may not do this" in pages["error page"].lower()
