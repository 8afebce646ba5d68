"""`python -m kol_pipeline.lib.simulate --creators 80 --days 130 --seed 7 --out DIR` (cli.py)."""

from kol_pipeline.lib.simulate.cli import main

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
