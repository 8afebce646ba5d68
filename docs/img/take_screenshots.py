"""Screenshots of the Dagster UI for the README (docs/img/*.png), taken by headless Chromium.

Run after `make run` (so the instance .dagster_home has runs and materializations):
    .venv/bin/python docs/img/take_screenshots.py
It starts `kol-pipeline ui` on a free port in its own process group, loads each page in headless Chromium (Debian's
package `chromium`; CJK fonts from `fonts-noto-cjk`), and stops the server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "img"
PAGES = {
    "asset-graph.png": "/asset-groups",  # global asset lineage, by group: ingest -> metrics -> marts -> reporting
    "asset-graph-metrics.png": "/locations/kol_pipeline/asset-groups/metrics/lineage",
    "runs.png": "/runs",
    "note-metrics-asset.png": "/assets/note_metrics",
    "automation.png": "/automation",
}


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("needs chromium (apt-get install chromium fonts-noto-cjk)")
        return 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kol = Path(sys.executable).parent / "kol-pipeline"
    proc = subprocess.Popen([str(kol), "ui", "--port", str(port)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(base + "/server_info", timeout=2).read()
                break
            except OSError:
                time.sleep(1)
        time.sleep(10)  # the code location loads after the server answers
        # mark the "join the community" dialog as seen (stored in the instance), so it does not cover the pages
        req = urllib.request.Request(base + "/graphql", data=json.dumps({"query": "mutation { setNuxSeen }"}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()
        for name, path in PAGES.items():
            subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--window-size=1600,1000", "--virtual-time-budget=20000",
                            f"--screenshot={OUT / name}", base + path],
                           check=True, timeout=180, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print(f"wrote {OUT / name}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
