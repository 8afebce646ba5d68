"""A landing folder written by the simulator, ingested and measured with the pipeline's own lib functions, next to
the truth the simulator planted (``truth/``). Shared by the tests that check the metrics recover the planted
parameters (kol_pipeline_tests/unit/test_planted_truth.py) and by anyone who needs the same world.

The bundled sample ``data/sample/`` is exactly ``simulate(out, creators=80, days=130, seed=7)`` (its README; the
unit test ``test_bundled_sample_matches_generator`` keeps it so), so it is read directly instead of regenerated;
``planted_world(None)`` falls back to a fresh simulation when the sample is absent.

No dagster here: ingestion is ``ingest_batches`` over every day of the landing folder in one call (the same
cleaning the ``mediacrawler_snapshot`` asset runs per range), with categories and brands from
``read_brand_table``; metrics and marts are the lib functions the Dagster assets wrap.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest.brand import SPECS as BRAND_FILES
from kol_pipeline.lib.ingest.brand import read_brand_table
from kol_pipeline.lib.ingest.intake import IngestContext, ingest_batches
from kol_pipeline.lib.ingest.landing import batches_for_days, landing_days
from kol_pipeline.lib.marts import brand_search_lift as bsl_lib
from kol_pipeline.lib.marts import campaign_performance
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.resources.table_io import to_arrow, to_pandas
from kol_pipeline_tests import metric_states
from kol_pipeline_tests import reference_metrics as metrics

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
SAMPLE_ARGS = {"creators": 80, "days": 130, "seed": 7}  # data/sample/README.md
BRAND_TABLES = tuple(BRAND_FILES)  # the brand files lib/ingest/brand.py reads (the registry's brand inputs)
TRUTH_IDS = {c: str for c in ("note_id", "user_id", "comment_id", "parent_comment_id", "note_author_id")}


def read_truth(landing: Path) -> dict[str, pd.DataFrame]:
    """truth/*.csv by stem (creators, notes, comments, campaigns, fee_ranges, malformed); ids as str (pandas'
    C parser crashes on hex XHS ids inferred as floats, docs/simulator.md)."""
    return {p.stem: pd.read_csv(p, dtype=TRUTH_IDS) for p in sorted((landing / "truth").glob("*.csv"))}


@dataclass
class PlantedWorld:
    """Cleaned tables of every day of a simulated landing folder, its brand tables and its planted truth."""

    landing: Path
    days: list[date]  # the days the landing folder holds (crawl days), ascending
    brand: dict[str, pd.DataFrame]  # BRAND_TABLES -> typed frame
    ingest: IngestedFrames
    truth: dict[str, pd.DataFrame]
    settings: MetricSettings = field(default_factory=MetricSettings)

    @property
    def last_day(self) -> date:
        return self.days[-1]

    @cached_property
    def states(self) -> Path:
        """The three states of every day, stored in a warehouse layout (kol_pipeline_tests/metric_states.py), as
        the note_metrics and tier_benchmarks SQL reads them; built once per landing folder and settings in a test
        process (the folds are the costliest part of the suite's set-up), read-only for the tests."""
        key = (self.landing.resolve(), self.last_day, repr(self.settings))  # the settings hold a dict: unhashable
        if key not in _STATES:
            wh = Path(tempfile.mkdtemp(prefix="planted_states_"))
            atexit.register(shutil.rmtree, wh, True)
            r = self.ingest
            metric_states.write_states(wh, r.notes, r.creators, r.comments, self.last_day, self.settings)
            _STATES[key] = wh
        return _STATES[key]

    def note_metrics(self, days: list[date]) -> pd.DataFrame:
        return metric_states.note_metrics_of_warehouse(self.states, self.brand["campaign_posts"], days, self.settings)

    def creator_scorecard(self, note_metrics: pd.DataFrame, days: list[date]) -> pd.DataFrame:
        r = self.ingest
        return metrics.creator_scorecard(
            note_metrics, r.creators, r.comments, self.brand["rate_card"], days, self.settings
        )

    def tier_benchmarks(self, scorecard: pd.DataFrame, note_metrics: pd.DataFrame, days: list[date]) -> pd.DataFrame:
        return metric_states.tier_benchmarks_of_warehouse(self.states, scorecard, days, self.settings)

    def campaign_performance(self, note_metrics: pd.DataFrame, days: list[date]) -> pd.DataFrame:
        b, r = self.brand, self.ingest
        with duck.connect() as con:
            return campaign_performance.campaign_performance(
                con, b["campaigns"], b["campaign_posts"], note_metrics, r.notes, r.creators, days, self.settings
            )

    def brand_search_lift(self) -> pd.DataFrame:
        b = self.brand
        return bsl_lib.brand_search_lift(b["campaigns"], b["brands"], b["search_index"], b["store_traffic"])


def planted_world(landing: Path | None = SAMPLE, tmp_dir: Path | None = None) -> PlantedWorld:
    """Ingest every day of ``landing`` (default: the bundled sample). With ``landing=None`` or a folder without
    ``truth/``, the simulator writes ``SAMPLE_ARGS`` into ``tmp_dir`` first.

    A landing folder is ingested once per test process (a dozen test modules use the bundled sample, and its
    ingestion is a fixed cost of each): each call gets its own copies of the frames, so a test that changes
    them changes nothing for the next."""
    if landing is None or not (landing / "truth").is_dir():
        if tmp_dir is None:
            raise ValueError("no simulated landing folder and no tmp_dir to simulate into")
        from kol_pipeline.lib.simulate import simulate

        simulate(tmp_dir, **SAMPLE_ARGS)
        landing = tmp_dir
    key = landing.resolve()
    if key not in _WORLDS:
        _WORLDS[key] = _ingested(landing)
    w = _WORLDS[key]
    return PlantedWorld(
        landing=w.landing,
        days=list(w.days),
        brand={k: v.copy() for k, v in w.brand.items()},
        ingest=IngestedFrames(
            tables={k: v.copy() for k, v in w.ingest.tables.items()},
            quarantine=w.ingest.quarantine.copy(),
            accounting=w.ingest.accounting.copy(),
            file_notes={k: list(v) for k, v in w.ingest.file_notes.items()},
        ),
        truth={k: v.copy() for k, v in w.truth.items()},
    )


# planted_world's ingested landing folders and PlantedWorld.states's warehouses, by landing folder (one test process)
_WORLDS: dict[Path, PlantedWorld] = {}
_STATES: dict[tuple, Path] = {}


@dataclass
class IngestedFrames:
    """An IngestResult's tables as the metrics read them from the warehouse (pandas frames), with its quarantine,
    accounting and file notes."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    file_notes: dict[str, list[str]]

    @property
    def notes(self) -> pd.DataFrame:
        return self.tables["notes"]

    @property
    def creators(self) -> pd.DataFrame:
        return self.tables["creators"]

    @property
    def comments(self) -> pd.DataFrame:
        return self.tables["comments"]

    def table(self, kind: str) -> pd.DataFrame:
        return self.tables[kind]


def _ingested(landing: Path) -> PlantedWorld:
    days = sorted(landing_days(landing))
    brand = {name: read_brand_table(landing, name).frame for name in BRAND_TABLES}
    ctx = IngestContext(categories=brand["categories"], brands=brand["brands"])
    result = ingest_batches(batches_for_days(landing, days[0], days[-1]), ctx, days[0], days[-1])
    # the tables as the metrics read them from the warehouse (the IO manager's conversions), not as ingestion holds
    # them in memory (text as Arrow strings)
    frames = {k: to_pandas(to_arrow(result.table(k), k), k) for k in ("notes", "creators", "comments")}
    result = IngestedFrames(
        tables=frames, quarantine=result.quarantine, accounting=result.accounting, file_notes=result.file_notes
    )
    return PlantedWorld(landing=landing, days=days, brand=brand, ingest=result, truth=read_truth(landing))
