"""The access-log endpoints of the JSON API, for privacy officers."""

from __future__ import annotations

from pyramid.view import view_config

from ..attachments import attachment
from ..interfaces import IAccessLog, IClock, IDatabase, IDossierClearance
from ..validation import validated
from .anomalies import AnomalyRules, find_anomalies
from .audit import log_now
from .identities import identity_of
from .models import AccessOutcome
from .permissions import Permission
from .review import (
    LogFilter,
    count_entries,
    csv_rows,
    iter_entries,
    page_of_entries,
    shown_json,
    xlsx_bytes,
)
from .schemas import AccessLogFilters, AccessLogQuery

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def log_query(request, schema: AccessLogFilters | None = None) -> tuple[LogFilter, int]:
    """The request's filters, read with the privacy officer's clearance (see review.py), and
    its page (1 where `schema`, the export's, has none)."""
    chosen = validated(schema or AccessLogQuery(), request.GET)
    log_filter = LogFilter.from_params(
        chosen,
        request.find_service(IClock).zone,
        identity=identity_of(request.user),
        clearance=request.find_service(IDossierClearance),
    )
    return log_filter, chosen.get("page", 1)


@view_config(route_name="api.access_log", request_method="GET", renderer="json",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def list_entries(request):
    access_log = request.find_service(IAccessLog)
    chosen, page = log_query(request)
    session = request.dbsession
    total = count_entries(session, chosen)
    rows = page_of_entries(session, chosen, page)
    entries = [shown_json(access_log.as_json, row) for row in rows]
    log_now(request, "review", detail=f"access log page {page}: {total} entries match")
    return {"total": total, "page": page, "entries": entries}


@view_config(route_name="api.access_log.verify", request_method="GET", renderer="json",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def verify_chain(request):
    report = request.find_service(IAccessLog).verify(request.dbsession)
    log_now(
        request,
        "verify",
        AccessOutcome.OK if report.ok else AccessOutcome.FAILED,
        detail="access-log chain",
    )
    return {"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq,
            "problems": list(report.problems)}  # fmt: skip


def exported(request, form: str):
    """The access log and the query of every entry the filters choose (not one page), the
    export logged, in `form` (CSV, XLSX), before a byte of it leaves."""
    chosen, _page = log_query(request, AccessLogFilters())
    log_now(request, "export", detail=f"access log {form}")
    return request.find_service(IAccessLog), chosen


# The log page's CSV download is the same view under the session (the API takes bearer
# tokens only, pages the session only).
@view_config(route_name="api.access_log.export", request_method="GET",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
@view_config(route_name="access.log.export", request_method="GET",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def export_csv(request):
    access_log, chosen = exported(request, "CSV")
    # Streamed after the request's transaction has ended: a read session of its own.
    read_session = request.find_service(IDatabase).read

    def body():
        # A client that goes away closes this generator: the `with`s close the cursor too.
        with read_session() as session, iter_entries(session, chosen) as entries:
            for row in csv_rows(entries, access_log.as_json):
                yield row.encode("utf-8")

    return attachment("access-log.csv", "text/csv", app_iter=body(), charset="utf-8")


@view_config(route_name="api.access_log.export_xlsx", request_method="GET",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
@view_config(route_name="access.log.export_xlsx", request_method="GET",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def export_xlsx(request):
    """The CSV's rows as a workbook (review.xlsx_bytes: built whole before it is sent)."""
    access_log, chosen = exported(request, "XLSX")
    with request.find_service(IDatabase).read() as session, iter_entries(session, chosen) as rows:
        workbook = xlsx_bytes(rows, access_log.as_json)
    return attachment("access-log.xlsx", XLSX, body=workbook)


@view_config(route_name="api.access_log.anomalies", request_method="GET", renderer="json",
             permission=Permission.REVIEW_ACCESS_LOG)  # fmt: skip
def list_anomalies(request):
    flags = anomalies_for(request)
    log_now(request, "review", detail=f"anomaly report: {len(flags)} flags")
    return {"flags": [vars(flag) for flag in flags]}


def anomalies_for(request):
    clock = request.find_service(IClock)
    rules = AnomalyRules.from_settings(request.registry.settings)
    levels = request.find_service(IDossierClearance).levels
    return find_anomalies(request.dbsession, rules, clock.now(), clock.zone, levels)
