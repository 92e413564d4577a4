"""The search's results as a file (CSV or an XLSX workbook): the same rows as the search, every
page of them up to `MAX_EXPORT_ROWS`, in the caller's language, the export logged."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from pyramid.response import Response
from pyramid.view import view_config
from translationstring import TranslationStringFactory

from ..access.permissions import Permission
from ..attachments import attachment
from ..labels import field_label, label
from .schemas import MAX_EXPORT_ROWS, ExportParameters, Sort, search_query
from .views import export_note, find

_ = TranslationStringFactory("archive")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ("complaint_no", "complaint_class", "complaint_type", "title", "received_on",
           "closed_on", "state", "confidentiality", "products")  # fmt: skip
HEADERS = {"state": _("State")}
CODED = ("complaint_class", "complaint_type", "state", "confidentiality")


def exported_rows(request) -> tuple[list[dict], int]:
    """The search's results (summaries, in its order) up to the cap, and its total."""
    query, sort = search_query(request.GET, ExportParameters(),
                               default_sort=Sort.RELEVANCE if request.GET.get("q")
                               else Sort.NEWEST)  # fmt: skip
    found = find(request, query, sort, 0, MAX_EXPORT_ROWS, action="export")
    return found["results"], found["total"]


def header_row(translate) -> list[str]:
    return [translate(HEADERS.get(name) or field_label(name)) for name in COLUMNS]


def cells(result: dict, translate) -> list[str]:
    """A summary as the row's cells: codes as their words, products as `name (batch)`."""
    values = dict(result)
    for name in CODED:
        values[name] = translate(label(values[name]))
    values["products"] = "; ".join(f"{p['name']} ({p['batch_no']})" for p in result["products"])
    return [spreadsheet_safe(values[name]) for name in COLUMNS]


def spreadsheet_safe(value) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote them (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(rows: list[dict], translate) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_row(translate))
    writer.writerows(cells(row, translate) for row in rows)
    return buffer.getvalue().encode("utf-8-sig")  # with a BOM: Excel reads it as UTF-8


def as_xlsx(rows: list[dict], translate, note: str | None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(translate(_("Search results")))
    sheet.append(header_row(translate))
    for row in rows:
        sheet.append(cells(row, translate))
    if note:
        sheet.append([])
        sheet.append([note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _attachment(body: bytes, content_type: str, filename: str, truncated: bool) -> Response:
    response = attachment(filename, content_type, body=body, no_store=True)
    if truncated:
        response.headers["X-Export-Truncated"] = str(MAX_EXPORT_ROWS)
    return response


# Each export twice: for the pages (the session) and for the API (a bearer token).
@view_config(route_name="search.export.csv", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
@view_config(route_name="api.search.csv", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def export_csv(request):
    rows, total = exported_rows(request)
    body = as_csv(rows, request.localizer.translate)
    response = _attachment(body, "text/csv", "search.csv", total > MAX_EXPORT_ROWS)
    response.charset = "utf-8"
    return response


@view_config(route_name="search.export.xlsx", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
@view_config(route_name="api.search.xlsx", request_method="GET",
             permission=Permission.READ_DOSSIERS)  # fmt: skip
def export_xlsx(request):
    rows, total = exported_rows(request)
    translate = request.localizer.translate
    truncated = total > MAX_EXPORT_ROWS
    note = translate(export_note()) if truncated else None
    return _attachment(as_xlsx(rows, translate, note), XLSX, "search.xlsx", truncated)
