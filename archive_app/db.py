"""The database: engine set-up (SQLite pragmas, PostgreSQL), sessions, and `request.dbsession`."""

from __future__ import annotations

from datetime import UTC, datetime

import zope.sqlalchemy
from sqlalchemy import DateTime, MetaData, engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from zope.interface import implementer

from .interfaces import IDatabase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: Engine) -> None:
    # DESIGN.md: WAL for readers beside one writer, FULL sync for durability, secure_delete so
    # destroyed rows leave no bytes in free pages, and BEGIN IMMEDIATE for writing sessions
    # (a deferred transaction that later writes can fail at once with SQLITE_BUSY).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "busy_timeout=30000",
            "secure_delete=ON",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("archive_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def get_engine(settings, prefix: str = "sqlalchemy.") -> Engine:
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def writing(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock up front on SQLite."""
    return engine.execution_options(archive_begin="IMMEDIATE")


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@implementer(IDatabase)
class Database:
    """The engine and its two session factories, built once per process: every reader and
    writer outside a request (the access log, retention runs, the indexer) uses these."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.read = get_session_factory(engine)
        self.write = get_session_factory(writing(engine))

    def dispose(self) -> None:
        self.engine.dispose()


def get_tm_session(session_factory, transaction_manager, request=None) -> Session:
    """A session joined to a transaction manager: committed or aborted with the request."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def utcnow() -> datetime:
    return datetime.now(UTC)


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # No pyramid_retry: it copies every request body to a temporary file so that it can
    # replay it, which for 512 MB uploads doubles the disk traffic. Writers take their lock
    # at BEGIN (SQLite) or lock the rows they change (PostgreSQL), so conflicts wait instead.
    config.include("pyramid_tm")

    database = Database(get_engine(settings))
    config.register_process_service(database, IDatabase)

    def dbsession(request):
        # Safe methods read; anything else may write, so it takes the write lock at BEGIN.
        safe = request.method in {"GET", "HEAD", "OPTIONS"}
        factory = database.read if safe else database.write
        return get_tm_session(factory, request.tm, request=request)

    config.add_request_method(dbsession, reify=True)
