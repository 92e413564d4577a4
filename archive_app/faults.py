"""Fault injection for crash tests: `ARCHIVE_FAULT=step` makes the process die at that step
the way `kill -9` would (no cleanup, no flush), so tests can prove what survives a crash.

Steps: filing `blob_written` (blob on disk, transaction not committed); import
`import_batch_N_filled` (its Nth batch's rows flushed and blobs durable, not committed);
`reindex_built` (a new generation built, not swapped in); key rotation `rotation_saved`
(new key saved, no row re-wrapped) and `rotation_batch` (one batch committed); retention
`marked`, `index_purged`, `erased`, `certified`, `unlinked`; search steps are named
in search/ (see docs/search.md).
"""

from __future__ import annotations

import os

FAULT_VARIABLE = "ARCHIVE_FAULT"


def fault_injection():
    """A `fault(step)` callable for one process, reading the variable once."""
    wanted = os.environ.get(FAULT_VARIABLE)

    def fault(step: str) -> None:
        if wanted == step:
            os._exit(137)

    return fault


def crash_point(step: str) -> None:
    """For code without a collaborator to carry a `fault` callable."""
    if os.environ.get(FAULT_VARIABLE) == step:
        os._exit(137)
