"""Reports over what a reader may read: the 台账 ledger of complaints (and the reviews)."""

from __future__ import annotations


def includeme(config):
    # The ledger: its API, its workbook and its page.
    config.include(".ledger")
