# The kol_pipeline code location image: `dagster api grpc` serving kol_pipeline.definitions_k8s (Helm chart user
# deployment); the K8sRunLauncher and the k8s_job_executor start run and step pods from the same image.
# Build: docker build -t <registry>/kol-pipeline:<version> .   (docs/deploy.md)
# Python 3.11: the version CI runs the whole suite on (README "Python versions"); constraints.txt also resolves on
# 3.12 and 3.13, so python:3.13-slim-bookworm works the same way.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home

# A CJK font (Noto Sans CJK): the report names Chinese brands and nicknames, and a page rendered or screenshotted
# in the image (headless Chromium, docs/report.md) would draw them as empty boxes without one
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/kol_pipeline
# dependencies first (cached while only code changes): the same pins as `make run` / `make test`
COPY pyproject.toml constraints.txt README.md ./
COPY kol_pipeline/__init__.py kol_pipeline/__init__.py
RUN pip install -c constraints.txt -e ".[k8s]" \
    && mkdir -p "$DAGSTER_HOME" \
    && printf 'telemetry:\n  enabled: false\n' > "$DAGSTER_HOME/dagster.yaml" \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin kol \
    && chown -R kol "$DAGSTER_HOME"
COPY workspace.yaml ./
COPY data/reference data/reference
COPY kol_pipeline kol_pipeline

USER 10001
EXPOSE 3030
CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "3030", "--module-name", "kol_pipeline.definitions_k8s"]
