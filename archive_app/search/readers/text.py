"""Plain text in the encodings of Chinese and Japanese offices: UTF-8 (and UTF-16 with its
BOM), HZ, then charset-normalizer's judgement (GB2312/GBK/GB18030, Big5, Shift_JIS, EUC-KR
...), and GB18030 for texts too short to judge."""

from __future__ import annotations

import codecs
from pathlib import Path

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
# Under this many non-ASCII bytes a detector guesses (GB18030 bytes read as Korean): a
# Chinese archive reads them as GB18030, which covers GBK and GB2312.
MIN_BYTES_TO_JUDGE = 64


def decode(data: bytes) -> str:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    if b"~{" in data and data.isascii():  # HZ-GB-2312: ASCII bytes, Chinese inside ~{ ~}
        try:
            return data.decode("hz")
        except UnicodeDecodeError:
            pass  # plain ASCII that happens to hold "~{"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if sum(byte > 0x7F for byte in data) >= MIN_BYTES_TO_JUDGE:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def read_text(path: Path, max_chars: int):
    with open(path, "rb") as handle:
        data = handle.read(max_chars * 4 + 1)
    complete = len(data) <= max_chars * 4
    # A cut in the middle of a character costs that character only (decoded with "replace"
    # when utf-8 fails on the last bytes): cut at a line end where there is one.
    if not complete and b"\n" in data[-4096:]:
        data = data[: data.rindex(b"\n")]
    return decode(data), complete
