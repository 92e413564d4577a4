"""The real corpus (../shared/realdocs/files, 399 files nobody on this project wrote), filed
the way archivists file: each file the contract accepts is stored with its media type and
downloads byte for byte, each one it does not is refused with 415, nothing answers 5xx, and a
word of each text-bearing file, chosen by other tools (tests/corpus/choose_words.py), finds
that file's dossier."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import webtest
from factories import complaint_no, complete_files, metadata, metadata_part
from plaster import get_settings
from support import PASSWORD, REALDOCS, TESTING_INI, make_cli_env, run_cli

from archive_app import main
from archive_app.interfaces import IDatabase, IIndexer

WORDS = json.loads((Path(__file__).parents[2] / "corpus/realdocs_words.json").read_text("utf-8"))
EXPECTED_TYPES = {
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "eml": "message/rfc822", "jpeg": "image/jpeg", "mp3": "audio/mpeg",
    "pdf": "application/pdf", "png": "image/png", "text": "text/plain", "tiff": "image/tiff",
    "wav": "audio/wav", "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "refused": None,
}  # fmt: skip

pytestmark = pytest.mark.skipif(
    not REALDOCS.is_dir(),
    reason=f"the real corpus is not at {REALDOCS} (CI lays out ../shared beside the clone; "
    "set ARCHIVE_REALDOCS to its files/ folder)",
)
FILLERS = complete_files()


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory):
    """The web app over a storage of its own: 400 files are not the other tests' index.

    Its index is written as production writes it, by the background thread in batches
    (testing.ini writes it in each filing request, for the tests that search straight after
    filing): one Whoosh commit per filing made the index merge its segments 300 times over,
    five sixths of this test's CPU. The test searches after `IIndexer.flush` either way."""
    env = make_cli_env(tmp_path_factory, "realdocs")
    added = run_cli(env, "user", "add", "wang", "--role", "archivist", "--clearance",
                    "restricted", "--password-stdin", stdin=f"{PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    settings = dict(get_settings(TESTING_INI, "app:main"),
                    **{"archive.search.index_in_background": "true"})  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        for name in ("ARCHIVE_STORAGE_DIR", "ARCHIVE_SQLALCHEMY_URL"):
            patch.setenv(name, env[name])
        wsgi = main({"__file__": TESTING_INI}, **settings)
    app = webtest.TestApp(wsgi, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    token = app.post_json("/api/v1/auth/token", {"username": "wang", "password": PASSWORD})
    app.authorization = ("Bearer", token.json["token"])
    yield wsgi, app
    wsgi.registry.getUtility(IIndexer).close()  # the background thread and extraction child
    wsgi.registry.getUtility(IDatabase).dispose()


def corpus_files():
    return [(folder.name, path) for folder in sorted(REALDOCS.iterdir()) if folder.is_dir()
            for path in sorted(folder.iterdir())]  # fmt: skip


def file_with(app, extra: tuple[str, str, bytes]):
    meta = metadata(complaint_no=complaint_no())
    return app.post("/api/v1/dossiers", params=[metadata_part(meta)],
                    upload_files=[*FILLERS, extra], expect_errors=True)  # fmt: skip


def test_every_real_file_gets_the_contracts_answer_and_its_words_are_found(corpus_app):
    wsgi, app = corpus_app
    problems: list[str] = []
    holder = file_with(app, ("attachment", "说明.txt", "附件".encode()))
    assert holder.status_int == 201, holder.text
    holder_id = holder.json["id"]
    searchable: dict[str, tuple[str, str]] = {}  # corpus name -> (complaint number, word)
    for folder, path in corpus_files():
        name, content = f"{folder}/{path.name}", path.read_bytes()
        expected = EXPECTED_TYPES[folder]
        if name in WORDS:
            response = file_with(app, ("attachment", path.name, content))
        else:
            response = app.post(f"/api/v1/dossiers/{holder_id}/documents",
                                upload_files=[("attachment", path.name, content)],
                                expect_errors=True)  # fmt: skip
        if response.status_int >= 500:
            problems.append(f"{name}: {response.status_int} {response.text[:200]}")
            continue
        if expected is None:
            if response.status_int != 415:
                problems.append(f"{name}: refused type answered {response.status_int}")
            continue
        if response.status_int != 201:
            problems.append(f"{name}: answered {response.status_int} {response.text[:160]}")
            continue
        dossier = response.json
        document = dossier["documents"][-1]
        if document["media_type"] != expected:
            problems.append(f"{name}: stored as {document['media_type']}, not {expected}")
        body = app.get(f"/api/v1/dossiers/{dossier['id']}/documents/{document['id']}").body
        if hashlib.sha256(body).hexdigest() != hashlib.sha256(content).hexdigest():
            problems.append(f"{name}: the download differs from the file")
        if name in WORDS:
            searchable[name] = (dossier["complaint_no"], WORDS[name])

    assert wsgi.registry.getUtility(IIndexer).flush(timeout=600)
    for name, (number, word) in searchable.items():
        found = app.get("/api/v1/search", {"q": word, "complaint_no": number}).json["total"]
        if found != 1:
            problems.append(f"{name}: {word!r} does not find its dossier")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert len(searchable) == len(WORDS)
