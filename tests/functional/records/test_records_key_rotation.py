"""Key rotation re-wraps every data key, survives an interruption, and the web app follows."""

from __future__ import annotations

import pytest
from factories import complete_files, metadata, metadata_part
from sqlalchemy import select
from support import TESTING_INI

from archive_app.bootstrap import open_app, read_settings
from archive_app.interfaces import IBucketKeys, IKeyring, IWrappedKeys
from archive_app.records.models import Document
from archive_app.settings import keyring_path
from archive_app.vault.rotation import pending_count, rotate_keys


class Interrupted(Exception):
    pass


def test_interrupted_rotation_is_finished_by_the_next_and_nothing_is_lost(api, storage):
    filed = [
        api.post("/api/v1/dossiers", "archivist", params=[metadata_part(metadata())],
                 upload_files=complete_files(), status=201).json
        for _ in range(2)
    ]  # fmt: skip
    path = keyring_path(read_settings(TESTING_INI))
    with open_app(TESTING_INI) as env:
        request, keyring = env["request"], env["registry"].getUtility(IKeyring)
        buckets = env["registry"].getUtility(IBucketKeys)
        rows = env["registry"].getUtility(IWrappedKeys)  # records' documents
        calls = []

        def crash_after_first_batch(work):
            if calls:
                raise Interrupted
            calls.append(1)
            with request.tm:
                return work(request.dbsession)

        with pytest.raises(Interrupted):
            rotate_keys(keyring, path, crash_after_first_batch, buckets, rows=rows, batch_size=3)
        with request.tm:
            assert (
                pending_count(request.dbsession, keyring, rows) > 0
            )  # half done, as after a crash

        def in_transaction(work):
            with request.tm:
                return work(request.dbsession)

        version, _count = rotate_keys(
            keyring, path, in_transaction, buckets, rows=rows, batch_size=3
        )
        with request.tm:
            assert pending_count(request.dbsession, keyring, rows) == 0
            versions = set(request.dbsession.scalars(
                select(Document.kek_version).where(Document.wrapped_key.is_not(None))))  # fmt: skip
        assert versions == {version}
        assert keyring.retired_versions and version not in keyring.retired_versions

    # The running web app re-reads the keyring file and still serves every document.
    for dossier in filed:
        for document in dossier["documents"]:
            url = f"/api/v1/dossiers/{dossier['id']}/documents/{document['id']}"
            assert len(api.get(url, "auditor").body) == document["size"]
