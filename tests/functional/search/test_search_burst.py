"""A burst of searches by one user is an anomaly on the privacy officer's report (what
recovering a masked value by enumeration looks like)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archive_app.access import anomalies


def burst_entries(api, user: str) -> set[int]:
    """The access-log entries behind the report's search bursts by `user`."""
    flags = api.get("/api/v1/access-log/anomalies", "privacy", status=200).json["flags"]
    return {seq for flag in flags if (flag["rule"], flag["user"]) == ("search_burst", user)
            for seq in flag["seqs"]}  # fmt: skip


def test_a_burst_of_searches_is_flagged(api, search_app, monkeypatch):
    settings = search_app.registry.settings
    monkeypatch.setitem(settings, "archive.anomaly.searches_per_burst", "5")
    monkeypatch.setitem(settings, "archive.anomaly.search_burst_seconds", "600")
    before = burst_entries(api, "auditor")  # earlier tests' searches may be a burst already
    for number in range(6):
        api.get(f"/api/v1/search?q=139{number:04d}1234", "auditor", status=200)
    assert len(burst_entries(api, "auditor") - before) >= 6


def test_searches_spread_out_are_not_a_burst():
    start = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
    rules = anomalies.AnomalyRules(searches_per_burst=3, search_burst_seconds=60)
    slow = [(start + timedelta(seconds=30 * n), n) for n in range(10)]  # 2 a minute
    assert anomalies.search_bursts(slow, rules) == []
    fast = slow + [(start + timedelta(seconds=400 + n), 100 + n) for n in range(4)]
    assert anomalies.search_bursts(fast, rules) == [(10, [100, 101, 102, 103])]
