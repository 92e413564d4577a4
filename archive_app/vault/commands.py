"""The vault command: `archive keys rotate` (a new key-encryption key, every data key
re-wrapped). `keys rotate-signing` announces the key in a certificate, so it is retention's
(retention/commands.py); cli.py puts both under `keys`.

cli.py imports this module only when its command runs (commands.LazyGroup), so its imports
cost the other commands nothing.
"""

from __future__ import annotations

import os

import click

from ..bootstrap import open_app, read_settings
from ..commands import UsageProblem, in_transaction, reported_errors
from ..interfaces import IBucketKeys, IKeyring, IWrappedKeys
from ..settings import keyring_path
from . import KEYRING_ENVIRONMENT_VARIABLE
from .rotation import rotate_keys


def refuse_environment_keyring() -> None:
    """A keyring given in the environment cannot be rewritten by a command."""
    if os.environ.get(KEYRING_ENVIRONMENT_VARIABLE):
        raise UsageProblem(f"the keyring comes from {KEYRING_ENVIRONMENT_VARIABLE}; "
                           "rotate with a keyring file, then update the variable")  # fmt: skip


@click.command("rotate")
@click.pass_obj
def rotate(config_uri):
    """New key-encryption key; re-wrap every data key; the old key is retired."""
    refuse_environment_keyring()
    with reported_errors(), open_app(config_uri) as env:
        keyring = env["registry"].getUtility(IKeyring)
        buckets = env["registry"].getUtility(IBucketKeys)
        rows = env["registry"].getUtility(IWrappedKeys)
        version, count = rotate_keys(keyring, keyring_path(read_settings(config_uri)),
                                     in_transaction(env["request"]), buckets,
                                     rows=rows)  # fmt: skip
    click.echo(f"key-encryption key v{version} is current; {count} data key(s) re-wrapped")
