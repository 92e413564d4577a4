"""What each role's home page shows (`/`): the day's work of an archivist, an auditor, a
privacy officer, a records manager and an admin, gathered from the features.

Every list of dossiers here starts from the one clearance query (records/clearance.py
`readable`), so a dossier above the reader's clearance is never listed nor counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from .access.api import anomalies_for
from .access.audit import log_now
from .access.identities import Identity, identity_of
from .access.models import AccessLogEntry, AccessOutcome, User
from .access.permissions import Role
from .interfaces import IAccessLog, IClock
from .records.clearance import may_read, readable
from .records.derived import TextState
from .records.models import Document, DocumentText, Dossier
from .records.schemas import REQUIRED_KINDS
from .records.vocabulary import LIVING_STATES
from .retention.holds import covered_by, visible_holds
from .retention.models import Hold, RetentionRun
from .retention.services import due_dossiers
from .retention.views import run_view
from .search.saved import saved_searches_of
from .settings import as_int

LIST_LIMIT = 20  # rows a home list shows; its count says how many there are in all
DUE_WINDOWS = (30, 90)  # days ahead the records manager's home looks
DORMANT_DAYS = 90  # no sign-in for this long: a dormant account
RECENT_CHANGE_DAYS = 30
LAST_RUNS = 5


# -- archivist ---------------------------------------------------------------------------


def recent_filings(session: Session, identity: Identity, limit: int = LIST_LIMIT):
    """The latest living dossiers the identity may read, the ones they filed first."""
    theirs_first = case((Dossier.filed_by == identity.username, 0), else_=1)
    query = (
        select(Dossier)
        .where(Dossier.state.in_(LIVING_STATES))
        .order_by(theirs_first, Dossier.filed_at.desc())
        .limit(limit)
    )
    return list(session.scalars(readable(query, identity)))


def _has_kind(kind: str):
    return exists().where(Document.dossier_id == Dossier.id, Document.kind == kind)


def incomplete_clause():
    """SQL: the dossier lacks a document its outcome requires (the filing's completeness
    rule, records/schemas.py REQUIRED_KINDS): imported before the rule, or corrected since."""
    return or_(*(
        and_(Dossier.outcome == outcome, or_(*(~_has_kind(kind) for kind in kinds)))
        for outcome, kinds in REQUIRED_KINDS.items()
    ))  # fmt: skip


@dataclass
class Incomplete:
    dossier: Dossier
    missing: list[str]  # document kinds


def incomplete_dossiers(session: Session, identity: Identity, limit: int = LIST_LIMIT):
    """(how many, the first `limit` with the kinds each lacks) of the readable living dossiers
    that miss a required document."""
    query = select(Dossier).where(Dossier.state.in_(LIVING_STATES), incomplete_clause())
    query = readable(query, identity)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = []
    for dossier in session.scalars(query.order_by(Dossier.filed_at.desc()).limit(limit)):
        present = {document.kind for document in dossier.documents}
        wanted = REQUIRED_KINDS.get(dossier.outcome, ())
        rows.append(Incomplete(dossier, [kind for kind in wanted if kind not in present]))
    return total, rows


def failed_texts(session: Session, identity: Identity, limit: int = LIST_LIMIT):
    """(how many, the first `limit` as (document, dossier)) of the documents of readable living
    dossiers whose text could not be extracted (search does not find them by their text)."""
    query = (
        select(Document, Dossier)
        .join(DocumentText, DocumentText.document_id == Document.id)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(DocumentText.state == TextState.FAILED, Dossier.state.in_(LIVING_STATES))
    )
    query = readable(query, identity)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Document.added_at.desc()).limit(limit)).all()
    return total, [(document, dossier) for document, dossier in rows]


def archivist_home(request, identity: Identity) -> dict:
    session = request.dbsession
    incomplete_total, incomplete = incomplete_dossiers(session, identity)
    failed_total, failed = failed_texts(session, identity)
    return {"recent": recent_filings(session, identity), "incomplete": incomplete,
            "incomplete_total": incomplete_total, "failed": failed,
            "failed_total": failed_total}  # fmt: skip


# -- auditor -----------------------------------------------------------------------------


def auditor_home(request, identity: Identity) -> dict:
    return {"saved_searches": saved_searches_of(request.dbsession, identity.username)[:10]}


# -- privacy officer ---------------------------------------------------------------------


def privacy_home(request, identity: Identity) -> dict:
    flags = anomalies_for(request)
    chain = request.find_service(IAccessLog).verify(request.dbsession)
    log_now(request, "review", detail=f"home page: {len(flags)} flags, chain "
            f"{'verifies' if chain.ok else 'broken'}")  # fmt: skip
    return {"flags": flags[:LIST_LIMIT], "flags_total": len(flags), "chain": chain}


# -- records manager ---------------------------------------------------------------------


@dataclass
class DueWindow:
    days: int
    count: int


@dataclass
class HoldCoverage:
    hold: Hold
    dossier: Dossier | None  # the held dossier; None for a hold by query
    covers: int  # living dossiers it holds that the reader may read


def due_soon(identity: Identity, today: date, days: int):
    """A select() of the readable living dossiers not due today that fall due within `days`
    (a dossier is due once the day is later than its destroy-after day)."""
    query = select(Dossier).where(
        Dossier.state.in_(LIVING_STATES),
        Dossier.destroy_after >= today,
        Dossier.destroy_after < today + timedelta(days=days),
    )
    return readable(query, identity)


def hold_coverage(session: Session, identity: Identity) -> list[HoldCoverage]:
    """Active holds the reader may see, each with how many dossiers (readable ones) it holds."""
    rows = []
    for hold, dossier in visible_holds(session, identity, active_only=True):
        covered = [found for found in covered_by(session, hold)
                   if may_read(identity, found.confidentiality)]  # fmt: skip
        rows.append(HoldCoverage(hold, dossier, len(covered)))
    return rows


def records_home(request, identity: Identity) -> dict:
    session = request.dbsession
    today = request.find_service(IClock).today()
    windows = []
    for days in DUE_WINDOWS:
        query = due_soon(identity, today, days)
        windows.append(DueWindow(days, session.scalar(
            select(func.count()).select_from(query.subquery()))))  # fmt: skip
    upcoming = list(session.scalars(
        due_soon(identity, today, DUE_WINDOWS[-1])
        .order_by(Dossier.destroy_after, Dossier.complaint_no).limit(LIST_LIMIT)))  # fmt: skip
    runs = session.scalars(select(RetentionRun).order_by(RetentionRun.started_at.desc())
                           .limit(LAST_RUNS))  # fmt: skip
    return {"due_now": len(due_dossiers(session, today, identity)), "windows": windows,
            "upcoming": upcoming, "holds": hold_coverage(session, identity),
            "runs": [run_view(session, run, identity) for run in runs]}  # fmt: skip


# -- admin -------------------------------------------------------------------------------


@dataclass
class Account:
    user: User
    last_sign_in: datetime | None = None
    locked_until: datetime | None = None


@dataclass
class AccountChange:
    at: datetime
    by: str | None
    action: str  # a log action: user_add, user_change
    username: str | None  # the account changed, when the entry names it


def last_sign_ins(session: Session) -> dict[str, datetime]:
    """Each user name's (lower case) latest successful sign-in, web or API."""
    name = func.lower(AccessLogEntry.username)
    rows = session.execute(
        select(name, func.max(AccessLogEntry.at))
        .where(AccessLogEntry.action == "login", AccessLogEntry.outcome == AccessOutcome.OK)
        .group_by(name)
    )
    return {username: at for username, at in rows}


