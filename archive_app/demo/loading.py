"""`archive init --demo`: demo users and a generated demo archive, loaded idempotently."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..interfaces import IAccountService
from ..records.importer import ImportStatus, dossier_folders, import_folders
from .corpus import DEMO_USERS, write_demo_archive


def ensure_demo_users(request) -> Iterator[str]:
    with request.tm:
        accounts = request.find_service(IAccountService)
        for demo_user in DEMO_USERS:
            if accounts.find_user(demo_user["username"]) is None:
                accounts.add_user(demo_user["username"], demo_user["role"],
                                  demo_user["password"], demo_user["clearance"])  # fmt: skip
    for demo_user in DEMO_USERS:
        yield (f"demo login: {demo_user['username']} / {demo_user['password']} "
               f"({demo_user['role']}, clearance {demo_user['clearance']})")  # fmt: skip


def load_demo(request, count: int = 36) -> Iterator[str]:
    yield from ensure_demo_users(request)
    with tempfile.TemporaryDirectory(prefix="archive-demo-") as folder:
        root = Path(folder)
        write_demo_archive(root, count=count)
        reports = list(import_folders(request, root, dossier_folders(root)))
    filed = sum(report.status == ImportStatus.FILED for report in reports)
    skipped = sum(report.status == ImportStatus.SKIPPED for report in reports)
    for report in reports:
        if report.status == ImportStatus.FAILED:
            yield report.line()
    yield f"demo archive: {filed} filed, {skipped} already there"
