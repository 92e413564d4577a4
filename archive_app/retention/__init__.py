"""Retention: rules that set destroy-after dates; holds, runs and certificates (issue 5)."""


def includeme(config):
    """The rules are used at filing; holds, runs and certificates are registered here later."""
