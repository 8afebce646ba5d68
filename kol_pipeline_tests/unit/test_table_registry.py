"""The table registry (lib/schemas.py: each TableSpec's layer, partitioning and source) says what the code location
defines: the lists derived from it (job selections, checks, sensors, the CLI summary, docs/tables.md) are only right
if every warehouse asset has a spec whose layer is in the asset's group and whose partitioning is the asset's."""

import pytest

from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.schemas import (
    LAYERS,
    MEDIACRAWLER,
    TABLES,
    daily_tables,
    input_tables,
    tables_in,
    unpartitioned_tables,
)


@pytest.fixture(scope="module")
def location():
    from kol_pipeline.orchestration.planning import load_definitions

    defs = load_definitions()
    assets = {s.key.to_user_string(): s for s in defs.resolve_all_asset_specs()}
    # the assets that write a warehouse table (Parquet; the report is HTML)
    writers = {name for name, s in assets.items() if "parquet" in s.kinds}
    return defs, assets, writers


def _job_assets(defs, job: str) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_job_def(job).asset_layer.executable_asset_keys}


def test_every_warehouse_asset_has_a_spec_and_every_spec_an_asset(location):
    _, assets, writers = location
    assert len(writers) >= 20  # sanity: the whole graph was loaded
    assert set(TABLES) == writers
    assert {n for n in assets if n not in writers} == {"daily_report"}  # the HTML report: no table


def test_layer_and_partitioning_are_the_assets(location):
    _, assets, _ = location
    for name, spec in TABLES.items():
        asset = assets[name]
        assert LAYERS[spec.layer].group == asset.group_name, name
        assert (asset.partitions_def is not None) == spec.partitioned, name


def test_each_group_is_the_tables_of_its_layers(location):
    _, assets, writers = location
    for group in {layer.group for layer in LAYERS.values()}:
        layers = [k for k, layer in LAYERS.items() if layer.group == group]
        assert set(tables_in(*layers)) == {n for n in writers if assets[n].group_name == group}, group
    assert set(tables_in("ingest")) == {"notes", "creators", "comments", "quarantine", "search_rankings"}
    assert set(tables_in("state")) == {"note_state", "creator_state", "comment_state"}


def test_job_selections_are_the_derived_lists(location):
    defs, _, _ = location
    assert _job_assets(defs, "brand_job") == set(unpartitioned_tables())
    assert _job_assets(defs, "ingest_job") == set(daily_tables("ingest"))
    assert set(unpartitioned_tables()) == {
        "brands",
        "campaigns",
        "campaign_posts",
        "search_index",
        "rate_card",
        "store_traffic",
        "categories",
        "brand_quarantine",
        "brand_search_lift",
    }


def test_input_tables_are_what_the_readers_read():
    assert set(ingest_lib.KINDS) == set(input_tables(MEDIACRAWLER)) == {"notes", "comments", "creators"}
    assert set(ingest_lib.DB_TABLES) == set(input_tables(MEDIACRAWLER))
    brand_inputs = {t for t in tables_in("brand") if t in input_tables()}
    assert set(brand_lib.SPECS) == brand_inputs
    # the rest: the daily search rankings CSVs
    assert set(input_tables()) - set(ingest_lib.KINDS) - brand_inputs == {"search_rankings"}


def test_a_spec_must_name_a_known_layer():
    spec = TABLES["notes"]
    with pytest.raises(ValueError, match="unknown layer"):
        type(spec)(spec.name, spec.description, spec.columns, layer="bronze")


def test_registry_order_is_fixed():
    """The specs live in lib/<layer>/specs.py; lib/schemas.py gathers them in this order, which the job selections,
    docs/tables.md and the summaries follow (a spec module imported first must not reorder them)."""
    assert list(TABLES) == [
        "notes",
        "creators",
        "comments",
        "quarantine",
        "search_rankings",
        "brands",
        "campaigns",
        "campaign_posts",
        "search_index",
        "rate_card",
        "store_traffic",
        "categories",
        "brand_quarantine",
        "note_metrics",
        "creator_scorecard",
        "tier_benchmarks",
        "note_state",
        "creator_state",
        "comment_state",
        "campaign_performance",
        "keyword_share_of_voice",
        "brand_search_lift",
        "brand_creator_relationships",
        "tier_comparison",
        "creator_shortlist",
        "brand_audience_affinity",
    ]
