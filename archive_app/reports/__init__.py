"""Reports on the closed complaints: the 台账 ledger and the signed quarterly and annual
reviews (contract §8)."""

from __future__ import annotations


def includeme(config):
    # The ledger: its API, its workbook and its page.
    config.include(".ledger")
    # Signed quarterly and annual reviews: API, pages, their PDF and workbook.
    config.include(".reviews")
