"""The README works in a clone of the repository alone: every link and image it shows, and
every file of the repository it names, is a relative path to a file in the repository (none
into a folder beside the clone, none absolute)."""

from __future__ import annotations

import re
from pathlib import Path

from support import ROOT

README = ROOT / "README.md"
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\".*\")?\s*$", re.M)
# A file named in a code span from the repository's root (`docs/search.md`), from above it
# (`../shared/…`), or from this machine's work folder (a URL path like `/api/v1` is no file).
TOP = "|".join(re.escape(path.name) for path in ROOT.iterdir() if not path.name.startswith(".git"))
NAMED_FILE = re.compile(rf"`((?:\.\./|/work/)[^`\s]+\.\w+|(?:{TOP})/[^`\s<>*…]+\.\w+)`")


def targets(text: str) -> list[str]:
    return INLINE.findall(text) + REFERENCE.findall(text)


def anchors(text: str) -> set[str]:
    """The headings' anchors as GitHub writes them (`## The JSON API`: `#the-json-api`)."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", text, re.M)
    return {
        "#" + re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings
    }


def problems_of(text: str, root: Path) -> list[str]:
    problems = []
    for target in targets(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # a web address
        if target.startswith("#"):
            problems += [] if target in anchors(text) else [f"link {target}: no such heading"]
            continue
        problems += check(target.split("#")[0], root, "link")
    for named in NAMED_FILE.findall(text):
        problems += check(named, root, "named file")
    return problems


def check(path: str, root: Path, kind: str) -> list[str]:
    if path.startswith("/"):
        return [f"{kind} {path}: an absolute path, not in a clone"]
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root.resolve()):
        return [f"{kind} {path}: outside the repository"]
    if not resolved.exists():
        return [f"{kind} {path}: no such file in the repository"]
    return []


def test_every_link_and_named_file_of_the_readme_is_in_the_repository():
    text = README.read_text(encoding="utf-8")
    assert len(targets(text)) >= 4  # the screenshots at least: the parser finds links
    assert not problems_of(text, ROOT), problems_of(text, ROOT)


def test_the_check_finds_links_out_of_the_clone(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "here.md").write_text("x")
    text = (
        "## Roles\n[fine](docs/here.md) [web](https://example.org/x) [top](#roles) [no](#nowhere)\n"
        "![gone](docs/gone.png)\n"
        "[beside](../shared/CONTRACT.md) [root](/work/shared/DESIGN.md)\n"
        "See `../shared/CONTRACT.md` and `docs/here.md`.\n\n[ref]: docs/missing.md\n"
    )
    found = problems_of(text, tmp_path)
    assert found == [
        "link #nowhere: no such heading",
        "link docs/gone.png: no such file in the repository",
        "link ../shared/CONTRACT.md: outside the repository",
        "link /work/shared/DESIGN.md: an absolute path, not in a clone",
        "link docs/missing.md: no such file in the repository",
        "named file ../shared/CONTRACT.md: outside the repository",
    ]
