"""Ingestion: MediaCrawler files and database rows -> cleaned notes, creators, comments, quarantine (docs/ingestion.md)."""
