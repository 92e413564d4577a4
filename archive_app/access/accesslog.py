"""The access log: append-only entries chained with HMAC-SHA256, signed checkpoints of the
chain, and their verification.

`detail` can hold search terms and names, so it is stored encrypted (base64 of the
field-cipher value); the chain covers what is stored, so verification needs no decryption.

A tail cut from the chain is found only against something outside the database: the signed
checkpoint file (checkpoints.py). So every entry is covered by a signed checkpoint within
`checkpoint_seconds` of being written: after an entry commits, the log writes one at once
if the oldest entry this process has not yet covered is that old, and otherwise arms a timer
for that moment (quiet periods), and writes a last one at exit. Each checkpoint is itself an
entry of the chain (action `checkpoint`), signed into the file once committed, so the chain
says which checkpoints the file must hold: a file removed, replaced or cut is found too.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.event import listen
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..clock import Clock
from ..interfaces import IAccessLog
from .checkpoints import Checkpoint
from .models import AccessLogEntry, AccessLogHead

GENESIS_MAC = "0" * 64
CHECKPOINT_ACTION = "checkpoint"
CHECKPOINT_SECONDS = 60  # archive.access_log.checkpoint_seconds
# An entry is reported uncovered when older than checkpoint_seconds plus this: time for the
# timer to fire and the checkpoint to commit on a busy machine.
CHECKPOINT_GRACE_SECONDS = 5
_PENDING = "access_log.uncovered_since"  # session.info: the oldest entry not yet committed
_LISTENING = "access_log.listening"
log = logging.getLogger(__name__)
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
    problems: tuple[str, ...] = ()  # one line each: `access-log seq N: …` or the file's name


class ThreadTimers:
    """Real timers for quiet periods: daemon threads, so no process waits for one at exit
    (the exit checkpoint covers what they would have)."""

    def schedule(self, delay: float, callback) -> None:
        timer = threading.Timer(delay, callback)
        timer.daemon = True
        timer.start()


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


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def chain_mac(key: bytes, previous_mac: str, entry) -> str:
    message = previous_mac.encode("ascii") + _canonical(_entry_values(entry))
    return hmac.new(key, message, hashlib.sha256).hexdigest()


DETAIL_CONTEXT = "access_log.detail"


@implementer(IAccessLog)
class AccessLog:
    def __init__(self, key: bytes, clock: Clock, session_factory, fields, checkpoints=None, *,
                 checkpoint_seconds: int = CHECKPOINT_SECONDS, timers=None,
                 at_exit=atexit.register):  # fmt: skip
        self.key = key
        self.clock = clock
        self.fields = fields
        self.checkpoints = checkpoints
        # For entries that must outlive the request's own transaction (denials), and for
        # checkpoints, which are written on the log's own connection.
        self.session_factory = session_factory
        self.checkpoint_seconds = checkpoint_seconds
        self.timers = timers or ThreadTimers()
        self._at_exit = at_exit
        self._lock = threading.Lock()
        self._uncovered_since: datetime | None = None  # oldest entry of ours not checkpointed
        self._armed_for: datetime | None = None
        self._writes = 0  # entries committed, to tell whether one raced a checkpoint
        self._exit_registered = False

    def append(self, session: Session, event: Event) -> AccessLogEntry:
        """Add an entry in `session`'s transaction; it commits or vanishes with the action."""
        entry = self._chain(session, event)
        if self.checkpoints is not None:
            pending = session.info.get(_PENDING)
            session.info[_PENDING] = entry.at if pending is None else min(pending, entry.at)
            if not session.info.get(_LISTENING):
                session.info[_LISTENING] = True
                listen(session, "after_commit", self._session_committed)
        return entry

    def _chain(self, session: Session, event: Event) -> AccessLogEntry:
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
                entry = self._chain(session, event)
        self._committed(entry.at)
        return entry

    # -- checkpoints -----------------------------------------------------------------------

    def _session_committed(self, session: Session) -> None:
        oldest = session.info.pop(_PENDING, None)
        if oldest is not None:
            self._committed(oldest)

    def _committed(self, oldest: datetime) -> None:
        """Entries written at `oldest` or later have committed: see that a checkpoint covers
        them within checkpoint_seconds, now if that is already past, else by a timer."""
        if self.checkpoints is None:
            return
        with self._lock:
            self._writes += 1
            if not self._exit_registered:
                self._exit_registered = True
                self._at_exit(self._checkpoint_at_exit)
            if self._uncovered_since is None or oldest < self._uncovered_since:
                self._uncovered_since = _aware(oldest)
            deadline = self._uncovered_since + timedelta(seconds=self.checkpoint_seconds)
            now = self.clock.now()
            wait = (deadline - now).total_seconds()
            if wait > 0:
                # A timer past its time is late (a busy machine): arm one for this deadline
                # too; the later of the two finds nothing new and writes nothing.
                armed = self._armed_for
                if armed is None or deadline < armed or armed <= now:
                    self._armed_for = deadline
                    self.timers.schedule(wait, self._timer_fired)
                return
        self.checkpoint_if_needed()

    def _timer_fired(self) -> None:
        with self._lock:
            self._armed_for = None
        self.checkpoint_if_needed()

    def _checkpoint_at_exit(self) -> None:
        if self._uncovered_since is not None:
            # One line, no traceback: at exit the storage may be gone (a test's, a moved one).
            self.checkpoint_if_needed(traceback=False)

    def checkpoint_if_needed(self, *, traceback: bool = True) -> Checkpoint | None:
        """A checkpoint unless the chain's newest entry is one already. Never raises: it runs
        after a commit, from a timer or at exit, where a failure must not undo anything; the
        entries stay uncovered (verify says so) and the next entry tries again."""
        with self._lock:
            writes, started = self._writes, self.clock.now().replace(microsecond=0)
        try:
            written = self.write_checkpoint(only_if_new=True)
        except Exception as error:
            log.error("the access-log checkpoint could not be written: %s",
                      str(error).splitlines()[0] if str(error) else type(error).__name__,
                      exc_info=traceback)  # fmt: skip
            return None
        with self._lock:
            if self._writes == writes:
                self._uncovered_since = None
            else:
                # An entry committed meanwhile, perhaps after the checkpoint: its time is
                # no earlier than `started`, so its deadline is kept from there.
                self._uncovered_since = started
                deadline = started + timedelta(seconds=self.checkpoint_seconds)
                if self._armed_for is None:
                    self._armed_for = deadline
                    wait = max((deadline - self.clock.now()).total_seconds(), 0.0)
                    self.timers.schedule(wait, self._timer_fired)
        return written

    def write_checkpoint(self, session: Session | None = None, *,
                         only_if_new: bool = False) -> Checkpoint | None:  # fmt: skip
        """Add a checkpoint entry to the chain and sign it into the checkpoint file.

        With `session`, the entry joins that transaction and the file line is written when it
        commits (a certificate names the checkpoint it is issued with); without, both happen
        now on the log's own connection. None when the log is empty (or, `only_if_new`, when
        the newest entry is a checkpoint already).
        """
        if self.checkpoints is None:
            return None
        if session is not None:
            entry = self._checkpoint_entry(session, only_if_new)
            if entry is None:
                return None
            seq, mac = entry.seq, entry.mac
            listen(session, "after_commit", lambda _s: self.checkpoints.write(
                seq, mac, self.clock.now()), once=True)  # fmt: skip
            return Checkpoint(seq, mac, entry.at.isoformat())
        with self.session_factory() as own:
            with own.begin():
                entry = self._checkpoint_entry(own, only_if_new)
            if entry is None:
                return None
            return self.checkpoints.write(entry.seq, entry.mac, self.clock.now())

    def _checkpoint_entry(self, session: Session, only_if_new: bool) -> AccessLogEntry | None:
        head = session.scalar(select(AccessLogHead).where(AccessLogHead.id == 1).with_for_update())
        if head is None or head.seq == 0:
            return None
        if only_if_new:
            newest = session.get(AccessLogEntry, head.seq)
            if newest is not None and newest.action == CHECKPOINT_ACTION:
                return None
        detail = f"signed checkpoint after access-log seq {head.seq}, head MAC {head.mac}"
        return self._chain(session, Event(action=CHECKPOINT_ACTION, role="system", detail=detail))

    # -- verification ----------------------------------------------------------------------

    def verify(self, session: Session, batch: int = 5000,
               now: datetime | None = None) -> ChainReport:  # fmt: skip
        """The chain's MACs, its head, and the signed checkpoints against the chain.

        Hard problems (an entry altered, inserted, deleted or moved; a cut tail; a checkpoint
        file removed, replaced or forged) name the first place they show; an entry older than
        checkpoint_seconds that no signed checkpoint covers is reported after them.
        """
        now = _aware(now or self.clock.now())
        found = self.checkpoints.records() if self.checkpoints is not None else None
        signed = {c.seq: c for c in found.checkpoints} if found else {}
        hard: list[tuple[int | None, str]] = []
        soft: list[tuple[int | None, str]] = []
        previous, expected_seq, count, broken_at = GENESIS_MAC, 1, 0, None
        macs: dict[int, str] = {}  # the chain's MAC at each seq the file signs
        in_chain: list[int] = []  # the chain's checkpoint entries
        after: dict[int, tuple[int, datetime]] = {}  # entry after each checkpoint (0: the first)
        last_checkpoint = 0
        head = session.get(AccessLogHead, 1)
        # Plain rows, not ORM objects: a million entries verify faster, in bounded memory.
        columns = [AccessLogEntry.__table__.c[name] for name in (*CHAINED_FIELDS, "mac")]
        query = select(*columns).order_by(AccessLogEntry.seq).execution_options(yield_per=batch)
        rows = session.execute(query)
        try:
            for row in rows:
                entry = dict(row._mapping)
                count += 1
                seq = entry["seq"]
                if seq != expected_seq or not hmac.compare_digest(
                    chain_mac(self.key, previous, entry), entry["mac"]
                ):
                    broken_at = min(seq, expected_seq)
                    hard.append((broken_at, f"access-log seq {broken_at}: altered, inserted, "
                                 "deleted or moved (the chain breaks here)"))  # fmt: skip
                    break
                if seq in signed:
                    macs[seq] = entry["mac"]
                if entry["action"] == CHECKPOINT_ACTION:
                    in_chain.append(seq)
                    last_checkpoint = seq
                elif last_checkpoint not in after:
                    after[last_checkpoint] = (seq, _aware(entry["at"]))
                previous, expected_seq = entry["mac"], seq + 1
        finally:
            rows.close()  # a server-side cursor on PostgreSQL when left early
        if (
            broken_at is None
            and head is not None
            and (head.seq != expected_seq - 1 or head.mac != previous)
        ):
            # The tail was cut (or the head row rewritten): the first missing entry is bad.
            hard.append((expected_seq, f"access-log seq {expected_seq}: the head names seq "
                         f"{head.seq}; the tail was cut or the head rewritten"))  # fmt: skip
        if found is not None:
            self._compare_checkpoints(found, signed, macs, in_chain, expected_seq - 1,
                                      broken_at, hard)  # fmt: skip
            covered = max((s for s in signed if macs.get(s) == signed[s].mac), default=0)
            first = after.get(covered)
            limit = now - timedelta(seconds=self.checkpoint_seconds + CHECKPOINT_GRACE_SECONDS)
            if broken_at is None and first is not None and first[1] < limit:
                soft.append((first[0], f"access-log seq {first[0]}: older than "
                             f"{self.checkpoint_seconds} s and covered by no signed checkpoint "
                             "(a checkpoint was removed, or the tail after it cut)"))  # fmt: skip
        problems = hard + soft
        seqs = [seq for seq, _line in hard if seq is not None] or [
            seq for seq, _line in soft if seq is not None]  # fmt: skip
        return ChainReport(not problems, count, min(seqs) if seqs else None,
                           tuple(line for _seq, line in problems))  # fmt: skip

    def _compare_checkpoints(self, found, signed, macs, in_chain, last_seq, broken_at, hard):
        name = self.checkpoints.name
        hard += [(None, problem) for problem in found.problems]
        if not found.exists:
            if in_chain:
                hard.append((None, f"{name}: missing, though the chain records "
                             f"{len(in_chain)} checkpoint(s) (the file was removed)"))  # fmt: skip
            return
        checkpoint_seqs = set(in_chain)
        beyond = [seq for seq in signed if seq > last_seq]
        if beyond and broken_at is None:
            hard.append((last_seq + 1, f"access-log seq {last_seq + 1}: missing, though {name} "
                         f"signs the chain up to seq {max(beyond)} (tail cut)"))  # fmt: skip
        for seq in sorted(signed):
            if seq > last_seq or (broken_at is not None and seq >= broken_at):
                continue  # said once, at the cut or the break
            if seq not in checkpoint_seqs or macs.get(seq) != signed[seq].mac:
                hard.append((seq, f"access-log seq {seq}: differs from the checkpoint "
                             f"signed in {name}"))  # fmt: skip
        unsigned = [seq for seq in in_chain if seq not in signed]
        if unsigned:
            more = f" (and {len(unsigned) - 1} more)" if len(unsigned) > 1 else ""
            hard.append((unsigned[0], f"access-log seq {unsigned[0]}: a checkpoint of the "
                         f"chain that {name} lacks{more} (file replaced or cut)"))  # fmt: skip

    def entries(self, session: Session, since: datetime | None = None):
        query = select(AccessLogEntry).order_by(AccessLogEntry.seq)
        if since is not None:
            query = query.where(AccessLogEntry.at >= since)
        return session.scalars(query)
