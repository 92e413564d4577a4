"""Retention: rules that set destroy-after dates; holds, runs and certificates."""

from ..interfaces import IRetentionPolicy
from ..settings import as_choice, as_int


def includeme(config):
    # Imported here so that `archive_app.retention.models` (Alembic) and the certificate
    # commands (`archive certificate key` answers at once) load without Pyramid's web layer.
    from ..records.resources import DossierContext
    from .policy import RetentionPolicy
    from .rules import RuleSet

    settings = config.get_settings()
    # Filing asks this for every new dossier's destroy-after date (records/services.py).
    policy = RetentionPolicy(
        as_choice(settings, "archive.retention.rule", tuple(RuleSet)),
        as_int(settings, "archive.retention.default_years", 1),
    )
    config.register_process_service(policy, IRetentionPolicy)

    dossier = DossierContext.from_route
    config.add_route("api.dossier.holds", "/api/v1/dossiers/{dossier_id}/holds", factory=dossier)
    config.add_route(
        "api.dossier.hold", "/api/v1/dossiers/{dossier_id}/holds/{hold_id}", factory=dossier
    )
    config.add_route(
        "api.dossier.corrections", "/api/v1/dossiers/{dossier_id}/corrections", factory=dossier
    )
    config.add_route("api.holds", "/api/v1/holds")
    config.add_route("api.hold", "/api/v1/holds/{hold_id}")
    config.add_route("api.retention.proposals", "/api/v1/retention/proposals")
    config.add_route(
        "api.retention.proposal", "/api/v1/retention/proposals/{proposal_id}/{decision}"
    )
    config.add_route("api.retention.due", "/api/v1/retention/due")
    config.add_route("api.retention.runs", "/api/v1/retention/runs")
    # The .pdf route first: {certificate_id} would otherwise swallow "abc.pdf".
    config.add_route(
        "api.retention.certificate.pdf", "/api/v1/retention/certificates/{certificate_id}.pdf"
    )
    config.add_route("api.retention.certificate", "/api/v1/retention/certificates/{certificate_id}")
    config.add_route("retention.page", "/retention")
    config.scan(".api")
    config.scan(".views")
    # The page's downloads: the API's views again under the session (retention/api.py), the
    # .pdf route first, as above.
    for suffix in (".pdf", ".json"):
        config.add_route("retention.certificate" + suffix,
                         "/retention/certificates/{certificate_id}" + suffix)  # fmt: skip
    # The readable page last: its {certificate_id} would take "abc.pdf" from the downloads.
    config.add_route("retention.certificate", "/retention/certificates/{certificate_id}")
    config.scan(".certificate_page")
