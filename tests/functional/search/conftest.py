"""The search tests run against each search backend: Whoosh always, and PostgreSQL's own
(`archive.search.backend = postgres`) when the suite runs on PostgreSQL (`make test`'s second
pass). `search_app` is the app of the backend under test, over the same database, storage
and users as `wsgi_app`; `app` (and so `api`) talk to it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import webtest
from pyramid.paster import get_app
from support import TESTING_INI

from archive_app.interfaces import IDatabase, ISearchService


def _root_conftest():
    """tests/conftest.py as a module of its own name: pytest imports each conftest as
    `conftest`, so once this one is loaded, `from conftest import Api` (elsewhere in the
    suite) finds this module; its names are looked up there (`__getattr__`). Loading the file
    again registers no fixture twice: pytest collects fixtures from the conftests it loads."""
    path = Path(__file__).parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("archive_tests_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT = _root_conftest()


def __getattr__(name: str):
    return getattr(_ROOT, name)


ON_POSTGRES = os.environ.get("ARCHIVE_TEST_DATABASE") == "postgres"
BACKENDS = ["whoosh", "postgres"] if ON_POSTGRES else ["whoosh"]


@pytest.fixture(scope="session", params=BACKENDS)
def search_backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def postgres_search_app(wsgi_app):
    """The archive with `archive.search.backend = postgres` (ARCHIVE_SEARCH_BACKEND, as an
    operator sets it), beside the Whoosh one."""
    os.environ["ARCHIVE_SEARCH_BACKEND"] = "postgres"
    try:
        app = get_app(TESTING_INI)
    finally:
        del os.environ["ARCHIVE_SEARCH_BACKEND"]
    yield app
    app.registry.getUtility(ISearchService).wait_for_vacuum(timeout=60)  # purges' rewrites
    app.registry.getUtility(IDatabase).dispose()


@pytest.fixture(scope="session")
def search_app(search_backend, request, wsgi_app):
    if search_backend == "whoosh":
        return wsgi_app
    return request.getfixturevalue("postgres_search_app")


@pytest.fixture
def app(search_app):
    return webtest.TestApp(search_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


@pytest.fixture
def whoosh_only(search_backend):
    """For a test of the Whoosh index's own files and folders (storage/index/)."""
    if search_backend != "whoosh":
        pytest.skip("the Whoosh index's own files: the PostgreSQL backend has none")


@pytest.fixture
def postgres_only(search_backend):
    if search_backend != "postgres":
        pytest.skip("the PostgreSQL search backend's own behaviour")


@pytest.fixture
def whoosh_backend_only(search_backend):
    """For a test whose fixed words or batch numbers the two backends' runs would both file in
    the one database they share (each run would find the other's), or whose work (OCR, the
    pages' exports) is done above `ISearchService`: it runs on the Whoosh backend; the
    contract's search on PostgreSQL is test_search_contract.py's and test_search_api.py's."""
    if search_backend != "whoosh":
        pytest.skip("data fixed per session, over the backends' shared database: on Whoosh")
