"""The due list, and retention runs that destroy what is due and prove it.

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
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from translationstring import TranslationStringFactory

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..records.clearance import readable
from ..records.derived import erase_derived_text
from ..records.models import Document, Dossier, DossierCorrection, ProductLine
from ..records.serializers import tombstone
from ..records.vocabulary import DossierState
from .certificates import build_certificate, certificate_sha256
from .holds import active_hold_exists, is_held
from .models import (
    Certificate,
    Hold,
    ProposalState,
    RetentionLease,
    RetentionProposal,
    RetentionRun,
)

_ = TranslationStringFactory("archive")

LEASE = timedelta(minutes=5)
METHOD = (
    "cryptographic erase (NIST SP 800-88): data keys and ciphertext deleted; personal data "
    "and free text erased from the database (SQLite secure_delete, WAL checkpoint); search "
    "entries purged with segments merged"
)
ERASED_FILENAME = "destroyed"
ERASED_REASON = "erased with the dossier"  # holds.reason is NOT NULL: a marker, not None
BATCH = 200  # dossiers (or documents) per committed step of a run


def due_dossiers(session: Session, as_of: date, identity) -> list[tuple[Dossier, bool]]:
    """Dossiers kept past their destroy-after day (never on it) that the identity may read,
    with whether any hold is on."""
    query = (
        select(Dossier, active_hold_exists())
        .where(Dossier.destroy_after < as_of, Dossier.state != DossierState.DESTROYED)
        .order_by(Dossier.destroy_after, Dossier.complaint_no)
    )
    return [(dossier, bool(held)) for dossier, held in session.execute(readable(query, identity))]


@dataclass
class RunResult:
    id: str
    as_of: date
    dry_run: bool
    destroyed: list[str] = field(default_factory=list)
    skipped_held: list[str] = field(default_factory=list)
    certificate_id: str | None = None
    # Approval mode: the proposal this run made (nothing destroyed until it is approved).
    proposal_id: str | None = None
    proposed: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        body = {"id": self.id, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
                "destroyed": self.destroyed, "skipped_held": self.skipped_held,
                "certificate_id": self.certificate_id}  # fmt: skip
        if self.proposal_id:
            body.update(proposal_id=self.proposal_id, proposed=self.proposed)
        return body


class RetentionBusy(Conflict):
    """Another retention run holds the lease."""


class Destroyer:
    """Runs retention for one identity (records/clearance.py): it lists, proposes, approves
    and destroys only dossiers that identity may read. `transaction(fn)` runs fn(session) in
    a transaction of its own and commits it; the other collaborators are the blob store, the
    clock, the signing key, an index purge callable and an access-log writer."""

    def __init__(self, transaction: Callable, blobs, clock, signing_key, *, identity,
                 purge_index: Callable[[list[str]], None], log_event: Callable[..., None],
                 checkpoint: Callable[[Session], dict | None] | None = None,
                 compact: Callable[[], None] | None = None,
                 fault: Callable[[str], None] | None = None,
                 sweep_buckets: Callable[[], list[str]] | None = None,
                 approval: bool = False):  # fmt: skip
        self.transaction = transaction
        self.identity = identity
        self.blobs = blobs
        self.clock = clock
        self.signing_key = signing_key
        self.purge_index = purge_index
        self.log_event = log_event
        self.checkpoint = checkpoint
        self.compact = compact
        self.fault = fault or (lambda step: None)
        self.sweep_buckets = sweep_buckets or (lambda: [])
        self.approval = approval
        self.destroyed_buckets: list[str] = []
        self._holder: str | None = None  # this run's name on the lease, while it holds it

    def run(
        self,
        as_of: date | None,
        dry_run: bool,
        operator: str,
        progress=None,
        only: set[str] | None = None,
    ) -> RunResult:
        """`only` (dossier ids) bounds the run to what a person confirmed (retention/views.py):
        a dossier that became due since is left for the next run."""
        today = self.clock.today()
        as_of = as_of or today
        if as_of > today and not dry_run:
            raise Invalid(_("as_of may be later than today only for a dry run"), field="as_of")
        result = RunResult(uuid.uuid4().hex, as_of, dry_run)
        candidates = self._candidates(result, as_of, only)
        if dry_run:
            result.destroyed = [number for _id, number in candidates]
            self.transaction(lambda s: self._record_run(s, result, operator))
            return result
        if self.approval:
            return self._propose(result, candidates, operator)
        return self._destroy(result, candidates, operator, progress)

    def _candidates(self, result: RunResult, as_of: date, only: set[str] | None = None):
        # Narrowed to the operator's clearance: what they may not read stays due for one who
        # may, and is not named in this run's answer (not even as held).
        due = self.transaction(lambda s: [(d.id, d.complaint_no, held) for d, held
                                          in due_dossiers(s, as_of, self.identity)])  # fmt: skip
        # Every held dossier due is named, also when `only` (the page's confirmed run: what
        # it listed) narrows what is destroyed.
        result.skipped_held = [number for _id, number, held in due if held]
        if only is not None:
            due = [row for row in due if row[0] in only]
        return [(dossier_id, number) for dossier_id, number, held in due if not held]

    # -- approval mode -----------------------------------------------------------------------

    def _propose(self, result: RunResult, candidates, operator: str) -> RunResult:
        """Approval mode: list what is due for a second records manager; destroy nothing."""
        result.proposed = [number for _id, number in candidates]
        if candidates:
            result.proposal_id = uuid.uuid4().hex
            self.transaction(lambda s: s.add(RetentionProposal(
                id=result.proposal_id, as_of=result.as_of, proposed_by=operator,
                proposed_at=self.clock.now(), dossier_ids=[i for i, _n in candidates],
                state=ProposalState.PROPOSED)))  # fmt: skip
        self.transaction(lambda s: self._record_run(s, result, operator))
        return result

    def approve(self, proposal_id: str, approver: str, progress=None) -> RunResult:
        """The second records manager's approval: destroys what the proposal listed and is
        still due and not held. A crashed approval is resumed by approving again."""

        def decide(session: Session):
            proposal = _proposal(session, proposal_id)
            if proposal.state == ProposalState.PROPOSED:
                if proposal.proposed_by == approver:
                    raise Forbidden(_("the proposer cannot approve their own proposal"),
                                    field="proposal_id")  # fmt: skip
                proposal.state, proposal.decided_by = ProposalState.APPROVED, approver
                proposal.decided_at = self.clock.now()
            elif proposal.state != ProposalState.APPROVED or proposal.run_id is not None:
                raise Conflict(f"the proposal is already {proposal.state}", field="proposal_id")
            elif proposal.decided_by != approver:
                raise Conflict(_("the proposal is being approved by another"), field="proposal_id")
            return proposal.as_of, set(proposal.dossier_ids)

        as_of, only = self.transaction(decide)
        result = RunResult(uuid.uuid4().hex, as_of, False, proposal_id=proposal_id)
        candidates = self._candidates(result, as_of, only)
        self._destroy(result, candidates, approver, progress)
        self.transaction(lambda s: setattr(s.get(RetentionProposal, result.proposal_id),
                                           "run_id", result.id))  # fmt: skip
        return result

    def reject(self, proposal_id: str, by: str) -> str:
        def decide(session: Session):
            proposal = _proposal(session, proposal_id)
            if proposal.state != ProposalState.PROPOSED:
                raise Conflict(f"the proposal is already {proposal.state}", field="proposal_id")
            proposal.state, proposal.decided_by = ProposalState.REJECTED, by
            proposal.decided_at = self.clock.now()
            self.log_event(session, action="retention_run", username=by,
                           detail=f"proposal {proposal.id} rejected")  # fmt: skip
            return proposal.id

        return self.transaction(decide)

    # -- destruction -------------------------------------------------------------------------

    def _destroy(self, result: RunResult, candidates, operator: str, progress) -> RunResult:
        holder = f"{socket.gethostname()}:{os.getpid()}:{result.id}"
        self.transaction(lambda s: self._take_lease(s, holder))
        self._holder = holder
        try:
            certificate_id = self._resume_or_new_certificate_id()
            for start in range(0, len(candidates), BATCH):
                batch = candidates[start : start + BATCH]

                def mark(session, batch=batch):
                    self._renew_lease(session)
                    return [
                        self._mark_destroying(session, dossier_id, result.as_of, certificate_id)
                        for dossier_id, _n in batch
                    ]

                marked = self.transaction(mark)
                for (_id, number), was_marked in zip(batch, marked, strict=True):
                    if was_marked:
                        result.destroyed.append(number)
                    else:
                        result.skipped_held.append(number)  # a hold arrived since the listing
                    if progress:
                        progress(number)
            self._finish_destroying(operator)
            issued = self._issue_certificates(result, operator)
            self._unlink_blobs()
            self.transaction(self._renew_lease)
            self.destroyed_buckets = self.sweep_buckets()
            self.transaction(self._renew_lease)
            self._compact()
            result.certificate_id = issued
        finally:
            self._holder = None
            self.transaction(lambda s: self._release_lease(s, holder))
        self.transaction(lambda s: self._record_run(s, result, operator))
        return result

    # -- the lease ---------------------------------------------------------------------------

    def _take_lease(self, session: Session, holder: str) -> None:
        now = self.clock.now()
        # The one row exists before it is locked: two first runs (two processes) that each
        # found it missing would both insert it, and on PostgreSQL the second would fail on
        # the key instead of answering "busy". Inserting nothing on a conflict waits for the
        # other's transaction; the locking read after it sees that run's lease.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(RetentionLease).values(id=1)
                        .on_conflict_do_nothing(index_elements=["id"]))  # fmt: skip
        lease = session.get(RetentionLease, 1, with_for_update=True, populate_existing=True)
        if lease.holder and lease.expires_at and lease.expires_at > now and not _dead(lease.holder):
            raise RetentionBusy(_("another retention run is in progress"), field=None)
        lease.holder, lease.expires_at = holder, now + LEASE

    def _renew_lease(self, session: Session) -> None:
        """Push the lease's expiry on: called at every committed step of a run, so a run
        longer than LEASE is never taken for dead. A lease taken by another run meanwhile
        (this one stalled past its expiry) stops this run; a rerun finishes its work."""
        renewed = self._holder is not None and session.execute(
            update(RetentionLease).where(RetentionLease.holder == self._holder)
            .values(expires_at=self.clock.now() + LEASE)).rowcount == 1  # fmt: skip
        if not renewed:
            raise RetentionBusy("the retention lease was taken by another run", field=None)

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
        if dossier is not None and dossier.state == DossierState.DESTROYING:
            return True  # a crashed run's: this run finishes it
        if dossier is None or dossier.state == DossierState.DESTROYED:
            return False
        if is_held(session, dossier_id) or not dossier.destroy_after < as_of:
            return False
        dossier.state, dossier.certificate_id = DossierState.DESTROYING, cert_id
        self.fault("marked")
        return True

    def _finish_destroying(self, operator: str) -> None:
        """Every dossier left `destroying` (now or by a crashed run) is erased."""
        waiting = self.transaction(lambda s: list(s.scalars(
            select(Dossier.id).where(Dossier.state == DossierState.DESTROYING))))  # fmt: skip
        if not waiting:
            return
        self.transaction(self._renew_lease)
        self.purge_index(waiting)  # one merge of the index for the whole run, not one each
        self.transaction(self._renew_lease)
        self.fault("index_purged")
        for start in range(0, len(waiting), BATCH):

            def erase(session, batch=waiting[start : start + BATCH]):
                self._renew_lease(session)
                for dossier_id in batch:
                    self._erase(session, dossier_id, operator)

            self.transaction(erase)
            self.fault("erased")

    def _erase(self, session: Session, dossier_id: str, operator: str) -> None:
        dossier = session.get(Dossier, dossier_id, with_for_update=True)
        if dossier.state != DossierState.DESTROYING:
            return
        for document in dossier.documents:
            document.wrapped_key = None
            document.kek_version = None
            document.key_bucket = None
            document.filename = ERASED_FILENAME
        # Derived text is content (DESIGN.md): its rows go with the keys that sealed them.
        erase_derived_text(session, [document.id for document in dossier.documents])
        for name in ("name", "organization", "phone", "address"):
            setattr(dossier, f"customer_{name}_enc", None)
        for name in ("name", "organization", "phone"):
            setattr(dossier, f"customer_{name}_hmac", None)
        dossier.title = dossier.summary = dossier.department = dossier.capa_ref = None
        # The quality metadata names people (approvers) and carries free text (contract §8).
        dossier.timeline = dossier.regulator_report = dossier.supplier = None
        dossier.adr_report_no = dossier.recall_no = dossier.qp_notified_on = None
        dossier.channel = None
        dossier.key_bucket = None
        session.execute(DossierCorrection.__table__.update()
                        .where(DossierCorrection.dossier_id == dossier_id)
                        .values(reason=None, changes={}))  # fmt: skip
        # The dossier's own holds name why it was held (a lawsuit, a customer): erased with
        # it. Holds by query cover other dossiers too and are kept as they are.
        session.execute(update(Hold).where(Hold.dossier_id == dossier_id).values(
            reason=ERASED_REASON, release_reason=ERASED_REASON))  # fmt: skip
        dossier.measures = []
        dossier.retention_derivation = "destroyed"
        session.execute(ProductLine.__table__.delete().where(ProductLine.dossier_id == dossier_id))
        dossier.state = DossierState.DESTROYED
        dossier.destroyed_at = self.clock.now()
        self.log_event(session, action="destroy", username=operator, dossier_id=dossier.id,
                       complaint_no=dossier.complaint_no,
                       detail=f"certificate {dossier.certificate_id}")  # fmt: skip

    def _issue_certificates(self, result: RunResult, operator: str) -> str | None:
        def issue(session: Session):
            self._renew_lease(session)
            pending_ids = session.scalars(
                select(Dossier.certificate_id).distinct().where(
                    Dossier.state == DossierState.DESTROYED, Dossier.certificate_id.is_not(None),
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
            .where(Dossier.state == DossierState.DESTROYED,
                   Document.storage_name.is_not(None)))))  # fmt: skip
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            for _document_id, name in batch:
                self.blobs.remove(name)  # absent is fine: a killed run may have removed it
            ids = [document_id for document_id, _name in batch]

            def unlinked(session, ids=ids):
                self._renew_lease(session)
                session.execute(update(Document).where(Document.id.in_(ids))
                                .values(storage_name=None))  # fmt: skip

            self.transaction(unlinked)
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


def _proposal(session: Session, proposal_id) -> RetentionProposal:
    proposal = None
    if isinstance(proposal_id, str) and len(proposal_id) <= 32:
        proposal = session.get(RetentionProposal, proposal_id, with_for_update=True)
    if proposal is None:
        raise NotFound(_("no such proposal"), field="proposal_id")
    return proposal


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
