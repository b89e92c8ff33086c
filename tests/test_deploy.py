"""What can be checked here of the Kubernetes deployment: no Docker engine, cluster or registry runs
in CI, so the Dockerfile and the Helm values are read and compared with what the tests do run."""

import re
import shlex
import tomllib

import yaml

from tests.conftest import REPO

VALUES = REPO / "deploy" / "helm" / "values.yaml"


def _makefile_commands() -> set[str]:
    """Every recipe line of the Makefile with its variables expanded, whitespace normalised."""
    text = (REPO / "Makefile").read_text()
    variables = {"CURDIR": str(REPO)}
    for name, value in re.findall(r"^(?:export\s+)?(\w+)\s*[:?]?=\s*(.*)$", text, flags=re.M):
        variables.setdefault(name, value.strip())

    def expand(line: str) -> str:
        for _ in range(5):  # variables refer to variables ($(BIN) -> $(VENV)/bin)
            line = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), line)
        return line

    recipes = re.findall(r"^\t(.+)$", text, flags=re.M)
    return {" ".join(shlex.split(expand(line))) for line in recipes}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_every_run_in_the_dockerfile_is_a_command_the_makefile_runs():
    makefile = _makefile_commands()
    runs = [" ".join(shlex.split(arg)) for op, arg in _dockerfile_instructions() if op == "RUN"]
    assert runs, "the Dockerfile installs nothing"
    assert [cmd for cmd in runs if cmd not in makefile] == []
    # The stack comes from the lock file CI tests with, the project without re-resolving.
    assert ".venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements.lock" in runs
    assert runs[-1] == ".venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e ."


def test_the_image_copies_only_what_exists_and_serves_the_code_location():
    instructions = _dockerfile_instructions()
    copied = [
        src
        for op, arg in instructions
        if op == "COPY"
        for src in [w for w in shlex.split(arg) if not w.startswith("--")][:-1]
    ]
    assert "requirements.lock" in copied
    assert [src for src in copied if not (REPO / src).exists()] == []
    assert instructions[0][1].startswith("python:3.11"), "the image runs the Python the project pins"
    cmd = next(arg for op, arg in instructions if op == "CMD")
    module = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    assert "code-server" in cmd and f'"-m", "{module}"' in cmd
    assert any(op == "USER" and arg != "root" and arg != "0" for op, arg in instructions)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".git", "warehouse", ".env"} <= set(ignored)


def test_helm_values_name_the_image_the_code_location_and_the_k8s_run_launcher():
    values = yaml.safe_load(VALUES.read_text())
    deployments = values["dagster-user-deployments"]["deployments"]
    assert values["dagster-user-deployments"]["enabled"] is True
    assert [d["name"] for d in deployments] == ["productops"]
    (code,) = deployments
    assert code["image"]["repository"].endswith("/productops/code-location")
    module = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["dagster"]["module_name"]
    assert code["codeServerArgs"] == ["-m", module]
    assert code["includeConfigInLaunchedRuns"]["enabled"] is True

    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    k8s = launcher["config"]["k8sRunLauncher"]
    # Every run's job mounts the one warehouse volume the code location mounts.
    assert k8s["volumeMounts"] == code["volumeMounts"]
    assert k8s["volumes"] == code["volumes"]


def test_helm_values_keep_postgres_storage_and_secrets_out_of_the_file():
    values = yaml.safe_load(VALUES.read_text())
    assert values["postgresql"]["enabled"] is False, "Dagster's storage is the external PostgreSQL server"
    assert values["postgresql"]["postgresqlHost"]
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    code = values["dagster-user-deployments"]["deployments"][0]
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert code["envSecrets"] == k8s["envSecrets"] == [{"name": "productops-secrets"}]
    assert "env" not in code and "env" not in k8s, "settings come from the ConfigMap and the Secret"
    assert not re.search(r"(?i)(token|password|salt)\s*:\s*\S", VALUES.read_text())


def test_helm_values_serialise_the_duckdb_writer_like_the_local_instance():
    values = yaml.safe_load(VALUES.read_text())
    local = yaml.safe_load((REPO / "dagster.yaml").read_text())
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["type"] == "QueuedRunCoordinator"
    assert (
        queue["config"]["queuedRunCoordinator"]["maxConcurrentRuns"]
        == local["concurrency"]["runs"]["max_concurrent_runs"]
    )
    pools = values["concurrency"]["pools"]
    assert (pools["defaultLimit"], pools["granularity"]) == (
        local["concurrency"]["pools"]["default_limit"],
        local["concurrency"]["pools"]["granularity"],
    )


def test_the_run_launcher_and_postgres_storage_are_installed_on_the_pinned_release_train():
    import dagster
    from dagster_k8s import K8sRunLauncher
    from dagster_postgres import PostgresRunStorage

    lock = (REPO / "requirements.lock").read_text()
    train = "0.29." + dagster.__version__.split(".")[2]
    assert f"dagster-k8s=={train}" in lock and f"dagster-postgres=={train}" in lock
    assert K8sRunLauncher.__module__.startswith("dagster_k8s")
    assert PostgresRunStorage.__module__.startswith("dagster_postgres")


def test_the_images_command_serves_the_code_location(tmp_path):
    """The Dockerfile's CMD, run here on loopback: the code server loads the definitions and
    answers Dagster's gRPC health check (what the chart's probes call)."""
    import json
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.postgres_cluster import free_port

    cmd = json.loads(next(arg for op, arg in _dockerfile_instructions() if op == "CMD"))
    port = free_port()
    cmd[cmd.index("-h") + 1], cmd[cmd.index("-p") + 1] = "127.0.0.1", str(port)
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCTOPS_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(tmp_path), DO_NOT_TRACK="1", PATH=f"{bin_dir}:{env.get('PATH', '')}")
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    server = subprocess.Popen(
        [str(bin_dir / cmd[0]), *cmd[1:]],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            probe = subprocess.run(
                [str(bin_dir / "dagster"), "api", "grpc-health-check", "-p", str(port), "-h", "127.0.0.1"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if probe.returncode == 0 or server.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert server.poll() is None, f"the code server exited: {server.stderr.read()[-2000:]}"
        assert probe.returncode == 0, probe.stdout + probe.stderr
        # Healthy is not loaded: ask the server for what it loaded.
        from dagster._grpc.client import DagsterGrpcClient
        from dagster._serdes import deserialize_value

        loaded = deserialize_value(DagsterGrpcClient(port=port, host="127.0.0.1").list_repositories())
        assert type(loaded).__name__ == "ListRepositoriesResponse", loaded
        assert [r.repository_name for r in loaded.repository_symbols] == ["__repository__"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a busy machine: the code server's shutdown can lag
            server.kill()
            server.wait(timeout=30)
