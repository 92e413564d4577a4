"""Signed checkpoints of the access-log chain, kept outside the database.

A line per checkpoint (sequence number, head MAC, time, Ed25519 signature) in a file beside
the keyring. Rewriting the chain in the database, or cutting its tail, no longer matches the
latest checkpoint, and forging a checkpoint needs the signing key.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    at: str


def _canonical(values: dict) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class CheckpointError(Exception):
    """The checkpoint file was altered: a line does not verify."""


class CheckpointFile:
    def __init__(self, path: Path, signing_key: Ed25519PrivateKey):
        self.path = Path(path)
        self.signing_key = signing_key
        self.public_key = signing_key.public_key()

    def write(self, seq: int, mac: str, at: datetime) -> Checkpoint:
        values = {"seq": seq, "mac": mac, "at": at.isoformat()}
        signature = base64.b64encode(self.signing_key.sign(_canonical(values))).decode("ascii")
        line = json.dumps(values | {"signature": signature}, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return Checkpoint(seq, mac, values["at"])

    def latest(self) -> Checkpoint | None:
        """The last checkpoint, its signature checked; CheckpointError if it was forged."""
        if not self.path.exists():
            return None
        lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]
        if not lines:
            return None
        try:
            values = json.loads(lines[-1])
            signature = base64.b64decode(values.pop("signature"))
            self.public_key.verify(signature, _canonical(values))
            return Checkpoint(int(values["seq"]), str(values["mac"]), str(values["at"]))
        except (ValueError, KeyError, TypeError, InvalidSignature):
            raise CheckpointError(f"the last line of {self.path.name} does not verify") from None
