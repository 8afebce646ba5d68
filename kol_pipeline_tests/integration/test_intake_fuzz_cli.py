"""The intake fuzz (kol_pipeline_tests/unit/test_intake_fuzz.py) once through `kol-pipeline run` end to end: a
generated landing folder of damaged MediaCrawler files must give exit 0, or 1 with a FAILED blocking check named
(the quarantine share rule may block a day of fuzz), and never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kol_pipeline_tests.unit.test_intake_fuzz import make_landing

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_cli_run_on_fuzzed_landing(tmp_path):
    landing, wh, home = tmp_path / "landing", tmp_path / "wh", tmp_path / "home"
    make_landing(landing, "json", seed=11, size=20, sweep=False)
    make_landing(tmp_path / "more", "jsonl", seed=12, size=20, sweep=False)
    (tmp_path / "more" / "mediacrawler" / "xhs" / "jsonl").rename(landing / "mediacrawler" / "xhs" / "jsonl")
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env["DAGSTER_HOME"] = str(home)
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "kol_pipeline.cli",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(wh),
            "--ingest-only",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = p.stdout + p.stderr
    assert "Traceback" not in out, out
    assert p.returncode in (0, 1), out
    if p.returncode == 1:
        assert "FAILED blocking checks" in out, out
    assert "quarantined rows: " in p.stdout, out
