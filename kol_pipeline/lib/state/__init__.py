"""The incremental states (note_state, creator_state, comment_state): one SQL file per table, Python glue beside it (docs/metrics.md, docs/engine.md)."""
