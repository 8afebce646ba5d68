"""The daily HTML report and the charts of asset metadata (docs/report.md)."""
