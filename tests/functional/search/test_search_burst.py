"""A burst of searches by one user is an anomaly on the privacy officer's report (what
recovering a masked value by enumeration looks like)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archive_app.access import anomalies


def flagged(api) -> dict[str, dict]:
    flags = api.get("/api/v1/access-log/anomalies", "privacy", status=200).json["flags"]
    return {flag["user"]: flag for flag in flags if flag["rule"] == "search_burst"}


def test_a_burst_of_searches_is_flagged(api, wsgi_app, monkeypatch):
    settings = wsgi_app.registry.settings
    monkeypatch.setitem(settings, "archive.anomaly.searches_per_burst", "5")
    monkeypatch.setitem(settings, "archive.anomaly.search_burst_seconds", "600")
    assert "auditor" not in flagged(api)
    for number in range(6):
        api.get(f"/api/v1/search?q=139{number:04d}1234", "auditor", status=200)
    flag = flagged(api)["auditor"]
    assert flag["count"] >= 6 and len(flag["seqs"]) == flag["count"]


def test_searches_spread_out_are_not_a_burst():
    start = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
    rules = anomalies.AnomalyRules(searches_per_burst=3, search_burst_seconds=60)
    slow = [(start + timedelta(seconds=30 * n), n) for n in range(10)]  # 2 a minute
    assert anomalies.search_bursts(slow, rules) == []
    fast = slow + [(start + timedelta(seconds=400 + n), 100 + n) for n in range(4)]
    assert anomalies.search_bursts(fast, rules) == [(10, [100, 101, 102, 103])]
