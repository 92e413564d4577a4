"""Records: dossiers, their documents, filing and reading them (web pages and JSON API)."""

from __future__ import annotations

from ..interfaces import IBlobStore, IClock, IFieldCipher, IKeyring, IRecordsService
from ..retention.rules import RULE_SETS
from ..settings import as_choice, as_int


def includeme(config):
    # Imported here so that `archive_app.records.models` loads without the web layer (Alembic).
    from ..retention.holds import held_by_query
    from .forms import field_part_limit
    from .resources import DossierContext
    from .services import RecordsService
    from .uploads import limited_post

    settings = config.get_settings()
    options = {
        "default_years": as_int(settings, "archive.retention.default_years", 1),
        "rule_set": as_choice(settings, "archive.retention.rule", RULE_SETS),
        "max_upload_bytes": as_int(settings, "archive.max_upload_mb", 1) * 1024 * 1024,
        "max_parts": as_int(settings, "archive.max_parts", 7),
    }

    def records_service(context, request):
        find = request.find_service
        indexer = request.registry.get("archive.indexer")
        return RecordsService(
            request.dbsession,
            find(IBlobStore),
            find(IKeyring),
            find(IFieldCipher),
            find(IClock),
            on_change=indexer.queue if indexer is not None else None,
            buckets=request.registry["archive.bucket_keys"],
            held_by_query=held_by_query,
            **options,
        )

    config.register_service_factory(records_service, IRecordsService)
    # The web form's parts are counted against the API's limit before WebOb spools them.
    max_files = options["max_parts"]
    config.add_request_method(limited_post(max_files, field_part_limit(max_files)), "POST",
                              reify=True)  # fmt: skip

    config.add_route("api.dossiers", "/api/v1/dossiers")
    config.add_route(
        "api.dossier", "/api/v1/dossiers/{dossier_id}", factory=DossierContext.from_route
    )
    config.add_route(
        "api.dossier.documents",
        "/api/v1/dossiers/{dossier_id}/documents",
        factory=DossierContext.from_route,
    )
    config.add_route(
        "api.dossier.document",
        "/api/v1/dossiers/{dossier_id}/documents/{document_id}",
        factory=DossierContext.from_route,
    )
    config.add_route("records.new", "/dossiers/new")
    config.add_route("records.lookup", "/lookup")
    config.add_route("records.detail", "/dossiers/{dossier_id}", factory=DossierContext.from_route)
    config.add_route(
        "records.detail.download",
        "/dossiers/{dossier_id}/documents/{document_id}",
        factory=DossierContext.from_route,
    )
    config.scan(".api")
    config.scan(".views")
