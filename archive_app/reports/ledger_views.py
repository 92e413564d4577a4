"""The ledger's views: `GET /api/v1/reports/ledger` (a page of rows), the workbook of every
row (`…/ledger.xlsx`, the API's and the page's download), and the `/reports/ledger` page.
Every one starts from the clearance query (ledger_rows.py), masks personal data unless the
role may see it, and writes the access log."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import suppress

from pyramid.view import view_config

from ..access.audit import log_now
from ..access.identities import identity_of
from ..access.permissions import Permission
from ..attachments import attachment
from ..interfaces import IRecordsService
from ..settings import storage_dir
from ..validation import validated
from .ledger_rows import Ledger, LedgerFilter
from .ledger_schemas import LedgerFilters, LedgerQuery
from .ledger_workbook import MEDIA_TYPE, write_ledger

WORKBOOK_NAME = "ledger.xlsx"
# What the pager's and the download's links carry over from the page's query string.
PAGE_PARAMETERS = ("from", "to", "complaint_class", "product", "per_page")


def ledger_for(request) -> Ledger:
    """The ledger as the signed-in reader sees it."""
    records = request.find_service(IRecordsService)
    unmasked = bool(request.has_permission(Permission.SEE_PERSONAL_DATA))
    return Ledger(request.dbsession, identity_of(request.user), records.customer,
                  unmasked=unmasked)  # fmt: skip


def ledger_page(request) -> tuple[dict, dict]:
    """(the answer, the validated query) for the request's filters and page; logged."""
    chosen = validated(LedgerQuery(), request.GET)
    filters = LedgerFilter.from_params(chosen)
    ledger = ledger_for(request)
    total = ledger.total(filters)
    results = ledger.page(filters, chosen["page"], chosen["per_page"])
    log_now(request, "ledger", detail=f"ledger page {chosen['page']} {filters.describe()}: "
                                      f"{total} dossiers")  # fmt: skip
    answer = {"total": total, "page": chosen["page"], "per_page": chosen["per_page"],
              "results": results}  # fmt: skip
    return answer, chosen


@view_config(route_name="api.reports.ledger", request_method="GET", renderer="json",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def ledger_api(request):
    answer, _chosen = ledger_page(request)
    return answer


@view_config(route_name="api.reports.ledger.xlsx", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
@view_config(route_name="reports.ledger.xlsx", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def ledger_workbook(request):
    """Every row the filters select (not one page), as a workbook; the export is logged
    before a byte of it leaves."""
    filters = LedgerFilter.from_params(validated(LedgerFilters(), request.GET))
    ledger = ledger_for(request)
    folder = storage_dir(request.registry.settings) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    # Under storage/ (0600): it holds what the reader may see, personal data included. It is
    # unlinked as soon as it is open, so nothing of it outlives the answer, a failure included.
    handle, path = tempfile.mkstemp(prefix="ledger-", suffix=".xlsx", dir=folder)
    os.close(handle)
    try:
        count = write_ledger(path, ledger.rows(filters))
        log_now(request, "export",
                detail=f"ledger workbook {filters.describe()}: {count} dossiers")  # fmt: skip
        body = open(path, "rb")  # noqa: SIM115 (closed by `chunks`, read to the end or not)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(path)
    return attachment(WORKBOOK_NAME, MEDIA_TYPE, app_iter=chunks(body), no_store=True)


def chunks(body, size: int = 64 * 1024) -> Iterator[bytes]:
    """The open file's bytes; closed when the client has them all, stops early or goes away
    (the server closes the iterator, or it is collected)."""
    with body:
        while chunk := body.read(size):
            yield chunk


@view_config(route_name="reports.ledger", request_method="GET",
             renderer="archive_app:templates/reports/ledger.pt",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def ledger_view(request):
    answer, chosen = ledger_page(request)
    pages = max(1, -(-answer["total"] // chosen["per_page"]))
    query = {name: value for name, value in request.GET.items()
             if value and name in PAGE_PARAMETERS}  # fmt: skip
    return {"ledger": answer, "params": request.GET, "query": query, "pages": pages,
            "page": chosen["page"]}  # fmt: skip
