"""Signed checkpoints of the access-log chain, kept outside the database.

A line per checkpoint (sequence number, MAC of the entry there, time, Ed25519 signature) in a
file beside the keyring. Each checkpoint is also an entry of the chain itself (AccessLog), so
a file removed, cut or replaced by an older copy no longer matches the chain, and rewriting
or cutting the chain no longer matches the file; forging a line needs the signing key.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    mac: str
    at: str


@dataclass(frozen=True)
class CheckpointRecords:
    """What the file holds: the lines that verify, and one sentence per line that does not."""

    exists: bool
    checkpoints: tuple[Checkpoint, ...]
    problems: tuple[str, ...]


def _canonical(values: dict) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class CheckpointError(Exception):
    """The checkpoint file was altered: a line does not verify."""


class CheckpointFile:
    """`keys` is the keyring: it signs with the current signing key (re-read when another
    process rotated it) and accepts lines signed by any key the keyring still trusts."""

    def __init__(self, path: Path, keys):
        self.path = Path(path)
        self.keys = keys

    @property
    def name(self) -> str:
        return self.path.name

    def write(self, seq: int, mac: str, at: datetime) -> Checkpoint:
        values = {"seq": seq, "mac": mac, "at": at.isoformat()}
        signature = self.keys.signing_key().sign(_canonical(values))
        line = json.dumps(values | {"signature": base64.b64encode(signature).decode("ascii")},
                          sort_keys=True) + "\n"  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return Checkpoint(seq, mac, values["at"])

    def records(self) -> CheckpointRecords:
        """Every line, its signature checked under the keyring's trusted keys."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return CheckpointRecords(False, (), ())
        except (OSError, UnicodeDecodeError) as error:
            return CheckpointRecords(True, (), (f"{self.name}: unreadable ({error})",))
        keys = [Ed25519PublicKey.from_public_bytes(k) for k in self.keys.trusted_public_keys()]
        checkpoints, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            checkpoint = _verified(line, keys)
            if checkpoint is None:
                problems.append(f"{self.name}: line {number} does not verify "
                                "(altered, or signed by a key not the archive's)")  # fmt: skip
            else:
                checkpoints.append(checkpoint)
        return CheckpointRecords(True, tuple(checkpoints), tuple(problems))

    def latest(self) -> Checkpoint | None:
        """The checkpoint of the highest seq; CheckpointError if a line was forged."""
        found = self.records()
        if found.problems:
            raise CheckpointError(found.problems[0])
        return max(found.checkpoints, key=lambda c: c.seq, default=None)


def _verified(line: str, keys: list[Ed25519PublicKey]) -> Checkpoint | None:
    try:
        values = json.loads(line)
        signature = base64.b64decode(values.pop("signature"), validate=True)
        checkpoint = Checkpoint(int(values["seq"]), str(values["mac"]), str(values["at"]))
        message = _canonical(values)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return checkpoint
    return None
