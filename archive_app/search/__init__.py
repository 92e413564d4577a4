"""Search: the Whoosh index of dossiers, kept in step after each commit, trimmed by clearance."""

from __future__ import annotations


def includeme(config):
    from ..records.services import RecordsService
    from ..settings import as_int, as_seconds, storage_dir
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
        )  # fmt: skip

    extractor = ExtractionSandbox(
        timeout=as_seconds(settings, "archive.search.extract_timeout"),
        memory_bytes=as_int(settings, "archive.search.extract_memory_mb", 128) * 2**20,
    )
    indexer = Indexer(index, registry["dbsession_read_factory"], records_for,
                      storage_dir(settings) / "tmp", extractor)  # fmt: skip
    registry["archive.search_index"] = index
    registry["archive.indexer"] = indexer
    # Retention purges a destroyed dossier's entries (and merges segments) through this.
    registry.purge_search_index = index.purge

    config.add_route("api.search", "/api/v1/search")
    config.add_route("search.page", "/search")
    config.scan(".views")
