"""Search: the index of dossiers (Whoosh's folder, or PostgreSQL's own tables), kept in step
after each commit through a durable queue, trimmed by clearance."""

from __future__ import annotations

from ..faults import fault_injection
from ..interfaces import IClock, IDatabase, IIndexer, IOcrQueue, IPreviewRenderer, ISearchService
from ..settings import SettingsError, as_bool, as_choice, as_int, as_seconds, storage_dir

BACKENDS = ("whoosh", "postgres")


def search_backend(settings, database):
    """The configured `ISearchService`: the Whoosh index under storage/index/ (the default),
    or the `search_rows` table of a PostgreSQL archive (nothing written under storage/index/)."""
    query_timeout = as_seconds(settings, "archive.search.query_timeout")
    if as_choice(settings, "archive.search.backend", BACKENDS) == "postgres":
        if database.engine.dialect.name != "postgresql":
            raise SettingsError(
                "archive.search.backend = postgres needs a PostgreSQL sqlalchemy.url "
                f"(this one is {database.engine.dialect.name}): use whoosh, or PostgreSQL"
            )
        from .pg_backend import PostgresSearch

        return PostgresSearch(database, query_timeout=query_timeout)
    from .engine import SearchIndex

    return SearchIndex(storage_dir(settings) / "index", query_timeout=query_timeout)


def includeme(config):
    # Imported here so that `archive_app.search.models` (Alembic) loads without Whoosh and
    # the records service (the web layer).
    from ..records.services import records_for
    from .indexing import Indexer
    from .locks import queue_lock_for
    from .ocr_queue import OcrQueue
    from .sandbox import ExtractionSandbox

    registry = config.registry
    settings = config.get_settings()
    database = registry.getUtility(IDatabase)
    index = search_backend(settings, database)
    if database.engine.dialect.name == "postgresql":
        from .pg_backend import remove_rows_with_their_dossiers

        # Whichever backend: a dying dossier's search row goes in the marking transaction.
        remove_rows_with_their_dossiers(database)
    as_int(settings, "archive.search.reindex_processes", 1)  # bad: the start fails, not reindex
    extractor = ExtractionSandbox(
        timeout=as_seconds(settings, "archive.search.extract_timeout"),
        memory_bytes=as_int(settings, "archive.search.extract_memory_mb", 128) * 2**20,
        max_chars=as_int(settings, "archive.search.max_text_mb", 1) * 2**20,
    )
    background = as_bool(settings, "archive.search.index_in_background")
    indexer = Indexer(
        index, database.read, database.write, lambda session: records_for(registry, session),
        storage_dir(settings) / "tmp", extractor, registry.getUtility(IClock),
        batch_delay=as_seconds(settings, "archive.search.batch_delay") if background else None,
        fault=fault_injection(), queue_lock=queue_lock_for(database.engine),
    )  # fmt: skip
    config.register_process_service(index, ISearchService)
    # Records queues a filed dossier through it; retention purges a destroyed one.
    config.register_process_service(indexer, IIndexer)
    # The same sandboxed child draws the dossier page's previews for records.
    config.register_process_service(extractor, IPreviewRenderer)
    # Scans read by OCR in children of their own: indexing never waits behind a long scan.
    memory_bytes = as_int(settings, "archive.search.extract_memory_mb", 128) * 2**20
    ocr = OcrQueue(
        indexer,
        [ExtractionSandbox(memory_bytes=memory_bytes)
         for _ in range(max(1, as_int(settings, "archive.search.ocr_workers", 1)))],
        registry.getUtility(IClock),
        max_pages=as_int(settings, "archive.search.ocr_max_pages", 20),
        seconds=as_seconds(settings, "archive.search.ocr_timeout"),
        background=as_bool(settings, "archive.search.ocr_in_background"),
    )  # fmt: skip
    indexer.ocr_requested = ocr.request
    config.register_process_service(ocr, IOcrQueue)
    # Dossiers an earlier process committed but did not get to index (it crashed), and
    # scans it left pending.
    indexer.start()
    ocr.start()

    config.add_route("api.search", "/api/v1/search")
    config.add_route("api.search.csv", "/api/v1/search.csv")
    config.add_route("api.search.xlsx", "/api/v1/search.xlsx")
    config.add_route("search.page", "/search")
    config.add_route("search.export.csv", "/search.csv")
    config.add_route("search.export.xlsx", "/search.xlsx")
    config.add_route("search.saved", "/search/saved")
    config.add_route("search.saved.delete", "/search/saved/{saved_id}/delete")
    config.scan(".views")
    config.scan(".saved_views")
    config.scan(".exports")
