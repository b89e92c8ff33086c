"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temp folder, a loopback port.

`PostgresCluster.start()` runs `initdb` and `pg_ctl start` on a free 127.0.0.1 port (no Unix
socket, trust authentication on loopback only, fsync off: the data is thrown away) and
`stop()` removes it. As root, PostgreSQL refuses to run, so both commands run as the
`postgres` user (`runuser -u postgres --`) on a folder that user owns.

Run it by hand to get a server for a shell session: `python -m tests.postgres_cluster`
prints the URL and stops the server on Ctrl-C.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Where Debian's `postgresql` package puts the server binaries (one folder per major version).
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
BIN_DIR_VARIABLE = "PRODUCTOPS_TEST_PG_BIN"
START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """The server binaries or the account to run them are missing."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: $PRODUCTOPS_TEST_PG_BIN, Debian's newest, or PATH."""
    configured = os.environ.get(BIN_DIR_VARIABLE)
    if configured:  # a folder named on purpose is the only one tried
        candidates = [Path(configured)]
    else:
        debian = sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")), key=lambda p: _major(p.parent.name))
        candidates = list(reversed(debian))
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    where = f"{BIN_DIR_VARIABLE}={configured}" if configured else f"{DEBIAN_BIN_GLOB} or on PATH"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found in {where}: "
        "install Debian's `postgresql` package (`apt-get install -y postgresql`, as .ci/run does) "
        f"or set {BIN_DIR_VARIABLE}."
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """One PostgreSQL server of its own, for one test session (or one xdist worker)."""

    bin_dir: Path = field(default_factory=find_bin_dir)
    root: Path | None = None
    port: int | None = None
    user: str = "postgres"
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        """libpq URL of the `postgres` database (the superuser, no password, loopback only)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "the cluster is not started"
        return self.root / "data"

    def _as_server_user(self) -> list[str]:
        """Prefix that runs a server command as a non-root account (PostgreSQL refuses root)."""
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable(
                "running as root, but there is no `postgres` account to run the server as "
                "(Debian's `postgresql` package creates it)"
            ) from exc
        return ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self._as_server_user(), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def start(self) -> PostgresCluster:
        began = time.monotonic()
        # A folder of its own directly under the temp dir: pytest's tmp folders are private
        # to root (0700), which the postgres account could not enter.
        self.root = Path(tempfile.mkdtemp(prefix="productops-pg-"))
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            self.user,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        # The port is free when picked but may be taken before the server binds it: retry.
        for attempt in range(START_ATTEMPTS):
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.root / "server.log"),
                    "--options",
                    options,
                    "--wait",
                    "--timeout",
                    "60",
                    "start",
                )
                break
            except RuntimeError as exc:
                if attempt == START_ATTEMPTS - 1:
                    log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{exc}\nserver log:\n{log}") from exc
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            pg_ctl = str(self.bin_dir / "pg_ctl")
            self._run(pg_ctl, "--pgdata", str(self.data_dir), "--mode", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg2

        con = psycopg2.connect(self.url)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'create database "{name}"')
        finally:
            con.close()
        return self.url_for(name)

    def create_database_from(self, name: str, template: str) -> str:
        """A copy of database `template` (no one may be connected to it); returns its URL."""
        import psycopg2

        con = psycopg2.connect(self.url)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'create database "{name}" template "{template}"')
        finally:
            con.close()
        return self.url_for(name)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    with PostgresCluster() as cluster:
        print(f"PostgreSQL ready in {cluster.startup_seconds:.1f} s: {cluster.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
