"""The certificates as files in storage/certificates (JSON, and the PDF beside it), for
filing outside the archive: which are not written yet, writing them, and checking the stored
chain against its files (`archive verify`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import storage_full
from ..settings import DEFAULTS, storage_dir
from ..vault.durability import write_atomically
from .certificates import check_stored_chain, render_pdf
from .models import Certificate


class CertificateFiles:
    """The exported certificates in `folder`. A certificate's JSON file is written last: its
    presence is what says "exported"."""

    def __init__(self, folder: Path, zone: ZoneInfo):
        self.folder = folder
        self.zone = zone  # the PDF's times are the archive's

    @classmethod
    def of(cls, settings) -> CertificateFiles:
        zone = settings.get("archive.timezone", DEFAULTS["archive.timezone"])
        return cls(storage_dir(settings) / "certificates", ZoneInfo(zone))

    def unexported(self, session: Session) -> list[str]:
        """Issued certificates without their file yet, in chain order."""
        ids = session.scalars(select(Certificate.id).order_by(Certificate.position)).all()
        return [cid for cid in ids if not (self.folder / f"{cid}.json").exists()]

    def export(self, body: str, certificate_id: str) -> Path:
        """Write the certificate's JSON (and PDF beside it), each complete or absent."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{certificate_id}.json"
        # The PDF first and the JSON last: the JSON's presence is what says "exported".
        _write_whole(self.folder / f"{certificate_id}.pdf", render_pdf(json.loads(body), self.zone))
        _write_whole(path, body.encode("utf-8"))
        return path

    def export_pending(self, transaction: Callable) -> Iterator[tuple[str, Path | None]]:
        """Write every certificate a run issued and no run has written yet: yields
        (certificate id, path), or (certificate id, None) and stops when the storage is full
        (the destruction and the certificate in the database stand; the next run writes the
        files). `transaction(work)` runs work(session) in a transaction and commits it."""
        for certificate_id in transaction(self.unexported):
            body = transaction(lambda s, cid=certificate_id: s.get(Certificate, cid).body)
            try:
                path = self.export(body, certificate_id)
            except OSError as error:
                if storage_full(error) is None:
                    raise
                yield certificate_id, None
                return
            yield certificate_id, path

    def problems(self, session: Session, keyring) -> list[str]:
        """Every stored certificate checked under the keyring's keys, and its exported file;
        exported files with no certificate in the database."""

        def exported(certificate_id: str) -> str | None:
            try:
                return (self.folder / f"{certificate_id}.json").read_text(encoding="utf-8")
            except FileNotFoundError:
                return None  # not written yet: the next retention run writes it
            except (OSError, UnicodeDecodeError) as error:
                return f"unreadable: {error}"

        columns = (Certificate.id, Certificate.position, Certificate.sha256, Certificate.body)
        rows = session.execute(select(*columns).order_by(Certificate.position))
        known: set[str] = set()

        def remembered(rows):
            for row in rows:
                known.add(row[0])
                yield row

        lines = check_stored_chain(remembered(rows), keyring.trusted_public_keys(),
                                   keyring.public_key_bytes(), exported)  # fmt: skip
        if self.folder.is_dir():
            lines += [f"certificate {file.stem}: {file.name} has no certificate in the database"
                      for file in sorted(self.folder.glob("*.json"))
                      if file.stem not in known]  # fmt: skip
        return lines


def _write_whole(path: Path, data: bytes) -> None:
    write_atomically(path, data)
