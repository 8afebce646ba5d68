"""The DuckDB path, one table at a time (docs/engine.md): ``<table>.sql`` is the table's formula, ``<table>.py``
beside it types its inputs, runs it (``lib/duck.run_query``) and returns the table's frame."""
