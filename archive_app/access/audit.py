"""Writing access-log entries for a request: who, from where, about which dossier."""

from __future__ import annotations

import logging

from ..interfaces import IAccessLog
from .accesslog import Event
from .models import AccessOutcome

log = logging.getLogger(__name__)


def event_for(request, action: str, outcome: str = AccessOutcome.OK, *, dossier=None,
              document_id=None, detail: str | None = None,
              username: str | None = None) -> Event:  # fmt: skip
    user = request.user
    dossier_id = getattr(dossier, "id", None)
    if dossier_id is None and request.matchdict:
        dossier_id = (request.matchdict.get("dossier_id") or "")[:32] or None
    return Event(
        action=action,
        outcome=outcome,
        username=username or (user.username if user is not None else None),
        role=user.role if user is not None else None,
        dossier_id=dossier_id,
        complaint_no=getattr(dossier, "complaint_no", None),
        document_id=document_id,
        ip=request.client_addr,
        user_agent=request.user_agent,
        detail=detail,
    )


def log_in_transaction(request, action: str, outcome: str = AccessOutcome.OK, **kw) -> None:
    """An entry that commits with the request's own changes (filing, appending)."""
    request.find_service(IAccessLog).append(
        request.dbsession, event_for(request, action, outcome, **kw)
    )


def log_now(request, action: str, outcome: str = AccessOutcome.OK, **kw) -> None:
    """An entry committed at once on its own connection (reads): no entry, no content."""
    request.find_service(IAccessLog).append_now(event_for(request, action, outcome, **kw))


def log_after_request(request, action: str, outcome: str = AccessOutcome.OK, **kw) -> None:
    """An entry for a refused request, written once its transaction has ended."""
    event = event_for(request, action, outcome, **kw)
    access_log = request.find_service(IAccessLog)

    def append(_request) -> None:
        try:
            access_log.append_now(event)
        except Exception:  # the answer is already a refusal; say so in the server's log
            log.exception("access-log entry for a refused %s could not be written", action)

    request.add_finished_callback(append)
