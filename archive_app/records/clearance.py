"""Which dossiers an identity may read, said once, inside the query itself.

Like Plone's catalog security: every list and every action that selects dossiers starts from
`readable(query, identity)`, so the clearance filter travels with the SQL and no caller can
forget it (a view that checks each row after the fact leaks through counts, order and
errors). An identity is a user (`.role`, `.clearance`) or `SYSTEM`, the scheduled run of the
command line, which reads every level.
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session
from zope.interface import implementer

from ..access.identities import SYSTEM, Identity, identity_of
from ..access.models import AccessLogEntry
from ..access.permissions import Level, levels_up_to
from ..interfaces import IDossierClearance
from .models import Document, Dossier
from .vocabulary import DYING_STATES


def readable_levels(identity) -> tuple[str, ...]:
    """The confidentiality levels the identity may read; none for an unknown clearance."""
    clearance = getattr(identity, "clearance", None)
    if identity is None or clearance not in list(Level):
        return ()
    return levels_up_to(clearance)


def may_read(identity, level: str | None) -> bool:
    return level in readable_levels(identity)


def readable_clause(identity, dossier=Dossier):
    """The SQL condition: the dossier (the mapped class or an alias) is at a readable level."""
    return dossier.confidentiality.in_(readable_levels(identity))


def readable(query, identity, dossier=Dossier):
    """`query` (a select() that involves `dossier`) narrowed to what the identity may read."""
    return query.where(readable_clause(identity, dossier))


@implementer(IDossierClearance)
class DossierClearance:
    """What the access log's review asks of an entry's dossier (access/review.py,
    access/anomalies.py), answered here so that access never imports records."""

    def withheld_clause(self, identity):
        return exists().where(
            or_(Dossier.id == AccessLogEntry.dossier_id,
                Dossier.complaint_no == AccessLogEntry.complaint_no),
            ~readable_clause(identity),
        )  # fmt: skip

    def levels(self, session: Session, dossier_ids) -> dict[str, str]:
        ids = list(dossier_ids)
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):  # within every database's bound-parameter limit
            query = select(Dossier.id, Dossier.confidentiality)
            rows = session.execute(query.where(Dossier.id.in_(ids[start : start + 500])))
            found.update({dossier_id: level for dossier_id, level in rows})
        return found

    def names_clause(self, complaint_no: str):
        number = complaint_no.strip().upper()  # as filed (services.filed_number; it imports us)
        return or_(func.upper(AccessLogEntry.complaint_no) == number,
                   AccessLogEntry.dossier_id.in_(
                       select(Dossier.id).where(Dossier.complaint_no == number)))  # fmt: skip

    def documents(self, session: Session, document_ids) -> dict[str, tuple[str, bool]]:
        ids = [document_id for document_id in document_ids if document_id]
        found: dict[str, tuple[str, bool]] = {}
        for start in range(0, len(ids), 500):
            query = (select(Document.id, Document.filename, Dossier.state)
                     .join(Dossier, Document.dossier_id == Dossier.id)
                     .where(Document.id.in_(ids[start : start + 500])))  # fmt: skip
            for document_id, filename, state in session.execute(query):
                # Destruction erases the file's name too: say it is gone, not "destroyed".
                gone = state in DYING_STATES
                found[document_id] = (None if gone else filename, gone)
        return found


# Identity, SYSTEM and identity_of are access's; named here for the callers of `readable`.
__all__ = ["SYSTEM", "DossierClearance", "Identity", "identity_of", "may_read", "readable",
           "readable_clause", "readable_levels"]  # fmt: skip
