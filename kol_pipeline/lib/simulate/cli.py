"""The simulator's command line, `python -m kol_pipeline.lib.simulate` (``main``); `kol-pipeline simulate`
(kol_pipeline/cli.py) calls `simulate()` the same way.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from kol_pipeline.lib.simulate.simulator import simulate


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m kol_pipeline.lib.simulate --creators 80 --days 130 --seed 7 --out DIR"""
    ap = argparse.ArgumentParser(prog="kol-pipeline simulate", description=main.__doc__)
    ap.add_argument("--creators", type=int, default=80)
    ap.add_argument("--days", type=int, default=130)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end-date", type=date.fromisoformat, default=date(2025, 6, 30))
    ap.add_argument("--no-brand-files", action="store_true", help="write only mediacrawler/ and reference/")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shared-audience", action="store_true", help="plant commenters shared with brands' notes")
    a = ap.parse_args(argv)
    s = simulate(
        a.out,
        creators=a.creators,
        days=a.days,
        seed=a.seed,
        end_date=a.end_date,
        brand_files=not a.no_brand_files,
        shared_audience=a.shared_audience,
    )
    print(json.dumps(s, ensure_ascii=False, indent=2))
    return 0