def locked_accounts(session: Session, settings, now: datetime) -> dict[str, datetime]:
    """User names (lower case) whose sign-in is blocked now for failed attempts
    (access/throttle.py's rule), with when the block lifts."""
    window = timedelta(minutes=as_int(settings, "archive.login_window_minutes", 1))
    limit = as_int(settings, "archive.login_max_failures_per_user", 1)
    name = func.lower(AccessLogEntry.username)
    rows = session.execute(
        select(name, func.count(), func.min(AccessLogEntry.at))
        .where(AccessLogEntry.action == "login_failed", AccessLogEntry.at >= now - window)
        .group_by(name)
    )
    return {username: oldest + window for username, count, oldest in rows if count >= limit}


USER_NAMED = re.compile(r"^user (\S+?):? ")  # access/users.py's details: "user NAME: ..."


def account_changes(request, since: datetime) -> list[AccountChange]:
    access_log = request.find_service(IAccessLog)
    entries = request.dbsession.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.action.in_(("user_add", "user_change")),
               AccessLogEntry.outcome == AccessOutcome.OK, AccessLogEntry.at >= since)
        .order_by(AccessLogEntry.seq.desc())
        .limit(LIST_LIMIT)
    )  # fmt: skip
    changes = []
    for entry in entries:
        detail = access_log.detail_of(entry) or ""
        named = USER_NAMED.match(detail + " ")
        changes.append(AccountChange(entry.at, entry.username, entry.action,
                                     named.group(1) if named else None))  # fmt: skip
    return changes


def admin_home(request, identity: Identity) -> dict:
    session = request.dbsession
    now = request.find_service(IClock).now()
    users = list(session.scalars(select(User).order_by(User.username)))
    signed_in = last_sign_ins(session)
    locks = locked_accounts(session, request.registry.settings, now)
    dormant_before = now - timedelta(days=DORMANT_DAYS)
    locked, dormant, inactive = [], [], []
    for user in users:
        account = Account(user, signed_in.get(user.username.lower()),
                          locks.get(user.username.lower()))  # fmt: skip
        if not user.active:
            inactive.append(account)
            continue
        if account.locked_until is not None:
            locked.append(account)
        if (account.last_sign_in or user.created_at) < dormant_before:
            dormant.append(account)
    changes = account_changes(request, now - timedelta(days=RECENT_CHANGE_DAYS))
    return {"accounts_total": len(users), "locked": locked, "dormant": dormant,
            "inactive": inactive, "changes": changes, "dormant_days": DORMANT_DAYS,
            "change_days": RECENT_CHANGE_DAYS}  # fmt: skip


# What each role's section shows; its template is templates/home/<role>.pt.
SECTIONS = {
    Role.ARCHIVIST: archivist_home,
    Role.AUDITOR: auditor_home,
    Role.PRIVACY_OFFICER: privacy_home,
    Role.RECORDS_MANAGER: records_home,
    Role.ADMIN: admin_home,
}


def home_values(request) -> dict:
    """The signed-in user's role section: `section` names its template, the rest its values."""
    user = request.user
    build = SECTIONS.get(user.role)
    if build is None:
        return {"section": None}
    return {"section": f"home/{user.role}.pt", **build(request, identity_of(user))}
