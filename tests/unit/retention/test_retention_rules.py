"""Destroy-after dates at their edges (contract §6)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_app.retention.rules import (
    CLOSED_PLUS_DEFAULT,
    EXPIRY_PLUS_ONE_YEAR,
    add_years,
    compute_destroy_after,
    parse_expiry,
)  # fmt: skip


def test_month_precision_means_the_last_day_of_the_month():
    assert parse_expiry("2025-06") == date(2025, 6, 30)
    assert parse_expiry("2024-02") == date(2024, 2, 29)
    assert parse_expiry("2025-02-14") == date(2025, 2, 14)


@pytest.mark.parametrize("bad", ["2025-13", "2025-00", "2025-02-30", "25-06", "2025/06", ""])
def test_bad_expiry_is_refused(bad):
    with pytest.raises(ValueError):
        parse_expiry(bad)


def test_one_year_after_29_february_is_28_february():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    decision = compute_destroy_after(["2024-02"], date(2023, 1, 1))
    assert decision.destroy_after == date(2025, 2, 28)


def test_expiry_plus_one_year():
    decision = compute_destroy_after(["2025-06"], date(2023, 7, 3))
    assert decision.destroy_after == date(2026, 6, 30)
    assert decision.rule is EXPIRY_PLUS_ONE_YEAR
    assert decision.derivation == "expiry 2025-06 → 2025-06-30 + 1 year = 2026-06-30"


def test_latest_of_several_batches_wins():
    decision = compute_destroy_after(["2024-03", "2026-01-15", "2025-12"], date(2023, 1, 1))
    assert decision.destroy_after == date(2027, 1, 15)


def test_closed_after_expiry_keeps_one_year_after_closing():
    decision = compute_destroy_after(["2023-01"], date(2023, 9, 1))
    assert decision.destroy_after == date(2024, 9, 1)
    assert "closed 2023-09-01 + 1 year" in decision.derivation


def test_no_expiry_keeps_default_years_after_closing():
    decision = compute_destroy_after([], date(2023, 7, 3), default_years=5)
    assert decision.destroy_after == date(2028, 7, 3)
    assert decision.rule is CLOSED_PLUS_DEFAULT


@given(
    closed=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    expiries=st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
                      max_size=4),
)  # fmt: skip
def test_never_earlier_than_either_floor(closed, expiries):
    decision = compute_destroy_after([d.isoformat() for d in expiries], closed)
    assert decision.destroy_after >= add_years(closed, 1)
    for expiry in expiries:
        assert decision.destroy_after >= add_years(expiry, 1)
        assert decision.destroy_after > expiry + timedelta(days=364)


# -- the EU GMP rule set -------------------------------------------------------------------


def test_eu_gmp_takes_the_longer_of_expiry_and_certification():
    from archive_app.retention.rules import EU_GMP, Batch, decide

    closed = date(2023, 7, 3)
    by_expiry = decide("eu-gmp", [Batch("2030-06", date(2022, 1, 10))], closed)
    assert by_expiry.destroy_after == date(2031, 6, 30) and by_expiry.rule == EU_GMP
    by_certification = decide("eu-gmp", [Batch("2024-02", date(2022, 1, 10))], closed)
    assert by_certification.destroy_after == date(2027, 1, 10)
    assert "certified 2022-01-10 + 5 years" in by_certification.derivation


def test_eu_gmp_counts_an_unknown_certification_as_the_closing_day():
    from archive_app.retention.rules import Batch, decide

    decision = decide("eu-gmp", [Batch("2024-02-29", None)], date(2024, 2, 29))
    assert decision.destroy_after == date(2029, 2, 28)  # 29 February + 5 years
    assert "certification unknown" in decision.derivation


def test_eu_gmp_several_batches_the_latest_wins_and_no_expiry_falls_back():
    from archive_app.retention.rules import Batch, decide

    batches = [Batch("2025-01", date(2020, 1, 1)), Batch("2026-03", date(2019, 1, 1)),
               Batch(None, date(2024, 1, 1))]  # fmt: skip
    assert decide("eu-gmp", batches, date(2023, 1, 1)).destroy_after == date(2027, 3, 31)
    fallback = decide("eu-gmp", [Batch(None, date(2022, 1, 1))], date(2023, 1, 1))
    assert fallback.destroy_after == date(2028, 1, 1) and fallback.rule == CLOSED_PLUS_DEFAULT


def test_the_procedure_rule_set_ignores_certification_and_unknown_sets_are_refused():
    from archive_app.retention.rules import Batch, decide

    decision = decide("procedure", [Batch("2025-06", date(2010, 1, 1))], date(2023, 7, 3))
    assert decision.destroy_after == date(2026, 6, 30) and decision.rule == EXPIRY_PLUS_ONE_YEAR
    with pytest.raises(ValueError):
        decide("forever", [], date(2023, 7, 3))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       st.lists(st.tuples(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
                          st.one_of(st.none(), st.dates(min_value=date(1995, 1, 1),
                                                        max_value=date(2090, 12, 31)))),
                min_size=1, max_size=4))  # fmt: skip
def test_eu_gmp_is_never_earlier_than_the_procedure_rule(closed, batches):
    from archive_app.retention.rules import Batch, decide

    given_batches = [Batch(expiry.isoformat(), certified) for expiry, certified in batches]
    eu = decide("eu-gmp", given_batches, closed).destroy_after
    procedure = decide("procedure", given_batches, closed).destroy_after
    assert eu >= procedure
    assert eu >= add_years(closed, 1)


# -- the GSP rule set ----------------------------------------------------------------------


def test_gsp_keeps_five_years_after_closing_when_expiry_plus_one_year_is_earlier():
    from archive_app.retention.rules import GSP, Batch, decide

    # The contract's own example (TS-I-23-001): the procedure gives three years after closing.
    batches = [Batch("2025-06")]
    assert decide("procedure", batches, date(2023, 7, 3)).destroy_after == date(2026, 6, 30)
    decision = decide("gsp", batches, date(2023, 7, 3))
    assert decision.destroy_after == date(2028, 7, 3) and decision.rule == GSP
    assert decision.derivation == (
        "closed 2023-07-03 + 5 years = 2028-07-03 (GSP Art. 42), later than "
        "expiry 2025-06 → 2025-06-30 + 1 year = 2026-06-30"
    )


def test_gsp_keeps_one_year_after_expiry_when_that_is_later():
    from archive_app.retention.rules import GSP, Batch, decide

    decision = decide("gsp", [Batch("2030-06")], date(2023, 7, 3))
    assert decision.destroy_after == date(2031, 6, 30) and decision.rule == GSP
    assert decision.derivation.startswith("expiry 2030-06 → 2030-06-30 + 1 year = 2031-06-30")


def test_gsp_expiry_and_closing_on_the_same_day_count_as_expiry():
    from archive_app.retention.rules import Batch, decide

    decision = decide("gsp", [Batch("2027-07-03")], date(2023, 7, 3))
    assert decision.destroy_after == date(2028, 7, 3)
    assert decision.derivation.startswith("expiry 2027-07-03")


def test_gsp_month_only_expiry_is_the_last_day_of_the_month():
    from archive_app.retention.rules import Batch, decide

    # 2027-07 → 31 July 2027 + 1 year, four weeks after closing + 5 years (3 July 2028).
    assert decide("gsp", [Batch("2027-07")], date(2023, 7, 3)).destroy_after == date(2028, 7, 31)
    # February of a leap year ends on the 29th; a year later the 28th.
    assert decide("gsp", [Batch("2032-02")], date(2023, 7, 3)).destroy_after == date(2033, 2, 28)


def test_gsp_leap_day_closing_and_expiry():
    from archive_app.retention.rules import Batch, decide

    closed_on_leap_day = decide("gsp", [Batch("2024-03")], date(2024, 2, 29))
    assert closed_on_leap_day.destroy_after == date(2029, 2, 28)
    expiring_on_leap_day = decide("gsp", [Batch("2028-02-29")], date(2023, 1, 1))
    assert expiring_on_leap_day.destroy_after == date(2029, 2, 28)


def test_gsp_several_batches_the_latest_expiry_wins():
    from archive_app.retention.rules import Batch, decide

    batches = [Batch("2029-01"), Batch(None), Batch("2031-05-15"), Batch("2030-12")]
    decision = decide("gsp", batches, date(2023, 1, 1))
    assert decision.destroy_after == date(2032, 5, 15)
    assert "expiry 2031-05-15" in decision.derivation


def test_gsp_without_expiry_keeps_at_least_five_years():
    from archive_app.retention.rules import GSP, Batch, decide

    closed = date(2023, 7, 3)
    fallback = decide("gsp", [Batch(None)], closed, default_years=7)
    assert fallback.destroy_after == date(2030, 7, 3) and fallback.rule == CLOSED_PLUS_DEFAULT
    shorter = decide("gsp", [], closed, default_years=2)  # never below GSP's five years
    assert shorter.destroy_after == date(2028, 7, 3) and shorter.rule == GSP
    assert shorter.derivation.startswith("no product expiry: closed 2023-07-03 + 5 years")


def test_each_rule_cites_its_source():
    from archive_app.retention.rules import EU_GMP, GSP

    assert "投诉管理规程 §8" in EXPIRY_PLUS_ONE_YEAR.source
    assert "4.10" in EU_GMP.source
    assert "GSP" in GSP.source and "Art. 42" in GSP.source


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       st.lists(st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1),
                                              max_value=date(2090, 12, 31))), max_size=4),
       st.integers(min_value=1, max_value=10))  # fmt: skip
def test_gsp_is_the_later_of_expiry_plus_one_year_and_closing_plus_five(closed, expiries,
                                                                        default_years):  # fmt: skip
    from archive_app.retention.rules import Batch, decide

    batches = [Batch(expiry.isoformat() if expiry else None) for expiry in expiries]
    gsp = decide("gsp", batches, closed, default_years).destroy_after
    known = [add_years(expiry, 1) for expiry in expiries if expiry]
    if known:
        assert gsp == max([*known, add_years(closed, 5)])
    else:
        assert gsp == add_years(closed, max(5, default_years))
    assert gsp >= decide("procedure", batches, closed, default_years).destroy_after


def test_every_rule_a_dossier_can_name_has_its_label_in_chinese():
    import gettext

    from archive_app import labels
    from archive_app.retention.rules import EU_GMP, GSP

    chinese = gettext.translation("archive", str(Path(labels.__file__).parent / "locale"),
                                  languages=["zh_CN"])  # fmt: skip
    for rule in (EXPIRY_PLUS_ONE_YEAR, CLOSED_PLUS_DEFAULT, EU_GMP, GSP):
        shown = labels.VOCABULARIES["retention_rule"][rule.name]
        assert chinese.gettext(shown) != shown  # the page shows a label, not the rule's name
    assert chinese.gettext(labels.VOCABULARIES["retention_rule"]["gsp"]).startswith("GSP：")
