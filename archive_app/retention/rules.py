"""Retention rules as data: which rule sets a dossier's destroy-after date, and how."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

# The values a decision is made of live with filing, which asks for decisions.
from ..records.policy import Batch, RetentionDecision, RetentionRule, parse_expiry

EXPIRY_PLUS_ONE_YEAR = RetentionRule(
    name="expiry-plus-1y",
    version=1,
    source="投诉管理规程 §8 (投诉处理的归档): 保存至产品有效期后一年, keep until one year after "
    "the product's expiry date; and at least one year after closing (contract §6)",
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

GSP_MINIMUM_YEARS = 5
GSP = RetentionRule(
    name="gsp",
    version=1,
    source="药品经营质量管理规范 (GSP, 2016) Art. 42: records kept at least five years; with "
    "投诉管理规程 §8, one year after the product's expiry, whichever is later",
)


class RuleSet(StrEnum):
    """The rule sets `archive.retention.rule` chooses from."""

    PROCEDURE = "procedure"  # the archive's procedure: expiry + 1 year, closing + 1 year
    EU_GMP = "eu-gmp"
    GSP = "gsp"  # expiry + 1 year, closing + 5 years


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def latest_expiry(expiries: list[str | None]) -> tuple[date, str] | None:
    """The latest of the given expiries (a month means its last day), with its text as filed;
    None when none is known."""
    known = [(parse_expiry(text), text) for text in expiries if text]
    return max(known) if known else None


def compute_destroy_after(
    expiries: list[str], closed_on: date, default_years: int = 5
) -> RetentionDecision:
    """Contract §6: the later of (latest expiry + 1 year) and (closed + 1 year)."""
    latest_known = latest_expiry(expiries)
    if latest_known is None:
        until = add_years(closed_on, default_years)
        return RetentionDecision(
            until,
            CLOSED_PLUS_DEFAULT,
            f"no product expiry: closed {closed_on} + {default_years} years = {until}",
        )
    latest, text = latest_known
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
    if rule_set == RuleSet.EU_GMP:
        return compute_eu_gmp(batches, closed_on, default_years)
    if rule_set == RuleSet.GSP:
        return compute_gsp(batches, closed_on, default_years)
    if rule_set != RuleSet.PROCEDURE:
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


def compute_gsp(batches: list[Batch], closed_on: date,
                default_years: int = 5) -> RetentionDecision:  # fmt: skip
    """GSP Art. 42: the later of (latest expiry + 1 year) and (closing + 5 years). With no
    expiry known, closing + `default_years`, never fewer than GSP's five."""
    by_closing = add_years(closed_on, GSP_MINIMUM_YEARS)
    closing = f"closed {closed_on} + {GSP_MINIMUM_YEARS} years = {by_closing} (GSP Art. 42)"
    latest_known = latest_expiry([batch.expiry for batch in batches])
    if latest_known is None:
        fallback = compute_destroy_after([], closed_on, default_years)
        if fallback.destroy_after >= by_closing:
            return fallback
        return RetentionDecision(by_closing, GSP, f"no product expiry: {closing}")
    latest, text = latest_known
    by_expiry = add_years(latest, 1)
    expiry = f"expiry {text} → {latest} + 1 year = {by_expiry}"
    if by_expiry >= by_closing:
        return RetentionDecision(by_expiry, GSP, f"{expiry}, later than {closing}")
    return RetentionDecision(by_closing, GSP, f"{closing}, later than {expiry}")


def describe(decision: RetentionDecision) -> str:
    """The short text a dossier shows as `retention_rule`."""
    return f"{decision.rule.name} v{decision.rule.version}: {decision.derivation}"
