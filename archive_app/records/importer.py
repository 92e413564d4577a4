"""`archive import DIR`: file every dossier folder, one report line each, safe to rerun."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ..access.accesslog import Event
from ..errors import ArchiveError, storage_full
from ..faults import crash_point
from ..interfaces import IAccessLog, IRecordsService
from .cleanup import PENDING
from .services import RecordsService, Upload


class ImportStatus(StrEnum):
    """What became of one folder (the first word of its report line)."""

    FILED = "filed"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class FolderReport:
    folder: Path
    status: ImportStatus
    complaint_no: str | None = None
    reason: str = ""

    def line(self) -> str:
        subject = self.complaint_no or "-"
        suffix = f": {self.reason}" if self.reason else ""
        return f"{self.status} {self.folder} {subject}{suffix}"


IMPORTER = "import"


class ImportProblem(Exception):
    """A folder that cannot be filed as it is; the message says why."""


def dossier_folders(root: Path) -> list[Path]:
    return sorted(path.parent for path in root.rglob("dossier.json") if path.is_file())


def folders_without_listing(root: Path, folders: list[Path]) -> list[FolderReport]:
    """The folders directly under `root` with no dossier.json at any depth, each as a failed
    report: the layout is `DIR/<any>/dossier.json` (contract §5), so such a folder was meant
    to be a dossier and is named, never skipped in silence. None when `root` is itself a
    dossier's folder (its subfolders hold its documents)."""
    if (root / "dossier.json").is_file():
        return []
    holding = {folder.relative_to(root).parts[0] for folder in folders}
    return [
        FolderReport(Path(path.name), ImportStatus.FAILED, reason="no dossier.json in it")
        for path in sorted(root.iterdir())
        if path.is_dir() and not path.name.startswith(".") and path.name not in holding
    ]


MAX_LISTING_BYTES = 2 * 1024 * 1024


