"""The password policy (contract §9): at least 12 characters, not the user name in any
letter case, not among the most common passwords. Every new password passes it: a user's
own change, an admin's reset, a new account."""

from __future__ import annotations

import functools
import string
from importlib.resources import files

from ..errors import Invalid

MIN_LENGTH = 12
COMMON_FILE = "common-passwords.txt"
# Stripped from the end before the list is asked: "password2024!" is "password" to a guesser.
_TRAILING = string.digits + string.punctuation + " "


class PasswordRefused(Invalid):
    """A new password the policy refuses; `reason` names the rule (short, name, common)."""

    def __init__(self, detail: str, field: str | None = "new", reason: str = "short"):
        super().__init__(detail, field=field)
        self.reason = reason


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list (see the file's header for its source), in lower case."""
    text = (files(__package__) / COMMON_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    lowered = password.lower()
    listed = common_passwords()
    return lowered in listed or lowered.rstrip(_TRAILING) in listed


def check_password(password, username: str, field: str = "new") -> None:
    """Raise PasswordRefused (422, `field`) unless `password` may be used by `username`."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PasswordRefused(f"must have at least {MIN_LENGTH} characters", field, "short")
    if password.casefold() == (username or "").casefold():
        raise PasswordRefused("must not be the user name", field, "name")
    if is_common(password):
        raise PasswordRefused("is among the most common passwords; choose another", field,
                              "common")  # fmt: skip
