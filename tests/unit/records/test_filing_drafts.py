"""The filing form's draft store (records/drafts.py): sealed at rest, bound to its user,
purged after its time to live, and deaf to names it did not give out."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from deform.widget import filedict

from archive_app.clock import FixedClock
from archive_app.records.drafts import FilingDrafts

SECRET = b"\x01" * 32
CONTENT = b"%PDF-1.4 the customer's registration form, MARKER-9c1e " * 50


@pytest.fixture
def drafts(tmp_path):
    return FilingDrafts(tmp_path / "drafts", SECRET, FixedClock(datetime.now(UTC)))


def kept(drafts, owner="archivist", uid="ABCDEFGHIJ"):
    draft = drafts.open(None, owner)
    draft[uid] = filedict(uid=uid, filename="登记表.pdf", fp=io.BytesIO(CONTENT),
                          mimetype="application/pdf", size=len(CONTENT))  # fmt: skip
    assert draft.keep(uid)
    return draft


def test_a_kept_file_reads_back_for_its_owner_only(drafts):
    draft = kept(drafts)
    again = drafts.open(draft.token, "archivist")
    assert again.get("ABCDEFGHIJ")["filename"] == "登记表.pdf"
    out = io.BytesIO()
    assert again.copy_to("ABCDEFGHIJ", out) == len(CONTENT) and out.getvalue() == CONTENT
    assert drafts.open(draft.token, "someone_else").get("ABCDEFGHIJ") is None


def test_nothing_is_plaintext_and_everything_is_private(drafts):
    draft = kept(drafts)
    assert oct(draft.folder.stat().st_mode & 0o777) == "0o700"
    for path in draft.folder.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        sealed = path.read_bytes()
        assert b"MARKER-9c1e" not in sealed and "登记表".encode() not in sealed


def test_drafts_unused_for_an_hour_are_purged(drafts):
    draft = kept(drafts)
    fresh = kept(drafts, uid="KLMNOPQRST")
    old = time.time() - 3601
    os.utime(draft.folder, (old, old))
    assert drafts.purge() == 1
    assert not draft.folder.exists() and fresh.folder.exists()
    later = drafts.clock.now() + timedelta(hours=2)
    assert drafts.purge(now=later) == 1 and not fresh.folder.exists()


@pytest.mark.parametrize("token", [None, "", "../../etc", "A" * 32, "0" * 31])
def test_a_malformed_token_opens_a_new_draft(drafts, token):
    draft = drafts.open(token, "archivist")
    assert draft.token != token and len(draft.token) == 32
    assert draft.folder.parent == drafts.root


@pytest.mark.parametrize("uid", ["../x", "a/b", "", "x" * 40, None])
def test_foreign_file_ids_find_nothing(drafts, uid):
    draft = kept(drafts)
    assert draft.get(uid) is None and uid not in draft
    with pytest.raises(KeyError):
        draft[uid] = filedict(uid=uid, fp=io.BytesIO(b"x"))


def test_forget_and_discard(drafts):
    draft = kept(drafts)
    draft.forget("ABCDEFGHIJ")
    assert drafts.open(draft.token, "archivist").get("ABCDEFGHIJ") is None
    draft = kept(drafts)
    draft.discard()
    assert not draft.folder.exists()
