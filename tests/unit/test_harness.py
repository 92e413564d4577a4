"""The test harness's own shortcuts (tests/conftest.py) keep what they stand in for."""

from __future__ import annotations

import os
from types import SimpleNamespace

import chameleon.template
import plaster
import plaster.loaders
import pytest
from chameleon.zpt.template import PageTemplate
from sqlalchemy import create_engine, make_url, text
from support import TESTING_INI, worker_database


def test_a_template_compiles_once_and_each_copy_renders_its_own_values():
    loader = chameleon.template.BaseTemplate.loader
    # By name: the search tests' conftest loads tests/conftest.py a second time, as a module
    # of another name, so `conftest.CompiledTemplates` may be that copy's class.
    assert type(loader).__name__ == "CompiledTemplates"
    body = '<p tal:content="name">x</p><!-- test_harness: compiled once -->'
    first = PageTemplate(body)
    compiled = len(loader.modules)
    second = PageTemplate(body)
    assert len(loader.modules) == compiled  # the second copy found the first's code
    assert first(name="甲") == "<p>甲</p><!-- test_harness: compiled once -->"
    assert second(name="乙") == "<p>乙</p><!-- test_harness: compiled once -->"
    assert PageTemplate(body.replace("once", "again"))(name="丙").startswith("<p>丙</p>")
    assert len(loader.modules) == compiled + 1  # another text, compiled anew


def test_the_ini_loader_is_found_once_and_a_new_loader_made_each_time(monkeypatch):
    scans = []
    scan = plaster.loaders._iter_ep_in_dists
    monkeypatch.setattr(plaster.loaders, "_iter_ep_in_dists",
                        lambda *args: scans.append(args) or scan(*args))  # fmt: skip
    assert plaster.loaders.find_loaders("test-harness") == []
    assert plaster.loaders.find_loaders("test-harness") == []
    assert len(scans) == 1  # the installed distributions read once for the scheme
    plaster.loaders.find_loaders("test-harness", protocols=["wsgi"])
    assert len(scans) == 2  # other protocols, another answer
    first, second = plaster.get_loader(TESTING_INI), plaster.get_loader(TESTING_INI)
    assert type(first) is type(second) and first is not second
    assert first.get_settings("app:main") == second.get_settings("app:main")


def test_each_xdist_worker_gets_a_postgresql_database_of_its_own():
    url = os.environ.get("ARCHIVE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL for the tests here (ARCHIVE_TEST_POSTGRES_URL is not set)")
    name = f"{make_url(url).database}_gwtest"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        mine = worker_database(url, "gwtest")
        assert make_url(mine).database == name
        assert make_url(mine).set(database="x") == make_url(url).set(database="x")  # same server
        worker = create_engine(mine)
        with worker.connect() as connection:  # it exists, and answers
            assert connection.execute(text("SELECT current_database()")).scalar() == name
        worker.dispose()
        assert worker_database(url, "gwtest") == mine  # there already: kept, not made again
        assert worker_database(mine, "gwtest") == mine  # a worker's URL stays its own
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_the_longest_files_over_archives_of_their_own_are_run_first(request):
    # Its own names only: the search tests' conftest hands on the root's (`__getattr__`).
    (root,) = [plugin for plugin in request.config.pluginmanager.get_plugins()
               if "LONGEST_ON_THEIR_OWN" in vars(plugin)]  # fmt: skip
    first, second = root.LONGEST_ON_THEIR_OWN[:2]
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in (
        "tests/unit/test_a.py::test_one", f"{second}::test_x", "tests/unit/test_b.py::test_two",
        f"{first}::test_y", "tests/unit/test_a.py::test_three", f"{second}::test_z",
    )]  # fmt: skip
    root.pytest_collection_modifyitems(request.config, items)
    assert [item.nodeid for item in items] == [
        f"{second}::test_x",
        f"{first}::test_y",
        f"{second}::test_z",  # in their own order
        "tests/unit/test_a.py::test_one",
        "tests/unit/test_b.py::test_two",
        "tests/unit/test_a.py::test_three",
    ]
