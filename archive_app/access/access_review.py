"""Periodic access reviews (EU GMP Annex 11 §12, GSP's computer-system appendix): every
account with its role, clearance, source, last sign-in and live web sessions, the dormant
ones, and the account changes since the last review; a reviewer signs it off and the review
is kept as it was signed (its signature links to the stored body)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..db import Base, UTCDateTime
from ..errors import Conflict, NotFound
from ..settings import as_int
from .models import AccessLogEntry, AccessOutcome, User, WebSession
from .signatures import (
    SignatureMeaning,
    SignedKind,
    content_sha256,
    record_signature,
    signatures_of,
)

DORMANT_SETTING = "archive.review.dormant_days"
DORMANT_DAYS = 90
CHANGE_ACTIONS = ("user_add", "user_change", "session_revoke")
CHANGES_LIMIT = 1000  # changes listed in one review; more are counted, not listed


class AccessReview(Base):
    """A signed-off access review: the body the reviewer saw and signed, frozen."""

    __tablename__ = "access_reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # canonical enough: json.dumps(sort_keys=True)


def dormant_days(settings) -> int:
    """`archive.review.dormant_days` (default 90): an active account with no sign-in for
    this long (or never, since created this long ago) is dormant."""
    return as_int({DORMANT_SETTING: str(DORMANT_DAYS)} | dict(settings), DORMANT_SETTING, 1)


def last_review(session: Session) -> AccessReview | None:
    return session.scalar(
        select(AccessReview)
        .order_by(AccessReview.reviewed_at.desc(), AccessReview.id.desc())
        .limit(1)
    )


def _last_sign_ins(session: Session) -> dict[str, datetime]:
    name = func.lower(AccessLogEntry.username)
    rows = session.execute(
        select(name, func.max(AccessLogEntry.at))
        .where(AccessLogEntry.action == "login", AccessLogEntry.outcome == AccessOutcome.OK)
        .group_by(name)
    )
    return dict(rows.all())


def live_sessions(accounts) -> dict[int, list[WebSession]]:
    """{user id: their web sessions still alive (not idle or past their lifetime)}, by the
    account service's own limits."""
    now = accounts.clock.now()
    rows = accounts.session.scalars(
        select(WebSession).where(WebSession.created_at > now - accounts.session_lifetime,
                                 WebSession.last_seen_at > now - accounts.session_idle)
        .order_by(WebSession.last_seen_at.desc())
    )  # fmt: skip
    found: dict[int, list[WebSession]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(row)
    return found


def account_changes(
    session: Session, access_log, after_seq: int, through_seq: int
) -> tuple[list, int]:
    """The user_add / user_change / session_revoke entries after access-log seq `after_seq`
    up to `through_seq`, oldest first, as `{"seq","at","by","action","detail"}`; and how many
    there are. By seq, not time: the log keeps whole seconds, and a change in the second of
    a sign-off must be in exactly one review."""
    query = select(AccessLogEntry).where(
        AccessLogEntry.action.in_(CHANGE_ACTIONS), AccessLogEntry.outcome == AccessOutcome.OK,
        AccessLogEntry.seq > after_seq, AccessLogEntry.seq <= through_seq)  # fmt: skip
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    entries = session.scalars(query.order_by(AccessLogEntry.seq).limit(CHANGES_LIMIT))
    return [{"seq": entry.seq, "at": entry.at.isoformat(), "by": entry.username,
             "action": entry.action, "detail": access_log.detail_of(entry)}
            for entry in entries], total  # fmt: skip


def review_body(accounts, access_log, days: int) -> dict:
    """The access review as of now: what the page shows, the CLI prints and a sign-off
    keeps (without `generated_at`, which `fingerprint` leaves out)."""
    session, now = accounts.session, accounts.clock.now()
    previous = last_review(session)
    signed_in = _last_sign_ins(session)
    sessions = live_sessions(accounts)
    dormant_before = now - timedelta(days=days)
    rows = []
    for user in session.scalars(select(User).order_by(User.username)):
        last = signed_in.get(user.username.lower())
        rows.append({
            "username": user.username, "full_name": getattr(user, "full_name", None),
            "role": user.role, "clearance": user.clearance, "source": user.source,
            "active": user.active, "created_at": user.created_at.isoformat(),
            "last_sign_in": last.isoformat() if last else None,
            "dormant": bool(user.active and (last or user.created_at) < dormant_before),
            "sessions": [{"id": row.id, "created_at": row.created_at.isoformat(),
                          "last_seen_at": row.last_seen_at.isoformat()}
                         for row in sessions.get(user.id, [])],
        })  # fmt: skip
    # The review covers the log up to its newest entry; the next one starts after it.
    through_seq = session.scalar(select(func.max(AccessLogEntry.seq))) or 0
    after_seq = json.loads(previous.body).get("through_seq", 0) if previous else 0
    changes, total = account_changes(session, access_log, after_seq, through_seq)
    return {
        "generated_at": now.isoformat(), "dormant_days": days,
        "previous_review": None if previous is None else {
            "id": previous.id, "reviewed_at": previous.reviewed_at.isoformat(),
            "reviewer": previous.reviewer},
        "accounts": rows, "dormant": [row["username"] for row in rows if row["dormant"]],
        "changes": changes, "changes_total": total, "through_seq": through_seq,
    }  # fmt: skip


def fingerprint(body: dict) -> str:
    """What the reviewer saw, but for its moment, the log's newest entry and the sessions
    (the reviewer's own moves with every request): a sign-off posts it back, so that nothing is
    signed that changed since (a new account, a role, a sign-in)."""
    accounts = [{key: value for key, value in row.items() if key != "sessions"}
                for row in body["accounts"]]  # fmt: skip
    # `through_seq` moves with any request anyone makes; the changes it bounds are in.
    kept = {key: value for key, value in body.items()
            if key not in ("generated_at", "through_seq")}  # fmt: skip
    return content_sha256(kept | {"accounts": accounts})


def sign_off(accounts, access_log, days: int, reviewer: User, seen: str) -> AccessReview:
    """Keep the review as it is now, signed by `reviewer` (whose signature the caller has
    checked, access/signatures.py); Conflict when it is not what they saw (`seen`)."""
    body = review_body(accounts, access_log, days)
    if fingerprint(body) != seen:
        raise Conflict("the review changed since it was shown: look again and sign",
                       field="expected")  # fmt: skip
    now = accounts.clock.now()
    review = AccessReview(id=uuid.uuid4().hex, reviewed_at=now, reviewer=reviewer.username,
                          body=json.dumps(body, sort_keys=True, ensure_ascii=False))  # fmt: skip
    accounts.session.add(review)
    accounts.session.flush()
    record_signature(accounts.session, reviewer, SignatureMeaning.ACCESS_REVIEW,
                     SignedKind.ACCESS_REVIEW, review.id, signed_content(review), now)  # fmt: skip
    return review


def signed_content(review: AccessReview) -> dict:
    """What a sign-off's signature covers: the stored review as it reads now."""
    return {"id": review.id, "reviewed_at": review.reviewed_at.isoformat(),
            "reviewer": review.reviewer, "body": json.loads(review.body)}  # fmt: skip


def past_reviews(session: Session, limit: int = 20) -> list[tuple[AccessReview, list]]:
    reviews = list(session.scalars(select(AccessReview).order_by(
        AccessReview.reviewed_at.desc()).limit(limit)))  # fmt: skip
    signed = signatures_of(session, SignedKind.ACCESS_REVIEW, [row.id for row in reviews])
    return [(row, signed.get(row.id, [])) for row in reviews]


def end_session(session: Session, session_id: int) -> str:
    """End one web session now (an admin's revocation): its cookie no longer counts. The
    user name whose session it was."""
    row = session.get(WebSession, session_id)
    if row is None:
        raise NotFound("no such session", field="session_id")
    username = row.user.username
    session.execute(delete(WebSession).where(WebSession.id == row.id))
    return username
