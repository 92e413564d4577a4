"""The 台账 ledger's routes (contract §8): the JSON page of rows, the workbook of every row,
and the page people use, each under the readers' permission and the one clearance query."""

from __future__ import annotations


def includeme(config):
    config.add_route("api.reports.ledger", "/api/v1/reports/ledger")
    config.add_route("api.reports.ledger.xlsx", "/api/v1/reports/ledger.xlsx")
    config.add_route("reports.ledger", "/reports/ledger")
    # The page's download: the same view as the API's, under the session (the API takes
    # bearer tokens only, pages the session only).
    config.add_route("reports.ledger.xlsx", "/reports/ledger.xlsx")
    config.scan(".ledger_views")
