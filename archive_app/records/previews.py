"""Document previews for the dossier page: drawn once in the sandboxed child (the search
feature's, behind `IPreviewRenderer`), kept sealed under the document's key, served as PNG.

Drawn on the first request rather than at filing: filing stays as fast as it is, and a
document nobody opens costs nothing. A preview that cannot be drawn is remembered with its
reason, so that a bad file is not sent to the child again on every page view.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from ..interfaces import IClock, IDatabase, IPreviewRenderer
from . import derived
from .models import Document, DocumentPreview

log = logging.getLogger(__name__)

# What the sandbox can draw (search/thumbnails.py RENDERERS): the page shows an image only
# for these; any other document has no preview route answer but 404.
PREVIEWABLE = frozenset({"application/pdf", "image/jpeg", "image/png", "image/tiff"})
MAX_REASON = 200


@dataclass(frozen=True)
class Preview:
    png: bytes | None
    reason: str | None = None


def has_preview(document) -> bool:
    """Whether the page should show this document's preview (a living, drawable document)."""
    return document.storage_name is not None and document.media_type in PREVIEWABLE


def preview_of(registry, records, document: Document, spool: Path) -> Preview:
    """The stored preview, else drawn now (then stored); `records` reads the document."""
    data_key = records.data_key(document)
    row = records.session.get(DocumentPreview, document.id)
    if row is not None:
        if row.sealed_png is None:
            return Preview(None, row.reason)
        try:
            return Preview(derived.open_preview(data_key, document.id, row.sealed_png))
        except derived.DerivedTextError:
            log.warning("document %s: its stored preview does not open; drawn again", document.id)
    preview = draw(registry.getUtility(IPreviewRenderer), records, document, spool)
    store(registry, document, data_key, preview)
    return preview


def draw(renderer, records, document: Document, spool: Path) -> Preview:
    """Decrypt to a private temporary file (0600 under storage/), draw, remove the file."""
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool, prefix="preview-") as plain:
        for chunk in records.open_document(document):
            plain.write(chunk)
        plain.flush()
        rendered = renderer.render(Path(plain.name), document.media_type)
    if rendered.png is None:
        log.warning("document %s: no preview (%s)", document.id, rendered.reason)
    return Preview(rendered.png, rendered.reason)


def store(registry, document: Document, data_key: bytes, preview: Preview) -> None:
    """Kept in a transaction of its own: a page view's transaction may read only."""
    sealed = derived.seal_preview(data_key, document.id, preview.png) if preview.png else None
    try:
        with registry.getUtility(IDatabase).write() as session, session.begin():
            row = session.get(DocumentPreview, document.id) or DocumentPreview(
                document_id=document.id
            )
            row.sealed_png = sealed
            row.reason = preview.reason[:MAX_REASON] if preview.reason else None
            row.updated_at = registry.getUtility(IClock).now()
            session.add(row)
    except IntegrityError:
        pass  # another request stored it first, or the dossier was destroyed meanwhile
