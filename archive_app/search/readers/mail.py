"""E-mail: the subject, every plain and HTML body (HTML reduced to its text, never rendered),
and the text of attachments the archive can read, nested mails included, within bounds."""

from __future__ import annotations

import email
import email.policy
import tempfile
from email.message import EmailMessage
from pathlib import Path

MAX_DEPTH = 3  # a mail in a mail in a mail
MAX_ATTACHMENTS = 20  # per mail, nested ones counted in their own
MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024


def html_text(markup: str) -> str:
    """The words of an HTML body: scripts, styles and comments dropped, block ends as lines."""
    from lxml import etree, html

    try:
        root = html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return ""
    for element in list(root.iter(etree.Comment, "script", "style", "head")):
        if element.getparent() is not None:
            element.drop_tree()
    for element in root.iter("br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "td"):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def _body_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: the bytes as the archive reads text
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return html_text(content) if part.get_content_type() == "text/html" else content


def _leaves(part: EmailMessage):
    """The mail's own parts, in order; an attached mail is one part (read as a mail of its
    own, one level deeper), never walked into as `Message.walk` would."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for child in part.iter_parts():
        yield from _leaves(child)


def read_message(message: EmailMessage, max_chars: int, folder: Path, depth: int):
    parts = [str(message.get("subject", ""))]
    complete, attachments = True, 0
    leaves = _leaves(message) if message.is_multipart() else [message]
    for part in leaves:
        if sum(map(len, parts)) > max_chars:
            return "\n".join(parts), False
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
            parts.append(_body_text(part))
            continue
        attachments += 1
        if attachments > MAX_ATTACHMENTS or depth + 1 >= MAX_DEPTH:
            complete = False  # past the bounds: its text is not read
            continue
        if kind == "message/rfc822":
            text, whole = read_message(part.get_payload(0), max_chars, folder, depth + 1)
        else:
            text, whole = _attachment_text(part, max_chars, folder, depth)
        parts.append(text)
        complete = complete and whole
    return "\n".join(parts), complete


def _attachment_text(part: EmailMessage, max_chars: int, folder: Path, depth: int):
    # Here, not at the top: the table of readers (extraction.py) holds this module's reader.
    from ...records.media import detect_media_type
    from ..extraction import READERS

    payload = part.get_payload(decode=True) or b""
    if not payload or len(payload) > MAX_ATTACHMENT_BYTES:
        return "", not payload
    filename = part.get_filename() or "attachment"
    with tempfile.NamedTemporaryFile(dir=folder, prefix="attachment-") as spooled:
        spooled.write(payload)
        spooled.flush()
        try:
            media_type = detect_media_type(Path(spooled.name), filename)
        except Exception:  # refused as a filing would be: not read
            return filename, True
        try:
            if media_type == "message/rfc822":
                with open(spooled.name, "rb") as handle:
                    nested = email.message_from_binary_file(handle, policy=email.policy.default)
                text, whole = read_message(nested, max_chars, folder, depth + 1)
            elif media_type in READERS:
                text, whole = READERS[media_type](Path(spooled.name), max_chars)
            else:
                text, whole = "", True
        except MemoryError:
            raise
        except Exception:  # a damaged attachment costs its own text, not the mail's
            text, whole = "", False
    return f"{filename}\n{text}", whole


def read_eml(path: Path, max_chars: int):
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    return read_message(message, max_chars, path.parent, 0)
