"""Streaming multipart parsing: file parts go straight to disk, with limits on size and count."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header
from webob import BaseRequest

from ..errors import BadRequest, TooLarge, UnsupportedMedia
from .schemas import MAX_PRODUCTS
from .services import Upload

# The plain fields the filing form can send (Deform adds markers around every mapping and
# sequence): its fixed fields with room to spare, each product's, each upload widget's.
FORM_FIELD_PARTS = 64
PRODUCT_FIELD_PARTS = 7
UPLOAD_FIELD_PARTS = 3


def field_part_limit(max_files: int) -> int:
    """How many plain fields a filing with at most `max_files` files (the API's limit, the
    one `archive.max_parts` setting) can need."""
    return FORM_FIELD_PARTS + PRODUCT_FIELD_PARTS * MAX_PRODUCTS + UPLOAD_FIELD_PARTS * max_files


READ_SIZE = 64 * 1024
MAX_FIELD_BYTES = 2 * 1024 * 1024  # the metadata JSON and other plain fields


@dataclass
class ParsedForm:
    fields: dict[str, list[bytes]] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    _paths: list[Path] = field(default_factory=list)

    def field_text(self, name: str) -> bytes | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def discard(self) -> None:
        for path in self._paths:
            path.unlink(missing_ok=True)


@contextmanager
def parsed_multipart(request, spool_dir: Path, max_part_bytes: int, max_parts: int):
    """Parse the request body; every spooled file is removed when the block exits."""
    form = ParsedForm()
    try:
        _parse(request, spool_dir, max_part_bytes, max_parts, form)
        yield form
    finally:
        form.discard()


def _parse(request, spool_dir: Path, max_part_bytes: int, max_parts: int, form: ParsedForm):
    content_type, options = parse_options_header(request.headers.get("Content-Type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise UnsupportedMedia("the request must be multipart/form-data", field=None)
    remaining = request.content_length
    if remaining is None:
        raise BadRequest("a Content-Length is required", field=None)
    stream = request.body_file_raw
    spool_dir.mkdir(parents=True, exist_ok=True)
    current = None  # (segment, open file or bytearray)
    parts = 0
    try:
        with PushMultipartParser(options["boundary"], content_length=remaining) as parser:
            while not parser.closed:
                chunk = stream.read(min(READ_SIZE, remaining)) if remaining > 0 else b""
                remaining -= len(chunk)
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        parts += 1
                        if parts > max_parts:
                            raise TooLarge(f"at most {max_parts} parts in one request")
                        current = _start_part(event, spool_dir, form)
                    elif event:
                        _write_part(current, event, max_part_bytes)
                    else:
                        _finish_part(current, form)
                        current = None
    except MultipartError as error:
        raise BadRequest(f"the multipart body is malformed: {error}", field=None) from None
    finally:
        if current is not None and not isinstance(current[1], bytearray):
            current[1].close()


def _start_part(segment: MultipartSegment, spool_dir: Path, form: ParsedForm):
    if segment.filename is None:
        return (segment, bytearray())
    handle = tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", delete=False)
    form._paths.append(Path(handle.name))
    return (segment, handle)


def _write_part(current, data: bytes, max_part_bytes: int) -> None:
    segment, sink = current
    if isinstance(sink, bytearray):
        if len(sink) + len(data) > MAX_FIELD_BYTES:
            raise TooLarge(f"the field {segment.name} is too large", field=segment.name)
        sink.extend(data)
        return
    if sink.tell() + len(data) > max_part_bytes:
        raise TooLarge(
            f"{segment.name} is larger than {max_part_bytes // 2**20} MB", field=segment.name
        )
    sink.write(data)


def _finish_part(current, form: ParsedForm) -> None:
    segment, sink = current
    if isinstance(sink, bytearray):
        form.fields.setdefault(segment.name, []).append(bytes(sink))
        return
    size = sink.tell()
    sink.close()
    form.uploads.append(
        Upload(kind=segment.name, filename=segment.filename, path=Path(sink.name), size=size)
    )


def count_parts(request, max_files: int, max_fields: int) -> None:
    """Refuse (413) a multipart body with more file parts than `max_files` or more plain
    fields than `max_fields`, reading it once without keeping anything: for parsers that
    spool every part before anyone could count (WebOb's, behind the web forms)."""
    content_type, options = parse_options_header(request.headers.get("Content-Type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        return
    request.make_body_seekable()  # WebOb does the same next (a temporary file past 10 KB)
    stream = request.body_file_raw
    request.add_finished_callback(lambda request: stream.close())  # also when refused here
    stream.seek(0)
    files = fields = 0
    try:
        with PushMultipartParser(options["boundary"]) as parser:
            while not parser.closed:
                for event in parser.parse(stream.read(READ_SIZE)):
                    if not isinstance(event, MultipartSegment):
                        continue
                    if event.filename is None:
                        fields += 1
                    else:
                        files += 1
                    if files > max_files:
                        raise TooLarge(f"at most {max_files} files in one request", field=None)
                    if fields > max_fields:
                        raise TooLarge(f"at most {max_fields} form fields in one request",
                                       field=None)  # fmt: skip
    except MultipartError as error:
        raise BadRequest(f"the multipart body is malformed: {error}", field=None) from None
    finally:
        stream.seek(0)


def limited_post(max_files: int, max_fields: int):
    """A `request.POST` that counts a multipart body's parts before WebOb parses it."""

    def post(request):
        count_parts(request, max_files, max_fields)
        return BaseRequest.POST.fget(request)

    return post
