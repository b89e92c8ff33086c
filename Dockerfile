# The code location's image: the Product Ops Warehouse's Dagster definitions, dbt
# project and pinned stack, served to the webserver and daemon over gRPC.
#
#   docker build -t registry.example.com/productops/code-location:$(git rev-parse --short HEAD) .
#
# Every RUN below is a command the Makefile runs for `make run` and `make test`
# (tests/test_deploy.py checks that), so the image installs exactly what CI tested,
# from requirements.lock. The Helm chart (deploy/helm/values.yaml) runs it as the
# user deployment and as the image of every run's Kubernetes job.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    DO_NOT_TRACK=1 \
    HOME=/opt/productops \
    PATH=/opt/productops/.venv/bin:$PATH
WORKDIR /opt/productops

# The stack first, from the lock file alone: this layer is reused until the lock changes.
RUN python3 -m venv .venv
RUN .venv/bin/pip install --quiet --disable-pip-version-check uv==0.13.8
COPY requirements.lock pyproject.toml ./
RUN .venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements.lock

# Then the project itself (see .dockerignore for what stays out).
COPY README.md dagster.yaml ./
COPY ingestion ingestion
COPY orchestration orchestration
# No root at run time. dbt writes target/ and logs/ in the project folder (the
# manifest is parsed on first load), so that folder belongs to the run user.
COPY --chown=10001:0 dbt_project dbt_project
RUN .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
USER 10001

# The chart replaces this command with its own `dagster code-server start` / `dagster api grpc`
# arguments; this default serves the same module for `docker run -p 4000:4000`.
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "orchestration.definitions"]
