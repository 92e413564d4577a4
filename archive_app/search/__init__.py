"""Search: the Whoosh index of dossiers, kept in step after each commit through a durable
queue, trimmed by clearance."""

from __future__ import annotations

from ..faults import fault_injection
from ..interfaces import IClock, IDatabase, IIndexer, IPreviewRenderer, ISearchService
from ..settings import as_bool, as_int, as_seconds, storage_dir


def includeme(config):
    # Imported here so that `archive_app.search.models` (Alembic) loads without Whoosh and
    # the records service (the web layer).
    from ..records.services import records_for
    from .engine import SearchIndex
    from .indexing import Indexer
    from .locks import queue_lock_for
    from .sandbox import ExtractionSandbox

    registry = config.registry
    settings = config.get_settings()
    query_timeout = as_seconds(settings, "archive.search.query_timeout")
    index = SearchIndex(storage_dir(settings) / "index", query_timeout=query_timeout)
    as_int(settings, "archive.search.reindex_processes", 1)  # bad: the start fails, not reindex
    extractor = ExtractionSandbox(
        timeout=as_seconds(settings, "archive.search.extract_timeout"),
        memory_bytes=as_int(settings, "archive.search.extract_memory_mb", 128) * 2**20,
        max_chars=as_int(settings, "archive.search.max_text_mb", 1) * 2**20,
    )
    background = as_bool(settings, "archive.search.index_in_background")
    database = registry.getUtility(IDatabase)
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
    # Dossiers an earlier process committed but did not get to index (it crashed).
    indexer.start()

    config.add_route("api.search", "/api/v1/search")
    config.add_route("api.search.csv", "/api/v1/search.csv")
    config.add_route("api.search.xlsx", "/api/v1/search.xlsx")
    config.add_route("search.page", "/search")
    config.add_route("search.export.csv", "/search.csv")
    config.add_route("search.export.xlsx", "/search.xlsx")
    config.add_route("search.saved", "/search/saved")
    config.add_route("search.saved.delete", r"/search/saved/{saved_id:\d{1,9}}/delete")
    config.scan(".views")
    config.scan(".saved_views")
    config.scan(".exports")
