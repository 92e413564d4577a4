"""The closed vocabularies of a dossier (contract §4, §8): its state, class, type, channel,
outcome, measures, document kinds, a product line's role and the timeline's closure, each a
`StrEnum` whose values are the stored text."""

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
    JUSTIFIED = "justified"  # 合理
    UNJUSTIFIED = "unjustified"  # 不合理: investigated and found unreasonable (seed §5.5)
    NOT_ESTABLISHED = "not_established"  # 投诉不成立: closed without investigation (§5.3)


class Closure(StrEnum):
    """How the handling was closed (seed §5.8, contract §8 `timeline.closure`)."""

    CUSTOMER_SATISFIED = "customer_satisfied"
    NO_FEEDBACK = "no_feedback"  # replied, reminded, no answer: closed after working days
    NOT_ESTABLISHED = "not_established"


class ProductRole(StrEnum):
    """Why a product line is on the dossier (contract §8)."""

    COMPLAINED = "complained"  # the batch the customer complained about
    RELATED = "related"  # a batch the investigation covered (seed §5.4.3)


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
