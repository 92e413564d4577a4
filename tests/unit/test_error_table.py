"""The one error -> HTTP table (`archive_app.errors.HTTP_ANSWERS`): its codes are the stable
ones clients rely on, no feature error carries a status of its own, and every error raised in
a view answers through the archive's error view with its status and the contract's JSON shape."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import webtest
from pyramid.config import Configurator

import archive_app
from archive_app import views
from archive_app.errors import HTTP_ANSWERS, ArchiveError, TooManyAttempts, http_answer
from archive_app.interfaces import IAccessLog

# CONTRACT.md §4 (400/401/403/404/409/410/413/415/422, `destroyed`, `incomplete`) and the
# codes the functional tests pin; 405 (RFC 9110), 429, 500, 503 and 507 as answered today.
CONTRACT_CODES = {
    "bad_request": 400,
    "unauthorized": 401,
    "signature_required": 401,  # CONTRACT.md §9: a signed action without a valid signature
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "destroyed": 410,
    "too_large": 413,
    "unsupported_media_type": 415,
    "invalid": 422,
    "incomplete": 422,
    "query_too_costly": 422,
    "too_many_attempts": 429,
    "internal": 500,
    "unavailable": 503,
    "directory_unavailable": 503,  # directory sign-in: the LDAP server cannot answer
    "storage_full": 507,
    # Contract §9 and issue #15: accounts that must change their password or need a code.
    "password_change_required": 403,
    "second_factor_required": 403,
    "otp_required": 401,
    "otp_invalid": 401,
}
# Feature errors and the answer each must give through its kind.
FEATURE_ANSWERS = {
    "archive_app.records.media.MediaRejected": (415, "unsupported_media_type"),
    "archive_app.records.media.EmptyFile": (415, "unsupported_media_type"),
    "archive_app.retention.services.RetentionBusy": (409, "conflict"),
    "archive_app.search.engine.QueryError": (422, "invalid"),
    "archive_app.search.engine.QueryTimedOut": (422, "query_too_costly"),
    "archive_app.search.engine.IndexUnavailable": (503, "unavailable"),
    "archive_app.search.engine.IndexBusy": (503, "unavailable"),
    "archive_app.access.password_policy.PasswordRefused": (422, "invalid"),
}


def every_archive_error() -> list[type[ArchiveError]]:
    """ArchiveError and every subclass any module of the archive defines."""
    for module in pkgutil.walk_packages(archive_app.__path__, "archive_app."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found, pending = [], [ArchiveError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return sorted(set(found), key=lambda kind: f"{kind.__module__}.{kind.__qualname__}")


ERRORS = every_archive_error()


def name_of(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


class RecordingLog:
    """The access log's `append_now`, kept in memory: what the error view logs."""

    def __init__(self):
        self.events = []

    def append_now(self, event):
        self.events.append(event)


@pytest.fixture(scope="module")
def app_and_log():
    access_log = RecordingLog()
    with Configurator(settings={}) as config:
        config.include("pyramid_services")
        config.register_service(access_log, IAccessLog)
        config.add_request_method(lambda request: None, "user", reify=True)
        config.add_route("raise", "/api/v1/raise/{index}")

        def raising(request):
            kind = ERRORS[int(request.matchdict["index"])]
            raise kind("why it was refused", field="somewhere")

        def throttled(request):
            error = TooManyAttempts("too many failed sign-ins", field=None)
            error.retry_after = 120  # as access/throttle.py sets it
            raise error

        config.add_view(raising, route_name="raise")
        config.add_route("throttled", "/api/v1/throttled")
        config.add_view(throttled, route_name="throttled")
        # The archive's own error view, as its scan registers it.
        config.add_exception_view(views.archive_error, context=ArchiveError)
        app = config.make_wsgi_app()
    return webtest.TestApp(app), access_log


def test_every_code_in_the_table_is_a_contract_code_with_its_status():
    assert {answer.code: answer.status for answer in HTTP_ANSWERS.values()} == CONTRACT_CODES


def test_the_table_lists_only_archive_errors_and_every_error_finds_an_answer():
    assert all(issubclass(kind, ArchiveError) for kind in HTTP_ANSWERS)
    for kind in ERRORS:
        assert http_answer(kind("why")).code in CONTRACT_CODES, name_of(kind)


@pytest.mark.parametrize("kind", ERRORS, ids=name_of)
def test_no_error_class_carries_a_status_or_code_of_its_own(kind):
    # ArchiveError's `status` and `code` read the table; nothing below may shadow them.
    if kind is not ArchiveError:
        assert "status" not in vars(kind) and "code" not in vars(kind), name_of(kind)


def test_feature_errors_answer_through_the_kind_they_subclass():
    by_name = {name_of(kind): kind for kind in ERRORS}
    for name, (status, code) in FEATURE_ANSWERS.items():
        answer = http_answer(by_name[name]("why"))
        assert (answer.status, answer.code) == (status, code), name


@pytest.mark.parametrize("index", range(len(ERRORS)), ids=lambda i: name_of(ERRORS[i]))
def test_raised_in_a_view_each_error_answers_its_status_and_the_json_shape(app_and_log, index):
    app, access_log = app_and_log
    kind = ERRORS[index]
    expected = http_answer(kind("why"))
    response = app.get(f"/api/v1/raise/{index}", status="*")
    assert response.status_int == expected.status
    assert response.content_type == "application/json"
    body = response.json
    assert body["error"] == expected.code
    assert body["detail"] == "why it was refused" and body["field"] == "somewhere"
    outcome = ("denied" if expected.status in (401, 403)
               else "failed" if expected.status >= 500 else "refused")  # fmt: skip
    assert access_log.events[-1].outcome == outcome
    assert access_log.events[-1].detail.startswith(f"{expected.status} {expected.code}: ")
    if expected.status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_throttled_answer_says_when_to_retry(app_and_log):
    app, _ = app_and_log
    response = app.get("/api/v1/throttled", status=429)
    assert response.json["error"] == "too_many_attempts"
    assert response.headers["Retry-After"] == "120"
