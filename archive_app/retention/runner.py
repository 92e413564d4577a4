"""Building a `Destroyer` with its collaborators, the same way from a view and the CLI."""

from __future__ import annotations

from sqlalchemy import select

from ..access.accesslog import Event
from ..faults import fault_injection
from ..interfaces import IAccessLog, IBlobStore, IBucketKeys, IClock, IDatabase, IKeyring
from ..records.models import Document, Dossier
from ..settings import as_bool, as_int
from .services import Destroyer


def transaction_runner(session_factory):
    """`run(work)`: work(session) in a transaction of its own, committed before returning."""

    def run(work):
        with session_factory() as session:
            with session.begin():
                return work(session)

    return run


def sqlite_compactor(engine):
    """SQLite: fold the WAL (which still holds pre-erasure page images) into the database
    file, where secure_delete has zeroed the freed space; outside any transaction."""
    if engine.dialect.name != "sqlite":
        return None

    def compact():
        connection = engine.raw_connection()
        try:
            connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    return compact


def bucket_sweeper(session_factory, buckets, idle_seconds: float):
    """Deletes the bucket keys no living row uses any more (see vault/buckets.py)."""

    def sweep() -> list[str]:
        with session_factory() as session:
            in_use = set(session.scalars(select(Document.key_bucket).distinct()
                                         .where(Document.wrapped_key.is_not(None))))  # fmt: skip
            in_use |= set(session.scalars(select(Dossier.key_bucket).distinct()
                                          .where(Dossier.state != "destroyed")))  # fmt: skip
        return buckets.destroy(buckets.names() - in_use, idle_seconds)

    return sweep


def destroyer_for(request, identity, purge_index) -> Destroyer:
    """`identity` (records/clearance.py) bounds what the run may list and destroy; its role
    is what the access log records."""
    registry = request.registry
    settings = registry.settings
    access_log = request.find_service(IAccessLog)

    def log_event(session, **fields):
        access_log.append(session, Event(role=identity.role, ip=request.client_addr, **fields))

    def checkpoint(session):
        written = access_log.write_checkpoint(session)
        return {"seq": written.seq, "mac": written.mac} if written else None

    database = request.find_service(IDatabase)
    idle = as_int(settings, "archive.retention.bucket_idle_seconds")
    return Destroyer(
        transaction_runner(database.write),
        request.find_service(IBlobStore),
        request.find_service(IClock),
        request.find_service(IKeyring).signing_key(),
        identity=identity,
        purge_index=purge_index,
        log_event=log_event,
        checkpoint=checkpoint,
        compact=sqlite_compactor(database.engine),
        fault=fault_injection(),
        sweep_buckets=bucket_sweeper(database.write, request.find_service(IBucketKeys), idle),
        approval=as_bool(settings, "archive.retention.approval"),
    )
