"""Table-level validation (Great Expectations 1.x) and failure alerts (docs/validation.md, docs/automation.md)."""
