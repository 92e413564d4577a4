"""Electronic signatures (issue #15 item 4, contract §9) on a second app over the same archive
with `archive.signatures.required = true` and approval mode on: every signed action refused
without re-authentication (401 signature_required, nothing changed, the refusal logged) and
accepted with it; the signature shown on the pages and printed on the certificate and review
PDFs; a signature no longer matches once its record changes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import webtest
from conftest import Api
from factories import complaint_no, file_dossier, metadata
from plaster import get_settings
from pypdf import PdfReader
from sqlalchemy import select, text
from support import PASSWORD, TESTING_INI, assert_error, clock_reading, csrf_token, sign_in

from archive_app import main
from archive_app.access.models import AccessLogEntry
from archive_app.access.signatures import Signature
from archive_app.bootstrap import open_app
from archive_app.interfaces import IAccountService, IDatabase
from archive_app.reports.review_approval import approval_signatures
from archive_app.reports.review_models import Review
from archive_app.retention.signing import verify_signature

RECORDS2, ARCHIVIST2 = "signer_records2", "signer_archivist2"


@pytest.fixture(scope="module")
def signed_app(wsgi_app, tokens):
    settings = dict(get_settings(TESTING_INI, "app:main"))
    settings.update({"archive.signatures.required": "true", "archive.retention.approval": "true"})
    app = main({"__file__": TESTING_INI}, **settings)
    with open_app(TESTING_INI) as env:
        request = env["request"]
        with request.tm:
            accounts = request.find_service(IAccountService)
            accounts.add_user(RECORDS2, "records_manager", PASSWORD, "restricted")
            accounts.add_user(ARCHIVIST2, "archivist", PASSWORD, "restricted")
    yield app
    app.registry.getUtility(IDatabase).dispose()


@pytest.fixture
def sapi(signed_app, tokens) -> Api:
    test_app = webtest.TestApp(signed_app, extra_environ={"REMOTE_ADDR": "192.0.2.20"})
    more = {name: test_app.post_json("/api/v1/auth/token", {"username": name,
                                                            "password": PASSWORD}).json["token"]
            for name in (RECORDS2, ARCHIVIST2)}  # fmt: skip
    return Api(test_app, {**tokens, **more})


def signature(meaning: str, password: str = PASSWORD) -> dict:
    return {"password": password, "otp": None, "meaning": meaning}


def read(signed_app, work):
    with signed_app.registry.getUtility(IDatabase).read() as session:
        return work(session)


def execute(signed_app, statement: str, **values) -> None:
    with signed_app.registry.getUtility(IDatabase).write() as session, session.begin():
        session.execute(text(statement), values)


def refusals(signed_app, since_seq: int) -> list[AccessLogEntry]:
    return read(signed_app, lambda s: list(s.scalars(select(AccessLogEntry).where(
        AccessLogEntry.seq > since_seq, AccessLogEntry.action == "sign",
        AccessLogEntry.outcome == "denied"))))  # fmt: skip


def last_seq(signed_app) -> int:
    return read(
        signed_app,
        lambda s: s.scalar(select(AccessLogEntry.seq).order_by(AccessLogEntry.seq.desc()).limit(1)),
    )


def test_a_hold_is_released_only_under_a_valid_signature(sapi, signed_app):
    dossier = file_dossier(sapi).json
    url = f"/api/v1/dossiers/{dossier['id']}/holds"
    hold = sapi.post_json(url, {"reason": "诉讼"}, "records", status=201).json
    release = f"{url}/{hold['id']}"
    before = last_seq(signed_app)

    assert_error(sapi.delete_json(release, {"reason": "结案"}, "records", status=401),
                 401, "signature_required", "signature")  # fmt: skip
    wrong = {"reason": "结案", "signature": signature("release_hold", "not-the-password")}
    assert_error(sapi.delete_json(release, wrong, "records", status=401),
                 401, "signature_required", "signature.password")  # fmt: skip
    meaning = {"reason": "结案", "signature": signature("approve_destruction")}
    assert_error(sapi.delete_json(release, meaning, "records", status=401),
                 401, "signature_required", "signature.meaning")  # fmt: skip
    assert sapi.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "held"
    logged = refusals(signed_app, before)
    assert len(logged) == 3 and {entry.username for entry in logged} == {"records"}

    signed = {"reason": "结案", "signature": signature("release_hold")}
    answer = sapi.delete_json(release, signed, "records").json
    assert answer["released_by"] == "records"
    assert answer["signature"]["meaning"] == "release_hold"
    assert answer["signature"]["signer"] == "records"
    assert answer["signature"]["full_name"] == "records"  # no full name yet: the user name
    assert len(answer["signature"]["content_sha256"]) == 64
    assert sapi.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "archived"

    # Linked: the stored release, changed, no longer matches its signature.
    row = read(signed_app, lambda s: s.get(Signature, answer["signature"]["id"]))
    assert read(signed_app, lambda s: verify_signature(s, row))
    page = sapi.get("/retention", "records")
    assert "signatures" in page.text and answer["signature"]["content_sha256"][:16] in page.text
    execute(signed_app, "UPDATE holds SET release_reason = :r WHERE id = :id", r="改过",
            id=hold["id"])  # fmt: skip
    assert not read(signed_app, lambda s: verify_signature(s, row))
    assert "mismatch" in sapi.get("/retention", "records").text
    holds = sapi.get("/api/v1/holds", "records").json["results"]
    shown = next(h for h in holds if h["id"] == hold["id"])["signatures"]
    assert [(s["meaning"], s["matches"]) for s in shown] == [("release_hold", False)]


def test_a_hold_by_query_and_the_page_form_need_the_signature_too(sapi, signed_app):
    batch = f"SIG{complaint_no('I', 2024)[-5:]}"
    hold = sapi.post_json("/api/v1/holds", {"batch_no": batch, "reason": "调查"}, "records",
                          status=201).json  # fmt: skip
    assert_error(sapi.delete_json(f"/api/v1/holds/{hold['id']}", {"reason": "完"}, "records",
                                  status=401), 401, "signature_required")  # fmt: skip

    browser = sign_in(signed_app, "records")
    form = {"csrf_token": csrf_token(browser), "action": "release", "hold_id": str(hold["id"]),
            "reason": "完", "signature_meaning": "release_hold"}  # fmt: skip
    refused = browser.post("/retention", {**form, "signature_password": "wrong-password"},
                           status=401)  # fmt: skip
    assert 'id="retention-error"' in refused.text
    browser.post("/retention", {**form, "signature_password": PASSWORD}, status=303)
    released = sapi.get("/api/v1/holds", "records").json["results"]
    assert next(h for h in released if h["id"] == hold["id"])["released_by"] == "records"


def test_a_correction_is_kept_only_under_its_signature(sapi, signed_app):
    dossier = file_dossier(sapi).json
    url = f"/api/v1/dossiers/{dossier['id']}/corrections"
    body = {"reason": "录入错误", "closed_on": dossier["received_on"]}
    assert_error(sapi.post_json(url, body, "records", status=401), 401, "signature_required")
    assert sapi.get(url, "records").json["results"] == []

    answer = sapi.post_json(url, body | {"signature": signature("correction")}, "records",
                            status=201).json  # fmt: skip
    assert answer["signature"]["meaning"] == "correction"
    row = read(signed_app, lambda s: s.get(Signature, answer["signature"]["id"]))
    assert read(signed_app, lambda s: verify_signature(s, row))
    execute(signed_app, "UPDATE dossier_corrections SET reason = 'x' WHERE id = :id",
            id=answer["id"])  # fmt: skip
    assert not read(signed_app, lambda s: verify_signature(s, row))
    listed = sapi.get(url, "records").json["results"][0]["signatures"]
    assert listed[0]["id"] == row.id and listed[0]["matches"] is False


def file_due(api) -> dict:
    meta = metadata(
        complaint_no=complaint_no("I", 2014),
        received_on="2014-01-06",
        closed_on="2014-02-10",
        products=[{"name": "签名测试片", "batch_no": "SG1401", "expiry": "2014-03"}],
    )
    return file_dossier(api, meta).json


def test_an_approval_destroys_only_under_its_signature_printed_on_the_certificate(sapi, signed_app):
    doomed = file_due(sapi)  # due after 2015-03-31
    as_of = "2015-04-02"
    proposal = sapi.post_json("/api/v1/retention/runs", {"as_of": as_of, "dry_run": False},
                              "records", status=202).json  # fmt: skip
    assert doomed["complaint_no"] in proposal["proposed"]
    approve = f"/api/v1/retention/proposals/{proposal['proposal_id']}/approve"
    before = last_seq(signed_app)
    assert_error(sapi.post_json(approve, {}, RECORDS2, status=401), 401, "signature_required")
    wrong = {"signature": signature("approve_destruction", "wrong-password")}
    sapi.post_json(approve, wrong, RECORDS2, status=401)
    assert_error(
        sapi.post_json(approve, {"signature": signature("approve_review")}, RECORDS2, status=401),
        401,
        "signature_required",
        "signature.meaning",
    )
    assert sapi.get(f"/api/v1/dossiers/{doomed['id']}", "auditor").json["state"] == "archived"
    assert len(refusals(signed_app, before)) == 3

    result = sapi.post_json(approve, {"signature": signature("approve_destruction")},
                            RECORDS2).json  # fmt: skip
    assert doomed["complaint_no"] in result["destroyed"]
    assert result["signature"]["signer"] == RECORDS2
    assert result["signature"]["record_kind"] == "retention_proposal"

    pdf = sapi.get(f"/api/v1/retention/certificates/{result['certificate_id']}.pdf", "records")
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body)).pages)
    words = "".join(words.split())
    assert RECORDS2 in words and "批准销毁" in words
    assert result["signature"]["content_sha256"] in words
    page = sapi.get(f"/retention/certificates/{result['certificate_id']}", "records")
    assert "approval-signature" in page.text and RECORDS2 in page.text
    assert "Approved under signature" in sapi.get("/retention?_LOCALE_=en", "records").text


def test_a_review_is_approved_by_another_archivist_under_signature(sapi, signed_app):
    review = sapi.post_json("/api/v1/reports/reviews", {"period": "2013Q2"}, "archivist",
                            status=201).json  # fmt: skip
    url = f"/api/v1/reports/reviews/{review['review_id']}/approval"
    assert_error(sapi.post_json(url, {"signature": signature("approve_review")}, "archivist",
                                status=403), 403, "forbidden")  # its author  # fmt: skip
    assert_error(sapi.post_json(url, {}, ARCHIVIST2, status=401), 401, "signature_required")
    sapi.post_json(url, {"signature": signature("correction")}, ARCHIVIST2, status=401)
    assert sapi.get(url, "records").json["approved_by"] is None

    approved = sapi.post_json(url, {"signature": signature("approve_review")}, ARCHIVIST2).json
    assert approved["approved_by"] == ARCHIVIST2
    assert approved["signature"]["meaning"] == "approve_review"
    assert sapi.get(url, "records").json["signatures"][0]["matches"] is True
    sapi.post_json(url, {"signature": signature("approve_review")}, ARCHIVIST2, status=409)

    page = sapi.get(f"/reports/reviews/{review['review_id']}?_LOCALE_=en", "records")
    assert "Approved by" in page.text and approved["signature"]["content_sha256"] in page.text
    pdf = sapi.get(f"/api/v1/reports/reviews/{review['review_id']}.pdf", "records")
    words = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body)).pages)
                    .split())  # fmt: skip
    assert ARCHIVIST2 in words and "批准评审" in words

    # The review's stored body changed: its approval's signature no longer matches.
    execute(signed_app, "UPDATE reviews SET body = replace(body, '2013Q2', '2013Q3') "
            "WHERE id = :id", id=review["review_id"])  # fmt: skip

    def matches(session):
        return [
            ok for _s, ok in approval_signatures(session, session.get(Review, review["review_id"]))
        ]

    assert read(signed_app, matches) == [False]


def test_the_review_page_approves_with_the_form(sapi, signed_app):
    review = sapi.post_json("/api/v1/reports/reviews", {"period": "2013Q1"}, "archivist",
                            status=201).json  # fmt: skip
    browser = sign_in(signed_app, ARCHIVIST2)
    page = browser.get(f"/reports/reviews/{review['review_id']}")
    form = page.forms[[f.action.endswith("/approval") for f in page.forms.values()].index(True)]
    assert form["signature_meaning"].value == "approve_review"
    refused = form.submit(status=401)
    assert "signature" in refused.text
    form["signature_password"] = PASSWORD
    form.submit(status=303)
    assert sapi.get(f"/api/v1/reports/reviews/{review['review_id']}/approval",
                    "records").json["approved_by"] == ARCHIVIST2  # fmt: skip


def test_without_the_setting_signatures_are_optional_but_checked(api):
    dossier = file_dossier(api).json
    url = f"/api/v1/dossiers/{dossier['id']}/holds"
    hold = api.post_json(url, {"reason": "诉讼"}, "records", status=201).json
    bad = {"reason": "结案", "signature": signature("release_hold", "wrong-password")}
    api.delete_json(f"{url}/{hold['id']}", bad, "records", status=401)
    assert "signature" not in api.delete_json(f"{url}/{hold['id']}", {"reason": "结案"},
                                              "records").json  # fmt: skip


def test_the_retention_page_approves_a_proposal_under_signature(sapi, signed_app):
    doomed = file_due(sapi)
    proposal = sapi.post_json("/api/v1/retention/runs", {"as_of": "2015-04-02",
                                                         "dry_run": False},
                              "records", status=202).json  # fmt: skip
    browser = sign_in(signed_app, RECORDS2)
    form = {
        "csrf_token": csrf_token(browser),
        "action": "approve",
        "proposal_id": proposal["proposal_id"],
        "signature_meaning": "approve_destruction",
    }
    browser.post("/retention", form, status=401)
    assert sapi.get(f"/api/v1/dossiers/{doomed['id']}", "auditor").json["state"] == "archived"
    done = browser.post("/retention?_LOCALE_=en", {**form, "signature_password": PASSWORD})
    assert doomed["complaint_no"] in done.text
    sapi.get(f"/api/v1/dossiers/{doomed['id']}", "auditor", status=410)


# -- the second factor in a signature: real TOTP codes over HTTP ----------------------------

RECORDS_TOTP = "signer_records_totp"


class StillClock:
    """signed_app's clock held 5 s into a TOTP step, moved on one step at a time (a code is
    accepted once, and only later than the last one accepted)."""

    def __init__(self):
        now = datetime.now(UTC)
        self.at = now - timedelta(seconds=now.timestamp() % 30 - 5)

    def now(self) -> datetime:
        return self.at

    def next_step(self) -> None:
        self.at += timedelta(seconds=30)


@pytest.fixture(scope="module")
def totp_signer(signed_app, tokens) -> tuple[str, StillClock]:
    """A records manager with a second factor enrolled on /account: its TOTP secret, and the
    clock its codes are read on (it only moves on: each code is later than the last)."""
    clock = StillClock()
    with clock_reading(signed_app.registry, clock.now):
        admin = Api(webtest.TestApp(signed_app), tokens)
        admin.post_json("/api/v1/users", {"username": RECORDS_TOTP, "role": "records_manager",
                                          "clearance": "restricted", "password": PASSWORD},
                        "admin", status=201)  # fmt: skip
        browser = sign_in(signed_app, RECORDS_TOTP)
        start = browser.get("/account?_LOCALE_=en").forms["start-factor"].submit()
        secret = start.html.select_one("#enrolment-secret").get_text().strip()
        form = start.forms["confirm-factor"]
        form["code"] = pyotp.TOTP(secret).at(clock.now())
        assert form.submit().html.select("#recovery-codes li")  # enrolled
    return secret, clock


@pytest.fixture
def totp_api(signed_app, tokens, totp_signer):
    """(api, clock, the signer's TOTP): the signer's token taken with a code of its own, the
    clock then one step on."""
    secret, clock = totp_signer
    totp = pyotp.TOTP(secret)
    with clock_reading(signed_app.registry, clock.now):
        clock.next_step()
        test_app = webtest.TestApp(signed_app, extra_environ={"REMOTE_ADDR": "192.0.2.20"})
        sign_in_body = {"username": RECORDS_TOTP, "password": PASSWORD, "otp": totp.at(clock.at)}
        token = test_app.post_json("/api/v1/auth/token", sign_in_body)
        clock.next_step()
        yield Api(test_app, {**tokens, RECORDS_TOTP: token.json["token"]}), clock, totp


def test_an_approval_is_signed_with_a_real_totp_code_and_a_wrong_one_refused(totp_api, signed_app):
    api, clock, totp = totp_api
    doomed = file_due(api)
    proposal = api.post_json("/api/v1/retention/runs", {"as_of": "2015-04-02", "dry_run": False},
                             "records", status=202).json  # fmt: skip
    approve = f"/api/v1/retention/proposals/{proposal['proposal_id']}/approve"
    right = totp.at(clock.now())
    wrong = next(code for code in ("000000", "111111") if code != right)
    before = last_seq(signed_app)
    for otp in (wrong, None):
        body = {"signature": {**signature("approve_destruction"), "otp": otp}}
        assert_error(api.post_json(approve, body, RECORDS_TOTP, status=401),
                     401, "signature_required", "signature.otp")  # fmt: skip
    assert api.get(f"/api/v1/dossiers/{doomed['id']}", "auditor").json["state"] == "archived"
    assert len(refusals(signed_app, before)) == 2
    logged = api.get(f"/api/v1/access-log?user={RECORDS_TOTP}&action=sign&outcome=denied",
                     "privacy").json["entries"]  # fmt: skip
    assert [entry["detail"] for entry in logged] == [
        f"approve_destruction of proposal {proposal['proposal_id'][:32]} refused: signature.otp"
    ] * 2

    body = {"signature": {**signature("approve_destruction"), "otp": right}}
    result = api.post_json(approve, body, RECORDS_TOTP).json
    assert doomed["complaint_no"] in result["destroyed"]
    assert result["signature"]["signer"] == RECORDS_TOTP
    api.get(f"/api/v1/dossiers/{doomed['id']}", "auditor", status=410)

    # The code is used up: the same one signs nothing else, even within its step.
    again = file_due(api)
    proposal = api.post_json("/api/v1/retention/runs", {"as_of": "2015-04-02", "dry_run": False},
                             "records", status=202).json  # fmt: skip
    assert_error(api.post_json(f"/api/v1/retention/proposals/{proposal['proposal_id']}/approve",
                               body, RECORDS_TOTP, status=401),
                 401, "signature_required", "signature.otp")  # fmt: skip
    assert api.get(f"/api/v1/dossiers/{again['id']}", "auditor").json["state"] == "archived"


def test_a_release_in_the_requests_transaction_takes_a_real_totp_code(totp_api):
    api, clock, totp = totp_api
    dossier = file_dossier(api).json
    url = f"/api/v1/dossiers/{dossier['id']}/holds"
    hold = api.post_json(url, {"reason": "诉讼"}, RECORDS_TOTP, status=201).json
    right = totp.at(clock.now())
    wrong = next(code for code in ("000000", "111111") if code != right)
    body = {"reason": "结案", "signature": {**signature("release_hold"), "otp": wrong}}
    assert_error(api.delete_json(f"{url}/{hold['id']}", body, RECORDS_TOTP, status=401),
                 401, "signature_required", "signature.otp")  # fmt: skip
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "held"
    body["signature"]["otp"] = right
    released = api.delete_json(f"{url}/{hold['id']}", body, RECORDS_TOTP).json
    assert released["signature"]["signer"] == RECORDS_TOTP
    assert api.get(f"/api/v1/dossiers/{dossier['id']}", "auditor").json["state"] == "archived"
