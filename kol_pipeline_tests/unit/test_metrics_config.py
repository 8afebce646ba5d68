import pandas as pd
import pytest

from kol_pipeline.lib.settings import MetricSettings, tier_of
from kol_pipeline.resources.settings import MetricsConfig


def test_defaults_match_the_library():
    assert MetricsConfig().to_settings() == MetricSettings()


def test_overrides_reach_the_metrics():
    s = MetricsConfig(tier_bounds=[5_000, 50_000, 200_000, 800_000], viral_multiple=5.0).to_settings()
    assert s.tier_bounds == (5_000, 50_000, 200_000, 800_000) and s.viral_multiple == 5.0
    assert tier_of(pd.Series([4_999, 5_000, 60_000]), s.tier_bounds).tolist() == ["nano", "micro", "mid"]


def test_bad_tier_bounds_are_refused():
    with pytest.raises(ValueError, match="4 increasing"):
        MetricsConfig(tier_bounds=[10, 5, 100, 1000]).to_settings()
