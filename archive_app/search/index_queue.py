"""Rows of the durable index queue: added in the changing transaction, read and forgotten
by the drain (see `models.QueuedDossier`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import QueuedDossier


def enqueue(session: Session, dossier_id: str, at: datetime) -> None:
    """Queue the dossier in the session's transaction, or mark it queued again at `at`."""
    # An upsert: two transactions appending to one dossier never collide on the key.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(QueuedDossier).values(dossier_id=dossier_id, queued_at=at)
    again = {"queued_at": statement.excluded.queued_at}
    session.execute(statement.on_conflict_do_update(index_elements=["dossier_id"], set_=again))


def pending(session: Session) -> list[Row]:
    """Every queued (dossier_id, queued_at), oldest first."""
    columns = select(QueuedDossier.dossier_id, QueuedDossier.queued_at)
    return list(session.execute(columns.order_by(QueuedDossier.queued_at)))


def forget(session: Session, rows: list[Row]) -> None:
    """Delete rows the index now holds, unless queued again since they were read."""
    for dossier_id, queued_at in rows:
        unchanged = (QueuedDossier.dossier_id == dossier_id) & (
            QueuedDossier.queued_at == queued_at
        )
        session.execute(delete(QueuedDossier).where(unchanged))
