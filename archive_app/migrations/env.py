"""Alembic environment: the same settings (and environment overrides) as the application."""

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from archive_app import models  # noqa: F401  (registers every table on Base.metadata)
from archive_app.db import Base, get_engine
from archive_app.settings import apply_overrides

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging"):
    setup_logging(config.config_file_name)

if "connection" in config.attributes:
    settings = None
else:
    settings = apply_overrides(dict(get_appsettings(config.config_file_name)))


def run_migrations_offline():
    context.configure(url=settings["sqlalchemy.url"], target_metadata=Base.metadata,
                      render_as_batch=True)  # fmt: skip
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = get_engine(settings)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection):
    # Batch mode: SQLite alters tables by copying them; PostgreSQL ignores it.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
