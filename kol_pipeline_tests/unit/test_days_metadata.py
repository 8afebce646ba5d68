"""Blocked / failed days travel between checks, the CLI and the report as a JSON list, not a comma-joined string."""

from datetime import date

import dagster as dg

from kol_pipeline.defs.shared import days_metadata, metadata_days


def test_days_are_a_sorted_distinct_json_list():
    value = days_metadata([date(2025, 3, 2), "2025-03-01", date(2025, 3, 2)])
    assert isinstance(value, dg.JsonMetadataValue)
    assert value.value == ["2025-03-01", "2025-03-02"]
    assert days_metadata([]).value == []


def test_the_list_reads_back_as_days():
    assert metadata_days(days_metadata([date(2025, 3, 2), date(2025, 3, 1)])) == [date(2025, 3, 1), date(2025, 3, 2)]
    assert metadata_days(["2025-03-01"]) == [date(2025, 3, 1)]
    assert metadata_days(None) is None
    assert metadata_days(dg.MetadataValue.json([])) == []


def test_a_comma_joined_string_of_an_older_run_still_reads():
    assert metadata_days(dg.MetadataValue.text("2025-03-01,2025-03-03")) == [date(2025, 3, 1), date(2025, 3, 3)]
    assert metadata_days("") == []
    assert metadata_days("2025-03-01, not-a-day") == [date(2025, 3, 1)]
