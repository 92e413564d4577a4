"""What a file is, decided from its content (libmagic) against the allowlist; clean names."""

from __future__ import annotations

import copy
import email.parser
import sys
import threading
import unicodedata
import warnings
import zipfile
import zlib
from pathlib import Path
from xml.parsers import expat

import magic
from translationstring import TranslationStringFactory

from ..errors import UnsupportedMedia

_ = TranslationStringFactory("archive")

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
# Other OOXML main parts (templates, add-ins, slides): Office documents all the same, never
# taken for a document or a workbook because libmagic names them one.
OTHER_OOXML_MAIN_PART = "application/vnd.openxmlformats-officedocument."
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
    # A JPEG-based format of its own (stereo and multi-picture cameras): not a photo file.
    ".mpo": {"image/mpo"},
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
MAX_XML_PROLOG = 1024 * 1024  # what may come before the root element of an XML part
READ_CHUNK = 64 * 1024
OLE_TYPES = frozenset({"application/msword", "application/vnd.ms-excel"})

_magic = magic.Magic(mime=True)
_magic_lock = threading.Lock()  # libmagic handles are not safe to share between threads


class MediaRejected(UnsupportedMedia):
    """The file is not one the archive keeps; `detail` says why in one sentence."""


class EmptyFile(MediaRejected):
    """An empty file is no kind of document the archive keeps (415, as any other refused
    content: the contract's answer for what is not on the list)."""


def extension_of(filename: str) -> str:
    suffix = Path(filename or "").suffix
    return suffix.lower()


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise EmptyFile(_("the file is empty"))
    with _magic_lock:
        reported = _magic.from_buffer(head)
    return ALIASES.get(reported, reported)


def _ooxml_type(path: Path) -> str | None:
    """DOCX or XLSX by the zip's `[Content_Types].xml`, after checks that every read is
    bounded: no zip bomb (counted in bytes really inflated), no unsafe member path, no
    macros, no XML document type declarations (entity bombs, external entities). None if it
    is not OOXML at all."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None  # not a zip: libmagic's answer stands
    with archive:
        try:
            archive.getinfo("[Content_Types].xml")
        except KeyError:
            return None  # a zip, but not an Office document
        _check_zip(archive)
        try:
            listing = _read_members(archive, path.stat().st_size)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError,
                ValueError, zlib.error):  # fmt: skip
            # A consumer would fail on the same bytes, or read what this check could not.
            raise MediaRejected("The document's parts cannot be read.") from None
    if "macroEnabled" in listing:
        raise MediaRejected("Macro-enabled Office documents are not accepted.")
    for part_type, media_type in OOXML_MAIN_PARTS.items():
        if part_type in listing:
            return media_type
    if OTHER_OOXML_MAIN_PART in listing:
        return "application/vnd.openxmlformats-officedocument"  # a kind not on the list
    return None


def _check_zip(archive: zipfile.ZipFile) -> None:
    """Checks of the zip's directory alone; sizes declared there can lie (see _read_members)."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise MediaRejected("The document has implausibly many parts.")
    if sum(member.file_size for member in members) > MAX_ZIP_UNPACKED:
        raise MediaRejected("The document expands implausibly (a zip bomb).")  # before reading
    for member in members:
        name = member.filename
        if name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise MediaRejected("The document has a part with an unsafe path.")
        lowered = name.lower()
        if lowered.endswith("vbaproject.bin") or "/activex/" in lowered:
            raise MediaRejected("Office documents with macros or ActiveX are not accepted.")


def _read_members(archive: zipfile.ZipFile, packed: int) -> str:
    """Inflate every member, counting the bytes that really come out (a member may declare
    any size), and check the prolog of every XML part. Returns `[Content_Types].xml`."""
    limit = min(MAX_ZIP_UNPACKED, max(ZIP_RATIO_FLOOR, MAX_ZIP_RATIO * max(packed, 1)))
    listing = _read_member(archive, archive.getinfo("[Content_Types].xml"), MAX_CONTENT_TYPES_XML,
                           xml=True, too_large="The document's content-type list is implausibly "
                           "large.")  # fmt: skip
    unpacked = len(listing)
    xml_types = _xml_part_types(listing)
    for member in archive.infolist():
        if member.filename == "[Content_Types].xml" or member.is_dir():
            continue
        unpacked += len(_read_member(archive, member, limit - unpacked,
                                     xml=_is_xml_part(member.filename, xml_types),
                                     too_large="The document expands implausibly (a zip bomb).",
                                     keep=False))  # fmt: skip
    return listing.decode("utf-8", "replace")


def _read_member(archive, member, budget: int, *, xml: bool, too_large: str, keep=True) -> bytes:
    """The member's bytes (or as many zeros when not `keep`), refused past `budget`."""
    # zipfile stops at the size the directory declares (and then fails the CRC, or does
    # not, if the CRC was forged to match): lift that, so the real length shows; the
    # running count below is the bound.
    unbounded = copy.copy(member)
    unbounded.file_size = sys.maxsize
    prolog = XmlProlog() if xml else None
    kept = bytearray()
    size = 0
    with archive.open(unbounded) as stream:
        while chunk := stream.read(READ_CHUNK):
            size += len(chunk)
            if size > budget:
                raise MediaRejected(too_large)
            if prolog is not None:
                prolog.feed(chunk)
            if keep:
                kept.extend(chunk)
    if prolog is not None:
        prolog.close()
    return bytes(kept) if keep else bytes(size)


