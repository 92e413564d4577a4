"""The test harness's own shortcuts (tests/conftest.py) keep what they stand in for."""

from __future__ import annotations

import chameleon.template
import plaster
import plaster.loaders
from chameleon.zpt.template import PageTemplate
from support import TESTING_INI


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
