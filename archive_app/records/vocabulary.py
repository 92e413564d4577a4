"""The closed vocabularies of a dossier (contract §4): its state, class, type, channel,
outcome, measures and document kinds, each a `StrEnum` whose values are the stored text."""

from __future__ import annotations

from enum import StrEnum


class DossierState(StrEnum):
    ARCHIVED = "archived"
    HELD = "held"  # while any hold is active
    # A retention run has started erasing it (a killed run leaves it here; the next finishes).
    DESTROYING = "destroying"
    DESTROYED = "destroyed"


# Dossiers that are neither being destroyed nor destroyed: they have an index entry, take
# holds and corrections.
LIVING_STATES = (DossierState.ARCHIVED, DossierState.HELD)
DYING_STATES = (DossierState.DESTROYING, DossierState.DESTROYED)


class ComplaintClass(StrEnum):
    I = "I"  # noqa: E741 (the contract's own name for the class)
    II = "II"
    III = "III"


class ComplaintType(StrEnum):
    ADVERSE_REACTION = "adverse_reaction"
    INTRINSIC_QUALITY = "intrinsic_quality"
    INNER_PACKAGING = "inner_packaging"
    OUTER_PACKAGING = "outer_packaging"
    PACKAGING_DESIGN = "packaging_design"
    SERVICE = "service"
    OTHER = "other"


class Channel(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    FAX = "fax"
    EMAIL = "email"
    WECHAT = "wechat"
    SMS = "sms"
    VISIT = "visit"
    OTHER = "other"


class Outcome(StrEnum):
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


class Measure(StrEnum):
    COMPENSATION = "compensation"
    RETURN = "return"
    RECALL = "recall"


class DocumentKind(StrEnum):
    REGISTRATION_FORM = "registration_form"
    HANDLING_SHEET = "handling_sheet"
    INVESTIGATION_REPORT = "investigation_report"
    REPLY_REPORT = "reply_report"
    CUSTOMER_ACCEPTANCE = "customer_acceptance"
    ATTACHMENT = "attachment"  # the one kind a dossier may carry many of
