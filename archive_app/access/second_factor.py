"""The second factor's mechanics: TOTP secrets and codes (RFC 6238, pyotp), the enrolment
QR code as inline SVG, and one-time recovery codes. No database here: account.py keeps the
state (sealed secret, last step used, hashed codes)."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

STEP_SECONDS = 30
DIGITS = 6
# A code of the step before or after the current one is accepted too (clocks drift).
WINDOW = 1
RECOVERY_CODES = 10
# Letters and digits that cannot be mistaken for each other when read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps take them (RFC 4226's length)."""
    return pyotp.random_base32(32)


def enrolment_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an SVG element to put inline in a page (no image request, no
    external renderer: the page's CSP allows it as it is)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]  # without the XML declaration: it sits inside HTML


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one time step (tests and the enrolment page's checks)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


def matching_step(secret: str, code: str, moment: datetime, last_used: int | None) -> int | None:
    """The time step whose code `code` is, within ±WINDOW of `moment` and later than the
    last step used (so a code once accepted, and any before it, is never accepted again);
    None if there is none."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(moment)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if last_used is not None and step <= last_used:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def looks_like_totp(code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    return len(code) == DIGITS and code.isdigit()


def new_recovery_codes() -> list[str]:
    """Ten codes of ten characters (about 49 bits each), shown as `xxxxx-xxxxx`."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_digest(key: bytes, code: str) -> str:
    """The keyed hash kept for a recovery code: typed in any case, with or without the
    hyphen or spaces, it is the same code. Random codes need no slow hash; the key keeps a
    leaked table from being checked against guesses offline."""
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()
