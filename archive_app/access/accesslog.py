"""The access log: append-only entries chained with HMAC-SHA256, and their verification.

`detail` can hold search terms and names, so it is stored encrypted (base64 of the
field-cipher value); the chain covers what is stored, so verification needs no decryption.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from .checkpoints import CheckpointError
from .models import AccessLogEntry, AccessLogHead

GENESIS_MAC = "0" * 64
CHECKPOINT_EVERY = 1000  # entries between automatic signed checkpoints
CHAINED_FIELDS = (
    "seq", "at", "username", "role", "action", "outcome", "dossier_id",
    "complaint_no", "document_id", "ip", "user_agent", "detail",
)  # fmt: skip


@dataclass
class Event:
    """What happened, before it has a place in the chain."""

    action: str
    outcome: str = "ok"
    username: str | None = None
    role: str | None = None
    dossier_id: str | None = None
    complaint_no: str | None = None
    document_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    detail: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None


SORTED_FIELDS = tuple(sorted(CHAINED_FIELDS))
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _canonical(values: dict) -> bytes:
    # Keys are already in sorted order (SORTED_FIELDS): the same bytes as sort_keys=True,
    # without sorting a million times during verification.
    return _encoder.encode(values).encode()


def _entry_values(entry) -> dict:
    """The chained fields of an entry, in sorted key order: an ORM object or a mapping."""
    get = entry.__getitem__ if isinstance(entry, dict) else entry.__getattribute__
    values = {name: get(name) for name in SORTED_FIELDS}
    at = values["at"]
    if at.tzinfo is not UTC:
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    values["at"] = at.isoformat()
    return values


def chain_mac(key: bytes, previous_mac: str, entry) -> str:
    message = previous_mac.encode("ascii") + _canonical(_entry_values(entry))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


DETAIL_CONTEXT = "access_log.detail"


class AccessLog:
    def __init__(self, key: bytes, clock: Clock, session_factory, fields, checkpoints=None):
        self.key = key
        self.clock = clock
        self.fields = fields
        self.checkpoints = checkpoints
        # For entries that must outlive the request's own transaction (denials).
        self.session_factory = session_factory

    def append(self, session: Session, event: Event) -> AccessLogEntry:
        """Add an entry in `session`'s transaction; it commits or vanishes with the action."""
        head = session.scalar(select(AccessLogHead).where(AccessLogHead.id == 1).with_for_update())
        if head is None:
            head = AccessLogHead(id=1, seq=0, mac=GENESIS_MAC)
            session.add(head)
        entry = AccessLogEntry(
            seq=head.seq + 1,
            at=self.clock.now().replace(microsecond=0),
            username=event.username,
            role=event.role,
            action=event.action,
            outcome=event.outcome,
            dossier_id=event.dossier_id,
            complaint_no=event.complaint_no,
            document_id=event.document_id,
            ip=(event.ip or None) and event.ip[:64],
            user_agent=(event.user_agent or None) and event.user_agent[:255],
            detail=self._seal(event.detail),
        )
        entry.mac = chain_mac(self.key, head.mac, entry)
        session.add(entry)
        head.seq, head.mac = entry.seq, entry.mac
        session.flush()
        return entry

    def _seal(self, detail: str | None) -> str | None:
        if detail is None:
            return None
        sealed = self.fields.encrypt(detail[:4000], context=DETAIL_CONTEXT)
        return base64.b64encode(sealed).decode("ascii")

    def detail_of(self, entry: AccessLogEntry) -> str | None:
        if entry.detail is None:
            return None
        return self.fields.decrypt(base64.b64decode(entry.detail), context=DETAIL_CONTEXT)

    def as_json(self, entry: AccessLogEntry) -> dict:
        return {
            "seq": entry.seq,
            "at": entry.at.isoformat(),
            "user": entry.username,
            "role": entry.role,
            "action": entry.action,
            "dossier_id": entry.dossier_id,
            "complaint_no": entry.complaint_no,
            "document_id": entry.document_id,
            "outcome": entry.outcome,
            "ip": entry.ip,
            "detail": self.detail_of(entry),
        }

    def append_now(self, event: Event) -> AccessLogEntry:
        """Add an entry in a transaction of its own, committed before returning."""
        with self.session_factory() as session:
            with session.begin():
                entry = self.append(session, event)
            if entry.seq % CHECKPOINT_EVERY == 0:
                self.write_checkpoint(session)
            return entry

    def verify(self, session: Session, batch: int = 5000) -> ChainReport:
        previous, expected_seq, count = GENESIS_MAC, 1, 0
        head = session.get(AccessLogHead, 1)
        # Plain rows, not ORM objects: a million entries verify faster, in bounded memory.
        columns = [AccessLogEntry.__table__.c[name] for name in (*CHAINED_FIELDS, "mac")]
        query = select(*columns).order_by(AccessLogEntry.seq).execution_options(yield_per=batch)
        rows = session.execute(query)
        try:
            for row in rows:
                entry = dict(row._mapping)
                count += 1
                if entry["seq"] != expected_seq or not hmac.compare_digest(
                    chain_mac(self.key, previous, entry), entry["mac"]
                ):
                    return ChainReport(False, count, min(entry["seq"], expected_seq))
                previous, expected_seq = entry["mac"], entry["seq"] + 1
        finally:
            rows.close()  # a server-side cursor on PostgreSQL when left early
        if head is not None and (head.seq != expected_seq - 1 or head.mac != previous):
            # The tail was cut (or the head row rewritten): the first missing entry is bad.
            return ChainReport(False, count, expected_seq)
        try:
            checkpoint = self.checkpoints.latest() if self.checkpoints is not None else None
        except CheckpointError:
            return ChainReport(False, count, None)
        if checkpoint is not None:
            # Signed outside the database: a chain rewritten or cut back to before it fails.
            at_checkpoint = session.get(AccessLogEntry, checkpoint.seq)
            if at_checkpoint is None or at_checkpoint.mac != checkpoint.mac:
                first_bad = checkpoint.seq if at_checkpoint is None else 1
                return ChainReport(False, count, min(first_bad, expected_seq))
        return ChainReport(True, count, None)

    def write_checkpoint(self, session: Session):
        """Record the chain's head, signed, outside the database (on demand, periodically)."""
        head = session.get(AccessLogHead, 1)
        if head is None or self.checkpoints is None:
            return None
        return self.checkpoints.write(head.seq, head.mac, self.clock.now())

    def entries(self, session: Session, since: datetime | None = None):
        query = select(AccessLogEntry).order_by(AccessLogEntry.seq)
        if since is not None:
            query = query.where(AccessLogEntry.at >= since)
        return session.scalars(query)
