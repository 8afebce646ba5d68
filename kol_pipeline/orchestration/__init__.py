"""How `kol-pipeline run` drives Dagster, by role:

- ``planning``: which days hold data, how they group into ranged runs, what a run writes, which days are done;
- ``running``: the runs themselves (brand files, ingestion and its checks, then the downstream layers for the days
  whose blocking checks passed), through the same job definitions the UI shows (kol_pipeline.defs.automation), in
  the DAGSTER_HOME instance, so `make ui` shows their history, materializations, check results and metadata;
- ``summary``: what the CLI prints at the end (rows per table, accounting per kind, skipped files, failures).
"""
