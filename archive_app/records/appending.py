"""The dossier page's form to append documents: one file input per kind (attachments many),
read from WebOb's parsed body into spooled `Upload`s, each keyed by the input it came from."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .services import Upload
from .vocabulary import DocumentKind

APPEND_KINDS = list(DocumentKind)  # the same kinds as filing and the API


def appended_uploads(post, spool_dir: Path) -> dict[str, Upload]:
    """Each file chosen on the append form, copied to the spool folder, by field path
    (`reply_report`, `attachment.1`); inputs left empty are skipped."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    uploads = {}
    for kind in APPEND_KINDS:
        chosen = [value for value in post.getall(kind) if getattr(value, "file", None)]
        for index, value in enumerate(chosen):
            path = f"{kind}.{index}" if kind == DocumentKind.ATTACHMENT else kind
            with tempfile.NamedTemporaryFile(dir=spool_dir, prefix="append-",
                                             delete=False) as out:  # fmt: skip
                value.file.seek(0)
                shutil.copyfileobj(value.file, out, 1024 * 1024)
                size = out.tell()
            uploads[path] = Upload(kind, value.filename or "", Path(out.name), size)
    return uploads


def input_of(path: str | None) -> str | None:
    """The input a field path belongs to (`attachment.1` is the attachments input)."""
    return (path or "").split(".")[0] or None
