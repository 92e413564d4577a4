"""What every page's POST shares (`archive_app/pages.py`): the form's `action` picks the step,
and a refusal shows the page again at its status with nothing kept."""

from __future__ import annotations

import pytest
import transaction
from pyramid.testing import DummyRequest

from archive_app.errors import Conflict, NotFound
from archive_app.pages import chosen_step, shows_refusals


def posted(**form) -> DummyRequest:
    request = DummyRequest(post=form)
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    return request


def test_the_action_names_the_step():
    steps = {"hold": "the hold step", "release": "the release step"}
    assert chosen_step(posted(action="release"), steps) == "the release step"


@pytest.mark.parametrize("form", [{"action": "destroy_all"}, {}, {"action": ""}])
def test_any_other_action_is_refused_beside_its_field(form):
    with pytest.raises(NotFound) as refused:
        chosen_step(posted(**form), {"hold": "the hold step"})
    assert refused.value.field == "action" and refused.value.status == 404


def test_a_refusal_shows_the_page_again_at_its_status_and_keeps_nothing():
    shown = []

    @shows_refusals(lambda request, error: shown.append(error) or {"error": error})
    def action(request):
        raise Conflict("taken", field="username")

    request = posted(action="create")
    answer = action(request)
    assert answer["error"].field == "username" and shown == [answer["error"]]
    assert request.response.status_code == 409
    assert request.tm.isDoomed()


def test_a_step_that_is_not_refused_answers_as_it_did():
    @shows_refusals(lambda request, error: pytest.fail(f"refused: {error}"))
    def action(request):
        return {"message": "saved"}

    request = posted(action="change")
    assert action(request) == {"message": "saved"}
    assert request.response.status_code == 200 and not request.tm.isDoomed()
    assert action.__name__ == "action"  # venusian and the route walk name the view by it


def test_what_is_not_a_refusal_is_not_caught():
    @shows_refusals(lambda request, error: {"error": error})
    def action(request):
        raise KeyError("a defect, for the error view")

    request = posted()
    with pytest.raises(KeyError):
        action(request)
    assert not request.tm.isDoomed()  # pyramid_tm aborts it; the error view answers 500
