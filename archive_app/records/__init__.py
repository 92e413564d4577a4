"""Records: dossiers, their documents, filing and reading them (web pages and JSON API)."""

from __future__ import annotations

from ..interfaces import IDossierClearance, IRecordsService, IWrappedKeys
from ..settings import as_int


def includeme(config):
    # Imported here so that `archive_app.records.models` loads without the web layer (Alembic).
    from .clearance import DossierClearance
    from .keyrows import WrappedDocumentKeys
    from .resources import DossierContext
    from .services import records_for
    from .uploads import field_part_limit, limited_post

    settings = config.get_settings()
    # A bad value stops the start, not the first request.
    as_int(settings, "archive.max_upload_mb", 1)
    max_files = as_int(settings, "archive.max_parts", 7)
    config.register_service_factory(
        lambda context, request: records_for(request.registry, request.dbsession),
        IRecordsService,
    )
    # Asked by lower layers, which may not import records: the access log's review (what an
    # entry's dossier is) and key rotation (the rows that hold wrapped data keys).
    config.register_process_service(DossierClearance(), IDossierClearance)
    config.register_process_service(WrappedDocumentKeys(), IWrappedKeys)
    # The web form's parts are counted against the API's limit before WebOb spools them.
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
    config.add_route(
        "records.detail.preview",
        "/dossiers/{dossier_id}/documents/{document_id}/preview.png",
        factory=DossierContext.from_route,
    )
    config.scan(".api")
    config.scan(".views")
    config.scan(".preview_views")
