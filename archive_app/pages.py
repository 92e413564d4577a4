"""What every page's POST shares: the form's `action` names the step to take, and a refusal
shows the same page again, at the refusal's status, with its words beside the field."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TypeVar

from translationstring import TranslationStringFactory

from .errors import ArchiveError, NotFound

_ = TranslationStringFactory("archive")

Step = TypeVar("Step")


def chosen_step(request, steps: Mapping[str, Step]) -> Step:
    """The step the form's `action` names; any other action is refused beside that field."""
    step = steps.get(request.POST.get("action", ""))
    if step is None:
        raise NotFound(_("unknown action"), field="action")
    return step


def refused(request, error: ArchiveError) -> None:
    """Nothing a refused step did is kept (a service may have flushed rows before it
    refused) and the page answers at the refusal's status."""
    request.tm.doom()
    request.response.status = error.status


def shows_refusals(again: Callable[[object, ArchiveError], object]):
    """A page's POST view, decorated: a refusal (an ArchiveError) answers `again(request,
    error)`, the page with the error where it belongs; a view never catches its own."""

    def decorate(view):
        @functools.wraps(view)
        def shown(request):
            try:
                return view(request)
            except ArchiveError as error:
                refused(request, error)
                return again(request, error)

        return shown

    return decorate
