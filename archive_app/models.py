"""Every feature's models in one import, for Alembic and for `Base.metadata.create_all`."""

from .access.access_review import AccessReview
from .access.models import AccessLogEntry, AccessLogHead, ApiToken, User
from .access.signatures import Signature
from .records.models import Document, DocumentPreview, Dossier, ProductLine
from .reports.review_models import Review
from .retention.models import Certificate, Hold, RetentionLease, RetentionRun
from .search.models import QueuedDossier, SavedSearch
from .workdays.models import WorkdayOverride, WorkdayYear

__all__ = [
    "AccessLogEntry", "AccessLogHead", "ApiToken", "User", "AccessReview", "Signature",
    "Document", "DocumentPreview",
    "Dossier", "ProductLine",
    "Certificate", "Hold", "RetentionLease", "RetentionRun", "QueuedDossier", "SavedSearch",
    "Review",
    "WorkdayOverride", "WorkdayYear",
]  # fmt: skip
