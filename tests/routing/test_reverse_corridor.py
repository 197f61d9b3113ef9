"""Russia → China quotes (issue 17): the Russian New Year holidays in the first mile (MMPO Sheremetyevo's
export customs) and the Spring Festival in the last (Chinese import customs and delivery)."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.eta import EtaEngine


def _p50_days(engine: EtaEngine, ship: datetime) -> float:
    quote = engine.quote("Moscow", "Shanghai", "ru_cn_post_air", ship)
    assert ship < quote.p10 < quote.p50 < quote.p90
    return (quote.p50 - ship).total_seconds() / 86400


def test_holidays_of_both_countries_slow_a_russian_export() -> None:
    engine = EtaEngine()
    october = _p50_days(engine, datetime(2026, 10, 5, 7, tzinfo=UTC))
    assert 14 <= october <= 18  # the reported 15-18 days average (network_reverse.json, INFRANEWS_2023)
    # Posted on 29 December: Russian customs stop over the New Year holidays (to about 8 January).
    assert _p50_days(engine, datetime(2026, 12, 29, 7, tzinfo=UTC)) > october + 3
    # Posted a week before the 2027 Spring Festival (6 February): it waits in China's customs and last mile.
    assert _p50_days(engine, datetime(2027, 1, 30, 7, tzinfo=UTC)) > october + 5
