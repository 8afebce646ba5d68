"""`dagster dev` on the project's workspace: the UI server comes up, its GraphQL API lists the assets, checks,
schedule and sensors of the code location, and the whole process group stops on SIGTERM."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = Path(os.sys.executable).parent / "dagster"
if not DAGSTER.exists():
    DAGSTER = Path(shutil.which("dagster") or "/nonexistent/dagster")

pytestmark = pytest.mark.skipif(not DAGSTER.exists(), reason="the dagster executable is not installed")

QUERY = """
{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    name location { name }
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } }
    assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
} } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read()


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _stop(proc: subprocess.Popen, pgid: int) -> tuple[int, bool]:
    """SIGTERM the process group, wait up to 30 s for every member to exit, else SIGKILL it.
    Returns (exit code of `dagster dev`, whether the group had to be killed)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return proc.wait(timeout=10), False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (proc.poll() is None or _group_alive(pgid)):
        time.sleep(0.5)
    killed = proc.poll() is None or _group_alive(pgid)
    if killed:
        os.killpg(pgid, signal.SIGKILL)
    return proc.wait(timeout=10), killed


def test_dagster_dev_serves_the_code_location(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "KOL_LANDING_DIR": str(ROOT / "data" / "sample"),
        "KOL_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }
    env.pop("KOL_ALERT_WEBHOOK", None)
    log = (tmp_path / "dev.log").open("wb")
    proc = subprocess.Popen(
        [str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # dagster dev maps SIGTERM to its SIGINT handler; a SIGINT ignored by the parent (background shells, some
        # test runners) would be inherited and make SIGTERM a no-op, so restore the default first
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        info = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                info = json.loads(_get(base + "/server_info"))
                break
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                time.sleep(1)
        assert info is not None, (tmp_path / "dev.log").read_text(errors="replace")[-3000:]
        assert info["dagster_version"] == "1.13.27"

        data = _post(base + "/graphql", {"query": QUERY})
        assert "errors" not in data, data
        repos = data["data"]["repositoriesOrError"]
        assert repos["__typename"] == "RepositoryConnection"
        (repo,) = [r for r in repos["nodes"] if r["location"]["name"] == "kol_pipeline"]
        assets = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
        assert {"notes", "creators", "comments", "note_metrics", "creator_scorecard", "creator_shortlist"} <= set(assets)
        notes_checks = {c["name"] for c in assets["notes"]["assetChecksOrError"]["checks"]}
        assert {"notes_suite", "notes_freshness"} <= notes_checks
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
        assert schedules == {"daily_job_schedule": "STOPPED"}
        sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
        assert sensors == {"landing_sensor": "STOPPED", "notes_freshness_sensor": "STOPPED", "run_failure_alert": "RUNNING"}
    finally:
        code, killed = _stop(proc, proc.pid)  # start_new_session: its process group id is its pid
        log.close()
    # SIGTERM stops dagster dev and its webserver, daemon and code servers within 30 s; nothing is left behind
    assert not killed, (tmp_path / "dev.log").read_text(errors="replace")[-3000:]
    assert proc.poll() is not None and not _group_alive(proc.pid)
    assert code == 0, code
