"""The code location for Kubernetes (Dagster's Helm chart, deploy/helm/values.yaml): the same assets, checks,
schedules and sensors as kol_pipeline.definitions, run by the k8s_job_executor (one pod per step; the heavy steps
ask for their resources through `dagster-k8s/config` op tags, see kol_pipeline/defs/shared.py). The warehouse is
wherever KOL_WAREHOUSE_DIR points, on Kubernetes an `s3://bucket/prefix` URL (credentials and endpoint from the
standard AWS_* variables of a Secret). docs/deploy.md."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_k8s import k8s_job_executor

from kol_pipeline.definitions import build_resources


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return dg.Definitions.merge(loaded, dg.Definitions(resources=build_resources(), executor=k8s_job_executor))
