"""The Kubernetes deployment, validated as far as this machine allows (no cluster, no Docker daemon, no helm):
the Kubernetes code location loads with the k8s_job_executor; its executor configuration validates; the op tags of
the heavy steps become the resource requests of their pods (dagster-k8s builds the Job); the instance configuration
of the deployment loads (K8sRunLauncher, PostgreSQL storage); the Helm values and the Dockerfile agree with the
code (module, environment variables, limits) and carry no credential."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import dagster as dg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("dagster_k8s", reason="dagster-k8s is not installed (pip install -e '.[test]')")

from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job, get_user_defined_k8s_config  # noqa: E402

from kol_pipeline.definitions import defs as local_defs  # noqa: E402
from kol_pipeline.definitions_k8s import defs as k8s_defs  # noqa: E402

VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def k8s() -> dg.Definitions:
    return k8s_defs()


def test_kubernetes_code_location_has_the_same_graph_and_the_k8s_executor(k8s):
    local = local_defs()
    assert {k.to_user_string() for k in k8s.resolve_all_asset_keys()} == {
        k.to_user_string() for k in local.resolve_all_asset_keys()
    }
    for name in ("daily_job", "ingest_job", "downstream_job", "brand_job"):
        assert k8s.resolve_job_def(name).executor_def.name == "k8s"
        assert local.resolve_job_def(name).executor_def.name == "in_process"
    assert {s.name for s in k8s.resolve_all_job_defs()} >= {"daily_job"}
    assert [s.name for s in k8s.schedules] == [s.name for s in local.schedules]


def test_executor_run_config_validates(k8s, monkeypatch):
    monkeypatch.setenv("KOL_LANDING_DIR", "/landing")
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", "s3://kol-warehouse/prod")
    job = k8s.resolve_job_def("daily_job")
    good = {
        "execution": {
            "config": {
                "max_concurrent": 4,
                "job_namespace": "kol",
                "step_k8s_config": {"container_config": {"resources": {"requests": {"cpu": "500m"}}}},
            }
        }
    }
    resolved = dg.validate_run_config(job, good)["execution"]["k8s"]
    assert resolved["max_concurrent"] == 4 and resolved["job_namespace"] == "kol"
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(job, {"execution": {"config": {"max_concurrent": "four"}}})


@pytest.mark.parametrize(
    "asset,cpu,memory,limit",
    [
        ("notes", "2", "3Gi", "6Gi"),  # the ingestion multi-asset (one step)
        ("note_metrics", "2", "3Gi", "6Gi"),
        ("note_state", "2", "3Gi", "6Gi"),
        ("comment_state", "2", "3Gi", "6Gi"),
        ("creator_state", "1", "1536Mi", "3Gi"),
        ("creator_scorecard", "1", "1536Mi", "3Gi"),
        ("tier_benchmarks", "1", "1536Mi", "3Gi"),
    ],
)
def test_step_pods_get_the_resources_of_their_op_tags(k8s, asset, cpu, memory, limit):
    tags = k8s.resolve_assets_def(asset).op.tags
    user_config = get_user_defined_k8s_config(tags)
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(
            job_image="registry.example.com/kol-pipeline:0.1.0",
            dagster_home="/opt/dagster/dagster_home",
            image_pull_policy="IfNotPresent",
            instance_config_map="kol-dagster-instance",
        ),
        args=["dagster", "api", "execute_step"],
        job_name=f"kol-step-{asset.replace('_', '-')}",
        user_defined_k8s_config=user_config,
    )
    resources = job.spec.template.spec.containers[0].resources
    assert resources.requests == {"cpu": cpu, "memory": memory}
    assert resources.limits == {"memory": limit}


def test_untagged_steps_take_the_helm_default(k8s):
    assert "dagster-k8s/config" not in k8s.resolve_assets_def("campaign_performance").op.tags
    default = VALUES["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["containerConfig"]["resources"]
    assert default["requests"] == {"cpu": "250m", "memory": "512Mi"}


def test_kubernetes_instance_config_loads(tmp_path, monkeypatch):
    """deploy/dagster-k8s.yaml with a kubeconfig instead of the in-cluster config: the K8sRunLauncher is built, the
    queued coordinator, run monitoring and the pool limit are read; storage is PostgreSQL (not connected)."""
    cfg = yaml.safe_load((ROOT / "deploy" / "dagster-k8s.yaml").read_text())
    cfg["run_launcher"]["config"].update(load_incluster_config=False, kubeconfig_file=str(tmp_path / "kubeconfig"))
    cfg.pop(
        "storage"
    )  # loading it would connect to PostgreSQL: test_postgres_instance does that with deploy/dagster.yaml
    (tmp_path / "kubeconfig").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "kol",
                "clusters": [{"name": "kol", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "contexts": [{"name": "kol", "context": {"cluster": "kol", "user": "kol"}}],
                "users": [{"name": "kol", "user": {"token": "not-a-real-token"}}],
            }
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(cfg))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "K8sRunLauncher"
        assert launcher.job_namespace == "kol" and launcher.env_secrets == ["kol-pipeline-env"]
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
    storage = yaml.safe_load((ROOT / "deploy" / "dagster-k8s.yaml").read_text())["storage"]
    assert storage == {"postgres": {"postgres_url": {"env": "KOL_DAGSTER_PG_URL"}}}


def test_helm_values_match_the_code():
    (dep,) = VALUES["dagster-user-deployments"]["deployments"]
    assert dep["dagsterApiGrpcArgs"] == ["--module-name", "kol_pipeline.definitions_k8s"]
    assert '"--module-name", "kol_pipeline.definitions_k8s"' in DOCKERFILE
    env = {e["name"]: e["value"] for e in dep["env"]}
    assert set(env) == {"KOL_LANDING_DIR", "KOL_WAREHOUSE_DIR"}
    assert env["KOL_WAREHOUSE_DIR"].startswith("s3://")
    code = (ROOT / "kol_pipeline" / "definitions.py").read_text()
    assert set(re.findall(r'EnvVar\("(KOL_\w+)"\)', code)) == set(env)  # what the resources read
    assert dep["includeConfigInLaunchedRuns"]["enabled"] is True
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert VALUES["postgresql"]["enabled"] is False and VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["dagsterWebserver"]["service"]["type"] == "ClusterIP"
    # the same limits as the local production instance
    local = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())["concurrency"]
    assert VALUES["concurrency"]["runs"]["maxConcurrentRuns"] == local["runs"]["max_concurrent_runs"]
    assert VALUES["concurrency"]["pools"]["defaultLimit"] == local["pools"]["default_limit"]
    # the chart version to use is the pinned dagster version
    pins = (ROOT / "constraints.txt").read_text()
    version = re.search(r"^dagster==([\d.]+)$", pins, re.M).group(1)
    assert f"--version {version}" in (ROOT / "deploy" / "helm" / "values.yaml").read_text()


def _walk(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, path + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, path + (str(i),))
    else:
        yield path, node


def test_no_credentials_in_deployment_files():
    for name in ("deploy/helm/values.yaml", "deploy/dagster-k8s.yaml", "deploy/dagster.yaml"):
        data = yaml.safe_load((ROOT / name).read_text())
        for path, value in _walk(data):
            key = path[-1].lower() if path else ""
            names_a_secret = key.endswith(("secret", "secretname"))  # a Kubernetes Secret's name, not its content
            assert names_a_secret or not re.search(r"password|secret_access|token", key) or not value, (name, path)
            assert not (isinstance(value, str) and re.search(r"://[^/\s:@]+:[^/\s@]+@", value)), (name, path)


def test_dockerfile_builds_from_the_project_files():
    """What `docker build` needs (the Docker daemon is not available here, so the image is not built in CI)."""
    assert DOCKERFILE.startswith("#") and re.search(r"^FROM python:3\.11-slim", DOCKERFILE, re.M)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert "3.11" in requires
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            *sources, _dest = line.split()[1:]
            for src in sources:
                assert (ROOT / src).exists(), src
    assert 'pip install -c constraints.txt -e ".[k8s]"' in DOCKERFILE  # the same pins as make run / make test
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["k8s"]
    assert any(e.startswith("dagster-k8s==") for e in extras)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "data/warehouse", ".dagster_home"} <= set(ignored)
    assert "USER 10001" in DOCKERFILE  # not root


@pytest.mark.skipif(os.environ.get("KOL_TEST_DOCKER") != "1", reason="set KOL_TEST_DOCKER=1 where a Docker daemon runs")
def test_image_builds_and_serves_the_code_location(tmp_path):
    import subprocess

    tag = "kol-pipeline:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    out = subprocess.run(
        ["docker", "run", "--rm", tag, "dagster", "definitions", "validate", "-m", "kol_pipeline.definitions_k8s"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
