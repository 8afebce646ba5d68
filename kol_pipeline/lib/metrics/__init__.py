"""The metrics over the states (note_metrics, tier_benchmarks, creator_scorecard): one SQL file per table, Python glue beside it (docs/metrics.md, docs/engine.md)."""
