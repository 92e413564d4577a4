"""Reports on the closed complaints: the 台账 ledger and the signed quarterly and annual
reviews (contract §8)."""


def includeme(config):
    # Signed quarterly and annual reviews: API, pages, their PDF and workbook.
    config.include(".reviews")
