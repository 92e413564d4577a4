"""What a file is, decided from its content (libmagic) against the allowlist; clean names."""

from __future__ import annotations

import email.parser
import threading
import unicodedata
import zipfile
from pathlib import Path

import magic

ALLOWED_MEDIA_TYPES = frozenset({
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "text/plain",
    "message/rfc822",
    "audio/wav",
    "audio/mpeg",
})  # fmt: skip
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
ALIASES = {"audio/x-wav": "audio/wav", "audio/vnd.wave": "audio/wav", "audio/x-mpeg": "audio/mpeg"}
EXTENSION_TYPES = {
    ".pdf": {"application/pdf"},
    ".doc": {"application/msword"},
    ".docx": {DOCX},
    ".xls": {"application/vnd.ms-excel"},
    ".xlsx": {XLSX},
    ".jpg": {"image/jpeg"}, ".jpeg": {"image/jpeg"}, ".jpe": {"image/jpeg"},
    ".png": {"image/png"},
    ".tif": {"image/tiff"}, ".tiff": {"image/tiff"},
    ".txt": {"text/plain"}, ".log": {"text/plain"}, ".csv": {"text/plain"},
    ".eml": {"message/rfc822"},
    ".wav": {"audio/wav"},
    ".mp3": {"audio/mpeg"},
}  # fmt: skip
# Names that claim something a browser or a shell would run: refused whatever the content.
DANGEROUS_EXTENSIONS = frozenset({
    ".html", ".htm", ".xhtml", ".svg", ".svgz", ".exe", ".js", ".mjs", ".bat", ".cmd", ".sh",
    ".php", ".jar", ".dll", ".scr", ".vbs", ".ps1", ".com", ".msi", ".hta", ".docm", ".xlsm",
})  # fmt: skip
SNIFF_BYTES = 1024 * 1024
MAX_CONTENT_TYPES_XML = 1024 * 1024
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_UNPACKED = 1024 * 1024 * 1024  # 1 GiB of parts
MAX_ZIP_RATIO = 200  # unpacked : packed, checked above ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 32 * 1024 * 1024
XML_PROLOG_BYTES = 64 * 1024
XML_PROLOG_BUDGET = 16 * 1024 * 1024

_magic = magic.Magic(mime=True)
_magic_lock = threading.Lock()  # libmagic handles are not safe to share between threads


class MediaRejected(Exception):
    """The file is not one the archive keeps; `detail` says why in one sentence."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class EmptyFile(MediaRejected):
    """A file of zero bytes."""


def extension_of(filename: str) -> str:
    suffix = Path(filename or "").suffix
    return suffix.lower()


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise EmptyFile("The file is empty.")
    with _magic_lock:
        reported = _magic.from_buffer(head)
    return ALIASES.get(reported, reported)


def _ooxml_type(path: Path) -> str | None:
    """DOCX or XLSX by the zip's `[Content_Types].xml`, after checks that every read is
    bounded: no zip bomb, no unsafe member path, no macros, no XML document type
    declarations (entity bombs, external entities). None if it is not OOXML at all."""
    try:
        with zipfile.ZipFile(path) as archive:
            _check_zip(archive)
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_XML:
                raise MediaRejected("The document's content-type list is implausibly large.")
            with archive.open(info) as member:
                listing = member.read(MAX_CONTENT_TYPES_XML + 1).decode("utf-8", "replace")
            _check_xml_prologs(archive)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError,
            EOFError, ValueError):  # fmt: skip
        return None
    if "macroEnabled" in listing:
        raise MediaRejected("Macro-enabled Office documents are not accepted.")
    for part_type, media_type in OOXML_MAIN_PARTS.items():
        if part_type in listing:
            return media_type
    return None


def _check_zip(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise MediaRejected("The document has implausibly many parts.")
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    if unpacked > MAX_ZIP_UNPACKED or (
        unpacked > ZIP_RATIO_FLOOR and unpacked > MAX_ZIP_RATIO * max(packed, 1)
    ):
        raise MediaRejected("The document expands implausibly (a zip bomb).")
    for member in members:
        name = member.filename
        if name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise MediaRejected("The document has a part with an unsafe path.")
        lowered = name.lower()
        if lowered.endswith("vbaproject.bin") or "/activex/" in lowered:
            raise MediaRejected("Office documents with macros or ActiveX are not accepted.")


def _check_xml_prologs(archive: zipfile.ZipFile) -> None:
    """Office never writes a DTD; one in any part is an entity bomb or an external entity."""
    budget = XML_PROLOG_BUDGET
    for member in archive.infolist():
        if not member.filename.lower().endswith((".xml", ".rels")) or budget <= 0:
            continue
        with archive.open(member) as part:
            head = part.read(min(XML_PROLOG_BYTES, budget))
        budget -= len(head)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise MediaRejected("XML with a document type declaration is not accepted.")


def _looks_like_email(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    headers = email.parser.BytesHeaderParser().parsebytes(head)
    present = {key.lower() for key in headers.keys()}
    return bool({"from", "to"} <= present or {"subject", "date"} <= present)


def detect_media_type(path: Path, filename: str) -> str:
    """The allowed media type of the file at `path`, or `MediaRejected` saying why not."""
    extension = extension_of(filename)
    if extension in DANGEROUS_EXTENSIONS:
        raise MediaRejected(f"Files named {extension} are not accepted.")
    reported = _sniff(path)
    media_type = reported
    if reported in {"application/zip", "application/octet-stream", DOCX, XLSX}:
        # libmagic misreads OOXML whose zip members are in an unusual order: ask the zip.
        media_type = _ooxml_type(path) or reported
    if media_type in {"text/plain", "message/rfc822"} and extension == ".eml":
        media_type = "message/rfc822" if _looks_like_email(path) else media_type
    if media_type not in ALLOWED_MEDIA_TYPES:
        raise MediaRejected(f"Content of type {media_type} is not accepted.")
    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and media_type not in expected:
        raise MediaRejected(f"The content is {media_type} but the name says {extension}.")
    return media_type


def clean_filename(raw: str | None, *, max_bytes: int = 255) -> str:
    """The base name only, NFC, without control or direction-changing characters, capped."""
    text = "".join(ch for ch in raw or "" if unicodedata.category(ch) not in {"Cc", "Cf"})
    text = unicodedata.normalize("NFC", text)  # after the removal, which can join marks
    parts = [part for part in text.replace("\\", "/").split("/") if part.strip()]
    name = parts[-1] if parts else ""
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        name = name[2:]  # a bare drive letter (C:report.pdf)
    name = unicodedata.normalize("NFC", " ".join(name.split()).lstrip(".").strip())
    if not name:
        return "unnamed"
    return _cap(name, max_bytes)


def _cap(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    suffix = Path(name).suffix
    if len(suffix.encode("utf-8")) > max_bytes // 4:
        suffix = ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    budget = max_bytes - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > budget:
        stem = stem[:-1]
    return (stem + suffix) or "unnamed"