def read_folder(folder: Path) -> tuple[dict, list[Upload]]:
    listing = folder / "dossier.json"
    if listing.stat().st_size > MAX_LISTING_BYTES:
        raise ImportProblem("dossier.json is larger than 2 MB")
    try:
        data = json.loads(listing.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ImportProblem("dossier.json is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise ImportProblem(f"dossier.json is not valid JSON: {error.msg}") from None
    except RecursionError:
        raise ImportProblem("dossier.json is nested too deeply") from None
    if not isinstance(data, dict):
        raise ImportProblem("dossier.json must hold a JSON object")
    listed = data.pop("documents", [])
    if not isinstance(listed, list):
        raise ImportProblem("documents must be a list")
    uploads = []
    base = folder.resolve()
    for index, item in enumerate(listed):
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise ImportProblem(f"documents.{index} needs a kind and a file")
        path = (folder / item["file"]).resolve()
        if not path.is_relative_to(base):
            raise ImportProblem(f"documents.{index}.file points outside the folder")
        if not path.is_file():
            raise ImportProblem(f"documents.{index}.file {item['file']} does not exist")
        uploads.append(
            Upload(
                kind=str(item.get("kind")), filename=path.name, path=path, size=path.stat().st_size
            )  # fmt: skip
        )
    return data, uploads


def already_filed(
    service: RecordsService, metadata: dict, uploads: list[Upload]
) -> ImportStatus | None:
    """SKIPPED if the same dossier is filed; raises if the number is taken by another."""
    complaint_no = metadata.get("complaint_no")
    existing = service.find_by_complaint_no(complaint_no) if isinstance(complaint_no, str) else None
    if existing is None:
        return None
    filed = {document.sha256 for document in existing.documents}
    if {file_sha256(upload.path) for upload in uploads} <= filed:
        return ImportStatus.SKIPPED
    raise ImportProblem(f"{complaint_no} is filed already with other documents")


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_folder(request, root: Path, folder: Path) -> FolderReport:
    """File one folder in a transaction of its own (committed, or rolled back with its blobs)."""
    with request.tm:
        return _file_one(request, request.find_service(IRecordsService), root, folder)


def _file_one(request, service: RecordsService, root: Path, folder: Path) -> FolderReport:
    metadata, uploads = read_folder(folder)
    label = folder.relative_to(root)
    if already_filed(service, metadata, uploads):
        return FolderReport(
            label, ImportStatus.SKIPPED, metadata.get("complaint_no"), "already filed"
        )
    dossier = service.file_dossier(metadata, uploads, filed_by=IMPORTER)
    request.find_service(IAccessLog).append(
        request.dbsession,
        Event(action="file", username=IMPORTER, role="system", dossier_id=dossier.id,
              complaint_no=dossier.complaint_no, detail=f"import of {label}"),
    )  # fmt: skip
    return FolderReport(label, ImportStatus.FILED, dossier.complaint_no)


def failure(root: Path, folder: Path, error: Exception) -> FolderReport:
    """The failed report of a folder whose filing raised `error`; raises again an OSError
    that is not a full disk (a fault of this machine, not of the folder)."""
    label = folder.relative_to(root)
    if isinstance(error, ImportProblem):
        return FolderReport(label, ImportStatus.FAILED, reason=str(error))
    if isinstance(error, ArchiveError):
        field = f" ({error.field})" if error.field else ""
        return FolderReport(label, ImportStatus.FAILED, reason=f"{error.detail}{field}")
    full = storage_full(error)
    if full is None and isinstance(error, OSError):
        raise error
    reason = full.detail if full else f"database: {error}"
    return FolderReport(label, ImportStatus.FAILED, reason=reason)


FOLDER_ERRORS = (ImportProblem, ArchiveError, SQLAlchemyError, OSError)
BATCH_SIZE = 50  # dossiers per transaction at most...
BATCH_SECONDS = 2.0  # ...and no longer open than this (a crash loses at most that)


_batches = itertools.count(1)  # the Nth batch of this process, for its crash point


class BatchFailed(Exception):
    """The batch's transaction cannot go on (a database error, a full disk): it is rolled
    back whole and its folders filed again one transaction each."""


def file_batch(request, root: Path, folders: Iterator[Path], size: int,
               seconds: float) -> tuple[list[Path], list[FolderReport]]:  # fmt: skip
    """File folders taken from `folders` in one transaction, until `size` are taken or
    `seconds` have passed: the folders taken and their reports, the FILED ones committed.

    A folder that fails its checks is reported and the others go on (`_file_in_batch`).
    The blobs' folders are fsync'd once for the batch, then the rows commit together.
    Raises BatchFailed (with the folders taken) when the transaction itself fails; then
    nothing of the batch is committed.
    """
    taken: list[Path] = []
    reports: list[FolderReport] = []
    started = time.monotonic()
    number = next(_batches)
    try:
        with request.tm:
            service = request.find_service(IRecordsService)
            session = request.dbsession
            with service.blobs_synced_together():
                for folder in folders:
                    taken.append(folder)
                    reports.append(_file_in_batch(request, service, session, root, folder))
                    if len(taken) >= size or time.monotonic() - started >= seconds:
                        break
            # Crash tests: the batch's rows flushed and its blobs durable, nothing committed.
            crash_point(f"import_batch_{number}_filled")
    except BatchFailed as failed:
        raise BatchFailed(taken) from failed.__cause__
    except (SQLAlchemyError, OSError) as error:  # at the fsyncs or the commit
        if isinstance(error, OSError) and storage_full(error) is None:
            raise
        raise BatchFailed(taken) from error
    return taken, reports


def _file_in_batch(request, service, session, root: Path, folder: Path) -> FolderReport:
    """One folder of an open batch. A folder refused before it wrote anything (its listing,
    its metadata, its files, a number filed already: all checked before the first row or
    blob) is reported failed and the batch goes on; any failure after that raises
    BatchFailed. No savepoint: SQLAlchemy runs after_commit hooks at a savepoint's release,
    which would tell the indexer and keep the blobs before the batch has committed."""
    written = len(session.info.get(PENDING, ()))
    try:
        return _file_one(request, service, root, folder)
    except (ImportProblem, ArchiveError) as error:
        untouched = not session.new and len(session.info.get(PENDING, ())) == written
        if session.is_active and untouched:
            return failure(root, folder, error)
        raise BatchFailed() from error
    except (SQLAlchemyError, OSError) as error:
        raise BatchFailed() from error


def import_folders(request, root: Path, folders: list[Path], *, batch: int = BATCH_SIZE,
                   batch_seconds: float = BATCH_SECONDS) -> Iterator[FolderReport]:  # fmt: skip
    """A report per folder; a failed folder is rolled back alone and the others are filed.

    Folders are filed `batch` to a transaction (at most `batch_seconds` open), and the
    reports of a batch are given once it has committed: a folder reported filed is
    durable. A batch whose transaction fails is rolled back and its folders filed again
    one to a transaction, so each gets its own report (a full disk names each folder)."""
    remaining = iter(folders)
    while True:
        try:
            taken, reports = file_batch(request, root, remaining, batch, batch_seconds)
        except BatchFailed as failed:
            for folder in failed.args[0]:
                yield file_alone(request, root, folder)
            continue
        if not taken:
            return
        yield from reports


def file_alone(request, root: Path, folder: Path) -> FolderReport:
    try:
        return file_folder(request, root, folder)
    except FOLDER_ERRORS as error:
        return failure(root, folder, error)
