"""Retention rules as data: which rule sets a dossier's destroy-after date, and how."""

from __future__ import annotations

from datetime import date

# The values a decision is made of live with filing, which asks for decisions.
from ..records.policy import Batch, RetentionDecision, RetentionRule, parse_expiry

EXPIRY_PLUS_ONE_YEAR = RetentionRule(
    name="expiry-plus-1y",
    version=1,
    source="客户投诉记录归档管理规程: keep until one year after the product's expiry date, "
    "and at least one year after closing",
)
CLOSED_PLUS_DEFAULT = RetentionRule(
    name="closed-plus-default",
    version=1,
    source="GSP record minimum: five years after closing where no expiry is known",
)


EU_GMP = RetentionRule(
    name="eu-gmp",
    version=1,
    source="EU GMP Part I ch. 4.10: one year after the batch's expiry or five years after "
    "its certification by the Qualified Person, whichever is longer",
)
RULE_SETS = ("procedure", "eu-gmp")  # archive.retention.rule


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def compute_destroy_after(
    expiries: list[str], closed_on: date, default_years: int = 5
) -> RetentionDecision:
    """Contract §6: the later of (latest expiry + 1 year) and (closed + 1 year)."""
    known = [(parse_expiry(text), text) for text in expiries if text]
    if not known:
        until = add_years(closed_on, default_years)
        return RetentionDecision(
            until,
            CLOSED_PLUS_DEFAULT,
            f"no product expiry: closed {closed_on} + {default_years} years = {until}",
        )
    latest, text = max(known)
    by_expiry = add_years(latest, 1)
    by_closing = add_years(closed_on, 1)
    if by_expiry >= by_closing:
        derivation = f"expiry {text} → {latest} + 1 year = {by_expiry}"
        return RetentionDecision(by_expiry, EXPIRY_PLUS_ONE_YEAR, derivation)
    derivation = (
        f"expiry {text} → {latest} + 1 year = {by_expiry}, earlier than "
        f"closed {closed_on} + 1 year = {by_closing}"
    )
    return RetentionDecision(by_closing, EXPIRY_PLUS_ONE_YEAR, derivation)


def decide(rule_set: str, batches: list[Batch], closed_on: date,
           default_years: int = 5) -> RetentionDecision:  # fmt: skip
    """The destroy-after date under the configured rule set."""
    if rule_set == "eu-gmp":
        return compute_eu_gmp(batches, closed_on, default_years)
    if rule_set != "procedure":
        raise ValueError(f"unknown retention rule set {rule_set!r}")
    return compute_destroy_after([b.expiry for b in batches], closed_on, default_years)


def compute_eu_gmp(batches: list[Batch], closed_on: date, default_years: int = 5):
    """Per batch the later of expiry + 1 year and certification + 5 years; the latest batch
    wins. An unknown certification date counts as the closing date: a batch is certified
    before it is sold and complained about, so closing + 5 years is never too early."""
    if not any(batch.expiry for batch in batches):
        return compute_destroy_after([], closed_on, default_years)
    candidates = []
    for batch in batches:
        if not batch.expiry:
            continue
        by_expiry = add_years(parse_expiry(batch.expiry), 1)
        certified = batch.certified_on or closed_on
        by_certification = add_years(certified, 5)
        label = "certified" if batch.certified_on else "certification unknown, closed"
        if by_expiry >= by_certification:
            text = f"expiry {batch.expiry} + 1 year = {by_expiry}"
            candidates.append((by_expiry, f"{text} (later than {label} {certified} + 5 years)"))
        else:
            text = f"{label} {certified} + 5 years = {by_certification}"
            candidates.append((by_certification, f"{text} (later than expiry {batch.expiry} "
                                                  f"+ 1 year = {by_expiry})"))  # fmt: skip
    until, derivation = max(candidates)
    floor = add_years(closed_on, 1)  # the contract's floor holds under every rule set
    if until < floor:
        derivation = f"{derivation}, earlier than closed {closed_on} + 1 year = {floor}"
        until = floor
    return RetentionDecision(until, EU_GMP, derivation)


def describe(decision: RetentionDecision) -> str:
    """The short text a dossier shows as `retention_rule`."""
    return f"{decision.rule.name} v{decision.rule.version}: {decision.derivation}"