def _xml_part_types(listing: bytes) -> tuple[set[str], set[str]]:
    """(extensions, part names) that `[Content_Types].xml` declares as XML (its prolog has
    been checked, so expat reads it without expanding anything)."""
    extensions, names = set(), set()

    def element(tag, attributes):
        kind = attributes.get("ContentType", "").split(";")[0].strip().lower()
        if not kind.endswith(("+xml", "/xml")):
            return
        if tag.endswith("Default") and "Extension" in attributes:
            extensions.add(attributes["Extension"].lower())
        elif tag.endswith("Override") and "PartName" in attributes:
            names.add(attributes["PartName"].lstrip("/").lower())

    parser = expat.ParserCreate()
    parser.StartElementHandler = element
    try:
        parser.Parse(listing, True)
    except expat.ExpatError:
        raise MediaRejected("The document's content-type list cannot be read.") from None
    return extensions, names


def _is_xml_part(name: str, xml_types: tuple[set[str], set[str]]) -> bool:
    extensions, names = xml_types
    lowered = name.lower()
    suffix = lowered.rsplit(".", 1)[-1] if "." in lowered.rsplit("/", 1)[-1] else ""
    return lowered.endswith((".xml", ".rels")) or suffix in extensions or lowered in names


class _RootReached(Exception):
    pass


class XmlProlog:
    """Reads the start of one XML document with expat, up to its root element, and refuses a
    document type declaration met on the way (Office never writes a DTD: one is an entity
    bomb or an external entity), whatever the encoding (expat reads the byte order mark, the
    UTF-16 pattern of `<?` and the declared encoding) and however much comment comes first."""

    def __init__(self):
        self.parser = expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._declaration
        self.parser.EntityDeclHandler = self._declaration
        self.parser.StartElementHandler = self._root
        self.done = False
        self.read = 0

    def _declaration(self, *args):
        raise MediaRejected("XML with a document type declaration is not accepted.")

    def _root(self, *args):
        raise _RootReached

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.done:
            return
        self.read += len(data)
        try:
            self.parser.Parse(data, final)
        except _RootReached:
            self.done = True
            return
        except expat.ExpatError:
            raise MediaRejected("The document has an XML part that cannot be read.") from None
        if self.read > MAX_XML_PROLOG:
            raise MediaRejected("The document has an XML part with an implausibly long start.")

    def close(self) -> None:
        if self.read:  # an empty part has nothing to expand
            self.feed(b"", final=True)


def _check_ole_macros(path: Path) -> None:
    """Old binary Word and Excel files: refuse VBA code (also when only its compiled p-code
    is left, "VBA stomping") and Excel 4 (XLM) macro sheets, as their OOXML cousins are."""
    # Imported here, on the first old Office file: olevba builds its pyparsing grammars at
    # import (a third of a second), which every `archive` command would otherwise pay.
    with warnings.catch_warnings():
        # ... with names that pyparsing 3.3 deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import FileOpenError, VBA_Parser, filter_vba

    try:
        parser = VBA_Parser(str(path))
    except FileOpenError:
        return  # not an OLE file (BIFF4 and older): nothing that carries macros
    try:
        if parser.detect_xlm_macros():
            raise MediaRejected("Excel files with Excel 4 macros are not accepted.")
        if parser.detect_vba_macros():
            # Word keeps an empty project (only its Attribute lines) in many plain files.
            if any(filter_vba(code).strip() for _, _, _, code in parser.extract_macros()) or (
                parser.detect_vba_stomping()
            ):
                raise MediaRejected("Office documents with macros are not accepted.")
    except MediaRejected:
        raise
    except Exception:  # oletools raises many kinds on damaged files; unreadable is refused
        raise MediaRejected("The document cannot be checked for macros.") from None
    finally:
        parser.close()


# The PDF specification lets a reader find `%PDF-` within the first 1,024 bytes (ISO 32000-2
# §7.5.2): what precedes it (a mail gateway's banner, a BOM) does not make it another type.
PDF_HEADER_WINDOW = 1024
# Old binary Office files that libmagic names only "OLE storage": their directory says which.
OLE_MAIN_STREAMS = {"worddocument": "application/msword", "workbook": "application/vnd.ms-excel",
                    "book": "application/vnd.ms-excel"}  # fmt: skip


def _pdf_after_prefix(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW + 8)
    return b"%PDF-" in head[: PDF_HEADER_WINDOW + 5]


def _ole_type(path: Path) -> str | None:
    import olefile  # with oletools; only for the rare file libmagic cannot name

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {entry[0].lower() for entry in ole.listdir(streams=True, storages=False)
                       if len(entry) == 1}  # fmt: skip
    except (OSError, ValueError, IndexError):
        return None
    return next((OLE_MAIN_STREAMS[name] for name in OLE_MAIN_STREAMS if name in streams), None)


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
    if media_type in {"text/plain", "text/html", "application/octet-stream",
                      "message/rfc822"} and extension == ".eml":  # fmt: skip
        # A mail whose first part libmagic read as HTML or binary is still a mail when it
        # parses as one; it is stored as message/rfc822 and never rendered.
        media_type = "message/rfc822" if _looks_like_email(path) else media_type
    if media_type == "text/plain" and extension == ".pdf" and _pdf_after_prefix(path):
        media_type = "application/pdf"
    if media_type == "application/x-ole-storage":
        media_type = _ole_type(path) or media_type
    if media_type not in ALLOWED_MEDIA_TYPES:
        raise MediaRejected(f"Content of type {media_type} is not accepted.")
    expected = EXTENSION_TYPES.get(extension)
    if expected is not None and media_type not in expected:
        raise MediaRejected(f"The content is {media_type} but the name says {extension}.")
    if media_type in OLE_TYPES:
        _check_ole_macros(path)
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
