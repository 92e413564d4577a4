"""Choose, for each text-bearing file of ../shared/realdocs/files, one word it says, with tools
other than the archive's readers (poppler's pdftotext, catdoc's xls2csv and catdoc, the
zip's XML, the standard library's e-mail parser, the encoding the file's name gives), so that
the corpus test checks the archive's text against an independent reading.

Run by hand when the corpus changes (`python tests/corpus/choose_words.py`); it writes
`realdocs_words.json` beside it, which the test reads. A word is a run of 6 or more Latin
letters, or 4 Chinese characters where the file has Chinese, from the first 20,000
characters (inside any bound the archive sets); the test looks for it in the file's own dossier
(`q` with its complaint number), so it need not be rare.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared/realdocs/files"
# Some lower case: all-capital runs are field codes (MERGEFORMAT) as often as words.
LATIN = re.compile(r"(?<![A-Za-z])(?=[A-Za-z]*[a-z])[A-Za-z]{6,14}(?![A-Za-z])")
CHINESE = re.compile(r"[\u4e00-\u9fff]{4,}")
ENCODINGS = {"cjk-big5": "big5", "cjk-euc_kr": "euc_kr", "cjk-gb18030.": "gb18030",
             "cjk-gb2312.": "gb2312", "cjk-gbk": "gbk", "cjk-hz": "hz",
             "cjk-shift_jis": "shift_jis"}  # fmt: skip


def run(*command) -> str:
    done = subprocess.run(command, capture_output=True, timeout=120)
    return done.stdout.decode("utf-8", "replace")


def xml_text(path: Path, pattern: str) -> str:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(pattern, n)]
        raw = " ".join(archive.read(n).decode("utf-8", "replace") for n in sorted(names))
    return " ".join(re.findall(r"<(?:w:)?t(?:\s[^>]*)?>([^<]*)</(?:w:)?t>", raw))


def mail_text(path: Path) -> str:
    message = email.message_from_binary_file(path.open("rb"), policy=email.policy.default)
    parts = [str(message.get("subject", ""))]
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            try:
                parts.append(re.sub(r"<[^>]+>", " ", part.get_content()))
            except (LookupError, ValueError):
                pass
    return "\n".join(parts)


def plain_text(path: Path) -> str:
    encoding = next((e for prefix, e in ENCODINGS.items() if path.name.startswith(prefix)),
                    "utf-8")  # fmt: skip
    return path.read_bytes()[:400_000].decode(encoding, "replace")


READINGS = {
    "pdf": lambda p: run("pdftotext", "-l", "20", "-enc", "UTF-8", str(p), "-"),
    "docx": lambda p: xml_text(p, r"word/(document|header\d*|footer\d*|footnotes|comments)\.xml"),
    "xlsx": lambda p: xml_text(p, r"xl/sharedStrings\.xml"),
    "doc": lambda p: run("catdoc", "-d", "utf-8", str(p)),
    "xls": lambda p: run("xls2csv", "-d", "utf-8", str(p)),
    "eml": mail_text,
    "text": plain_text,
}


# Where the independent reading itself is wrong, the word a person reads on the page.
OVERRIDES = {
    "pdf/Simple PDF 2.0 file.pdf": "World",  # pdftotext runs "Hello World" together
}


def words_of(text: str, chinese_too: bool = True) -> list[str]:
    text = text[:20_000]
    chinese = [run_[:4] for run_ in CHINESE.findall(text)] if chinese_too else []
    return chinese + LATIN.findall(text)


def main() -> None:
    candidates = {}
    for folder, read in READINGS.items():
        for path in sorted((ROOT / folder).iterdir()):
            try:
                # catdoc reads the Latin text of old Word files well, their Chinese not.
                candidates[f"{folder}/{path.name}"] = words_of(read(path), folder != "doc")
            except Exception as error:  # unreadable to the oracle: not a text-bearing file
                print(f"skipped {folder}/{path.name}: {error}", file=sys.stderr)
    chosen = {}
    for name, words in candidates.items():
        chinese = [w for w in words if CHINESE.fullmatch(w)]
        pool = (chinese or words)[:50]
        if pool:
            chosen[name] = OVERRIDES.get(name) or max(pool, key=len)
    (HERE / "realdocs_words.json").write_text(
        json.dumps(chosen, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(chosen)} words for {len(candidates)} files")


if __name__ == "__main__":
    main()
