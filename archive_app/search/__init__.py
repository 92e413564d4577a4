"""Search: the Whoosh index of dossiers (issue 3 fills this package)."""


def includeme(config):
    """Nothing to register yet: filing does not queue index work until the index exists."""
