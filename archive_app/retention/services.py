"""Holds, the due list, and retention runs that destroy what is due and prove it.

A run destroys dossier by dossier as a roll-forward state machine (DESIGN.md): due and not
held -> `destroying` (committed, hold re-checked in the same transaction) -> index purge ->
keys, personal data and free text erased, tombstone kept -> certificate issued -> blobs
unlinked. Every step is committed before the next, so a rerun after a crash finishes the work
and destroys nothing twice.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, Invalid, NotFound
from ..records.models import Document, Dossier, ProductLine
from .certificates import build_certificate, certificate_sha256
from .models import Certificate, Hold, RetentionLease, RetentionRun

LEASE = timedelta(minutes=5)
METHOD = (
    "cryptographic erase (NIST SP 800-88): data keys and ciphertext deleted; personal data "
    "and free text erased from the database (SQLite secure_delete, WAL checkpoint); search "
    "entries purged with segments merged"
)
ERASED_FILENAME = "destroyed"


def active_hold_exists():
    return exists().where(Hold.dossier_id == Dossier.id, Hold.released_at.is_(None))


def due_dossiers(session: Session, as_of: date) -> list[tuple[Dossier, bool]]:
    """Dossiers kept past their destroy-after day (never on it), with whether any hold is on."""
    query = (
        select(Dossier, active_hold_exists())
        .where(Dossier.destroy_after < as_of, Dossier.state != "destroyed")
        .order_by(Dossier.destroy_after, Dossier.complaint_no)
    )
    return [(dossier, bool(held)) for dossier, held in session.execute(query)]


def place_hold(session: Session, dossier: Dossier, reason: str, by: str, now: datetime) -> Hold:
    if dossier.state in ("destroyed", "destroying"):
        raise Conflict("the dossier is destroyed", field="dossier_id")
    hold = Hold(dossier_id=dossier.id, reason=_reason(reason), placed_by=by, placed_at=now)
    session.add(hold)
    dossier.state = "held"
    session.flush()
    return hold


def release_hold(session: Session, dossier: Dossier, hold_id, reason, by, now) -> Hold:
    hold = session.get(Hold, hold_id) if isinstance(hold_id, int) else None
    if hold is None or hold.dossier_id != dossier.id:
        raise NotFound("no such hold on this dossier", field="hold_id")
    if hold.released_at is not None:
        raise Conflict("the hold is already released", field="hold_id")
    hold.released_at, hold.released_by, hold.release_reason = now, by, _reason(reason)
    session.flush()
    still_held = session.scalar(
        select(exists().where(Hold.dossier_id == dossier.id, Hold.released_at.is_(None)))
    )
    if not still_held and dossier.state == "held":
        dossier.state = "archived"
    return hold


def hold_json(hold: Hold) -> dict:
    return {
        "id": hold.id, "reason": hold.reason, "placed_by": hold.placed_by,
        "placed_at": hold.placed_at.isoformat(), "released_by": hold.released_by,
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "release_reason": hold.release_reason,
    }  # fmt: skip


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid("a reason is required", field="reason")
    return reason.strip()[:2000]


def tombstone(dossier: Dossier) -> dict:
    return {
        "id": dossier.id,
        "complaint_no": dossier.complaint_no,
        "complaint_class": dossier.complaint_class,
        "complaint_type": dossier.complaint_type,
        "received_on": dossier.received_on.isoformat(),
        "closed_on": dossier.closed_on.isoformat(),
        "destroy_after": dossier.destroy_after.isoformat(),
        "destroyed_at": dossier.destroyed_at.isoformat() if dossier.destroyed_at else None,
        "certificate_id": dossier.certificate_id,
        "documents": [{"sha256": d.sha256, "size": d.size} for d in dossier.documents],
    }


@dataclass
class RunResult:
    id: str
    as_of: date
    dry_run: bool
    destroyed: list[str] = field(default_factory=list)
    skipped_held: list[str] = field(default_factory=list)
    certificate_id: str | None = None

    def as_json(self) -> dict:
        return {"id": self.id, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "destroyed": self.destroyed, "skipped_held": self.skipped_held,
                "certificate_id": self.certificate_id}  # fmt: skip


class RetentionBusy(Conflict):
    """Another retention run holds the lease."""


class Destroyer:
    """Runs retention. `transaction(fn)` runs fn(session) in a transaction of its own and
    commits it; the other collaborators are the blob store, the clock, the signing key,
    an index purge callable and an access-log writer."""

    def __init__(self, transaction: Callable, blobs, clock, signing_key, *,
                 purge_index: Callable[[list[str]], None], log_event: Callable[..., None],
                 checkpoint: Callable[[Session], dict | None] | None = None,
                 compact: Callable[[], None] | None = None,
                 fault: Callable[[str], None] | None = None):  # fmt: skip
        self.transaction = transaction
        self.blobs = blobs
        self.clock = clock
        self.signing_key = signing_key
        self.purge_index = purge_index
        self.log_event = log_event
        self.checkpoint = checkpoint
        self.compact = compact
        self.fault = fault or (lambda step: None)

    def run(self, as_of: date | None, dry_run: bool, operator: str, progress=None) -> RunResult:
        today = self.clock.today()
        as_of = as_of or today
        if as_of > today and not dry_run:
            raise Invalid("as_of may be later than today only for a dry run", field="as_of")
        result = RunResult(uuid.uuid4().hex, as_of, dry_run)
        due = self.transaction(lambda s: [(d.id, d.complaint_no, held)
                                          for d, held in due_dossiers(s, as_of)])  # fmt: skip
        result.skipped_held = [number for _id, number, held in due if held]
        candidates = [(dossier_id, number) for dossier_id, number, held in due if not held]
        if dry_run:
            result.destroyed = [number for _id, number in candidates]
            self.transaction(lambda s: self._record_run(s, result, operator))
            return result
        holder = f"{socket.gethostname()}:{os.getpid()}:{result.id}"
        self.transaction(lambda s: self._take_lease(s, holder))
        try:
            certificate_id = self._resume_or_new_certificate_id()
            for dossier_id, number in candidates:
                marked = self.transaction(
                    lambda s, d=dossier_id: self._mark_destroying(s, d, as_of, certificate_id)
                )
                if marked:
                    result.destroyed.append(number)
                else:
                    result.skipped_held.append(number)  # a hold arrived since the listing
                if progress:
                    progress(number)
            self._finish_destroying(operator)
            issued = self._issue_certificates(result, operator)
            self._unlink_blobs()
            self._compact()
            result.certificate_id = issued
        finally:
            self.transaction(lambda s: self._release_lease(s, holder))
        self.transaction(lambda s: self._record_run(s, result, operator))
        return result

    # -- the lease ---------------------------------------------------------------------------

    def _take_lease(self, session: Session, holder: str) -> None:
        now = self.clock.now()
        lease = session.get(RetentionLease, 1, with_for_update=True)
        if lease is None:
            session.add(RetentionLease(id=1, holder=holder, expires_at=now + LEASE))
            return
        if lease.holder and lease.expires_at and lease.expires_at > now and not _dead(lease.holder):
            raise RetentionBusy("another retention run is in progress", field=None)
        lease.holder, lease.expires_at = holder, now + LEASE

    def _release_lease(self, session: Session, holder: str) -> None:
        session.execute(update(RetentionLease).where(RetentionLease.holder == holder)
                        .values(holder=None, expires_at=None))  # fmt: skip

    # -- the steps ---------------------------------------------------------------------------

    def _resume_or_new_certificate_id(self) -> str:
        """A crashed run's certificate id if dossiers still wait for it, else a new one."""

        def pending(session):
            issued = select(Certificate.id)
            return session.scalar(select(Dossier.certificate_id).where(
                Dossier.certificate_id.is_not(None), Dossier.certificate_id.not_in(issued)
            ).limit(1))  # fmt: skip

        return self.transaction(pending) or uuid.uuid4().hex

    def _mark_destroying(self, session: Session, dossier_id: str, as_of: date, cert_id) -> bool:
        dossier = session.get(Dossier, dossier_id, with_for_update=True)
        if dossier is not None and dossier.state == "destroying":
            return True  # a crashed run's: this run finishes it
        if dossier is None or dossier.state == "destroyed":
            return False
        held = session.scalar(select(exists().where(Hold.dossier_id == dossier_id,
                                                    Hold.released_at.is_(None))))  # fmt: skip
        if held or not dossier.destroy_after < as_of:
            return False
        dossier.state, dossier.certificate_id = "destroying", cert_id
        self.fault("marked")
        return True

    def _finish_destroying(self, operator: str) -> None:
        """Every dossier left `destroying` (now or by a crashed run) is erased."""
        waiting = self.transaction(lambda s: list(s.scalars(
            select(Dossier.id).where(Dossier.state == "destroying"))))  # fmt: skip
        for dossier_id in waiting:
            self.purge_index([dossier_id])
            self.fault("index_purged")
            self.transaction(lambda s, d=dossier_id: self._erase(s, d, operator))
            self.fault("erased")

    def _erase(self, session: Session, dossier_id: str, operator: str) -> None:
        dossier = session.get(Dossier, dossier_id, with_for_update=True)
        if dossier.state != "destroying":
            return
        for document in dossier.documents:
            document.wrapped_key = None
            document.kek_version = None
            document.filename = ERASED_FILENAME
        for name in ("name", "organization", "phone", "address"):
            setattr(dossier, f"customer_{name}_enc", None)
        for name in ("name", "organization", "phone"):
            setattr(dossier, f"customer_{name}_hmac", None)
        dossier.title = dossier.summary = dossier.department = dossier.capa_ref = None
        dossier.channel = None
        dossier.measures = []
        dossier.retention_derivation = "destroyed"
        session.execute(ProductLine.__table__.delete().where(ProductLine.dossier_id == dossier_id))
        dossier.state = "destroyed"
        dossier.destroyed_at = self.clock.now()
        self.log_event(session, action="destroy", username=operator, dossier_id=dossier.id,
                       complaint_no=dossier.complaint_no,
                       detail=f"certificate {dossier.certificate_id}")  # fmt: skip

    def _issue_certificates(self, result: RunResult, operator: str) -> str | None:
        def issue(session: Session):
            pending_ids = session.scalars(
                select(Dossier.certificate_id).distinct().where(
                    Dossier.state == "destroyed", Dossier.certificate_id.is_not(None),
                    Dossier.certificate_id.not_in(select(Certificate.id)))
            ).all()  # fmt: skip
            issued = None
            for certificate_id in pending_ids:
                records = [tombstone(d) for d in session.scalars(
                    select(Dossier).where(Dossier.certificate_id == certificate_id)
                    .order_by(Dossier.complaint_no))]  # fmt: skip
                previous_row = session.scalar(
                    select(Certificate).order_by(Certificate.position.desc()).limit(1)
                )
                previous = _loads(previous_row.body) if previous_row else None
                body = build_certificate(
                    certificate_id=certificate_id, run_id=result.id,
                    issued_at=self.clock.now(), as_of=result.as_of, operator=operator,
                    method=METHOD, records=records, previous=previous,
                    signing_key=self.signing_key,
                    access_log_checkpoint=self.checkpoint(session) if self.checkpoint else None,
                )  # fmt: skip
                session.add(Certificate(
                    id=certificate_id, run_id=result.id,
                    position=(previous_row.position + 1) if previous_row else 1,
                    issued_at=self.clock.now(), sha256=certificate_sha256(body),
                    body=_dumps(body)))  # fmt: skip
                issued = certificate_id
            return issued

        issued = self.transaction(issue)
        self.fault("certified")
        return issued

    def _unlink_blobs(self) -> None:
        names = self.transaction(lambda s: list(s.execute(
            select(Document.id, Document.storage_name).join(Dossier)
            .where(Dossier.state == "destroyed", Document.storage_name.is_not(None)))))  # fmt: skip
        for document_id, name in names:
            self.blobs.remove(name)
            self.transaction(lambda s, d=document_id: s.execute(
                update(Document).where(Document.id == d).values(storage_name=None)))  # fmt: skip
        self.fault("unlinked")

    def _compact(self) -> None:
        if self.compact is not None:
            self.compact()

    def _record_run(self, session: Session, result: RunResult, operator: str) -> None:
        session.add(RetentionRun(
            id=result.id, as_of=result.as_of, dry_run=result.dry_run, operator=operator,
            started_at=self.clock.now(), finished_at=self.clock.now(),
            destroyed=result.destroyed, skipped_held=result.skipped_held,
            certificate_id=result.certificate_id))  # fmt: skip
        counts = f"{len(result.destroyed)} destroyed, {len(result.skipped_held)} held"
        detail = f"as of {result.as_of}, dry run {result.dry_run}: {counts}"
        self.log_event(session, action="retention_run", username=operator, detail=detail)


def _dead(holder: str) -> bool:
    """A lease held by a process of this host that no longer exists (killed) can be taken."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, under another user
    return False


def _dumps(body: dict) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def _loads(text_value: str) -> dict:
    return json.loads(text_value)
