"""`kol-pipeline ui` (dagster dev on the project's workspace): the UI server comes up bound to 127.0.0.1 only, its
GraphQL API lists the assets, checks, schedule and sensors of the code location, and the whole process group stops
on SIGTERM."""

import json

import pytest

from kol_pipeline_tests.integration import dagster_dev as dev

pytestmark = pytest.mark.skipif(dev.MISSING is not None, reason=str(dev.MISSING))

QUERY = """
{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    name location { name }
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } }
    assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
} } } }
"""


def test_dagster_dev_serves_the_code_location(tmp_path):
    server = dev.start(
        tmp_path,
        {"KOL_LANDING_DIR": str(dev.ROOT / "data" / "sample"), "KOL_WAREHOUSE_DIR": str(tmp_path / "warehouse")},
    )
    try:
        info = json.loads(dev.http_get(server.base + "/server_info"))
        assert info["dagster_version"] == "1.13.27"
        # bound to the loopback address only (no --host given): nothing else on this machine's network reaches it
        assert dev.listening_addresses(server.port) == {"127.0.0.1"}

        data = server.gql(QUERY)
        repos = data["repositoriesOrError"]
        assert repos["__typename"] == "RepositoryConnection"
        (repo,) = [r for r in repos["nodes"] if r["location"]["name"] == "kol_pipeline"]
        assets = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
        assert {"notes", "creators", "comments", "note_metrics", "creator_scorecard", "creator_shortlist"} <= set(
            assets
        )
        notes_checks = {c["name"] for c in assets["notes"]["assetChecksOrError"]["checks"]}
        assert {"notes_suite", "notes_freshness"} <= notes_checks
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
        assert schedules == {"daily_job_schedule": "STOPPED"}
        sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
        assert sensors == {
            "landing_sensor": "STOPPED",
            "notes_freshness_sensor": "STOPPED",
            "run_failure_alert": "RUNNING",
        }
    finally:
        code, killed = dev.stop(server)
    # SIGTERM stops dagster dev and its webserver, daemon and code servers within 30 s; nothing is left behind, in
    # the supervisor's process group or in dagster dev's own
    assert server.dev_pgid and server.dev_pgid != server.proc.pid
    assert not killed, server.log_tail()
    assert server.proc.poll() is not None and not any(map(dev.group_alive, server.groups))
    assert code == 0, code
    log = server.log_tail(100_000)
    # dagster dev shut its services down itself: the code server was not signalled along with it (with a signal to
    # one shared group, dagster dev's monitor restarted the code server mid-shutdown and that server outlived it)
    assert "KeyboardInterrupt received" in log and "Dagster services shut down." in log
    assert "Restarting the code server process" not in log
    assert "stopping what dagster dev left" not in log
