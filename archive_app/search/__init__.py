"""Search: the Whoosh index of dossiers, kept in step after each commit through a durable
queue, trimmed by clearance."""

from __future__ import annotations


def includeme(config):
    from ..records.services import RecordsService
    from ..retention.runner import fault_injection
    from ..settings import as_bool, as_int, as_seconds, storage_dir
    from .engine import SearchIndex
    from .indexing import Indexer
    from .sandbox import ExtractionSandbox

    registry = config.registry
    settings = config.get_settings()
    query_timeout = as_seconds(settings, "archive.search.query_timeout")
    index = SearchIndex(storage_dir(settings) / "index", query_timeout=query_timeout)

    def records_for(session):
        return RecordsService(
            session, registry["archive.blobstore"], registry["archive.keyring"],
            registry["archive.field_cipher"], registry["archive.clock"],
            buckets=registry["archive.bucket_keys"],
        )  # fmt: skip

    extractor = ExtractionSandbox(
        timeout=as_seconds(settings, "archive.search.extract_timeout"),
        memory_bytes=as_int(settings, "archive.search.extract_memory_mb", 128) * 2**20,
    )
    background = as_bool(settings, "archive.search.index_in_background")
    indexer = Indexer(
        index, registry["dbsession_read_factory"], registry["dbsession_factory"], records_for,
        storage_dir(settings) / "tmp", extractor, registry["archive.clock"],
        batch_delay=as_seconds(settings, "archive.search.batch_delay") if background else None,
        fault=fault_injection(),
    )  # fmt: skip
    registry["archive.search_index"] = index
    registry["archive.reindex_processes"] = as_int(settings, "archive.search.reindex_processes", 1)
    registry["archive.indexer"] = indexer
    # Dossiers an earlier process committed but did not get to index (it crashed).
    indexer.start()
    # Retention purges a destroyed dossier's entries (and merges segments) through this.
    registry.purge_search_index = indexer.purge

    config.add_route("api.search", "/api/v1/search")
    config.add_route("search.page", "/search")
    config.scan(".views")
