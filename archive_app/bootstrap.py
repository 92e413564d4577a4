"""Setting up storage (folders, keyring, schema) and opening the app from a script."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

from pyramid.paster import get_app, get_appsettings
from pyramid.scripting import prepare

from .interfaces import IAccessLog, IDatabase, IIndexer
from .settings import COMMAND_APP, apply_overrides, bucket_keys_path, keyring_path, storage_dir
from .vault import KEYRING_ENVIRONMENT_VARIABLE
from .vault.keyring import Keyring, KeyringError

STORAGE_FOLDERS = ("blobs", "index", "tmp", "keyring")


def read_settings(config_uri: str) -> dict:
    return apply_overrides(dict(get_appsettings(config_uri)))


def initialise_storage(config_uri: str) -> dict:
    """Create what is missing and upgrade what is old; running it twice changes nothing."""
    settings = read_settings(config_uri)
    root = storage_dir(settings)
    for folder in STORAGE_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    if not os.environ.get(KEYRING_ENVIRONMENT_VARIABLE):
        Keyring.create_or_load(keyring_path(settings))
    upgrade_schema(config_uri, settings)
    tighten_storage(settings)
    return settings


def tighten_storage(settings: dict) -> None:
    """Files 0600 and folders 0700 under storage/ (contract §7), and the key files and the
    SQLite database where settings put them elsewhere: a tree written before the archive
    set its umask, or copied in with a restore, is made private again by `archive init`."""
    root = storage_dir(settings)
    _tighten(root, 0o700)
    for folder, folders, files in os.walk(root):  # symbolic links are not followed
        for name in folders:
            _tighten(Path(folder, name), 0o700)
        for name in files:
            _tighten(Path(folder, name), 0o600)
    outside = [keyring_path(settings), bucket_keys_path(settings)]
    url = settings["sqlalchemy.url"]
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        outside += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in outside:
        _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISLNK(current.st_mode) and stat.S_IMODE(current.st_mode) != mode:
        os.chmod(path, mode)


def upgrade_schema(config_uri: str, settings: dict) -> None:
    # Imported here: Alembic takes 0.4 s to import, and only `archive init` needs it.
    from alembic import command
    from alembic.config import Config

    alembic_config = Config(config_uri)
    alembic_config.attributes["skip_logging"] = True
    url = settings["sqlalchemy.url"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config, "head")


@contextmanager
def open_app(config_uri: str):
    """The application's registry and a writing request, as a script sees them: the app of
    a command (services and routes, no views: make_app)."""
    app = get_app(config_uri, options={COMMAND_APP: "true"})
    problem = getattr(app, "locked_because", None)
    if problem:  # the keyring is missing, unreadable or wrong: say so, touch nothing
        raise KeyringError(problem)
    with prepare(registry=app.registry) as env:
        env["app"] = app
        request = env["request"]
        request.method = "POST"  # scripts write: their session takes the write lock at BEGIN
        try:
            yield env
        finally:
            close_app(env["registry"], request)


def close_app(registry, request) -> None:
    """What the end of a command's process would do, done as the command ends: the indexer's
    last batch and its extraction child, the access log's exit checkpoint, the database's
    connections. A command run in the tests' own process then leaves nothing running."""
    indexer = registry.queryUtility(IIndexer)  # search may be left out of an app
    if indexer is not None:
        indexer.close()
    request.find_service(IAccessLog).close()
    registry.getUtility(IDatabase).dispose()
