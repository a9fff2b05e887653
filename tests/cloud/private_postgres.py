"""A throwaway Postgres cluster for tests that restart the server.

The cluster lives in a temporary directory, listens on a free loopback port
and belongs to the ``postgres`` user (initdb refuses to run as root). The
shared cluster on port 5432 is never touched.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from cloud_harness import free_port, missing
from sqlalchemy import create_engine, text

POSTGRES_ROOT = Path("/usr/lib/postgresql")
START_TIMEOUT_SECONDS = 60


def _bin_dir() -> Path | None:
    versions = sorted(
        (path for path in POSTGRES_ROOT.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


class PrivatePostgres:
    def __init__(self) -> None:
        self.bin_dir = _bin_dir()
        if self.bin_dir is None:
            missing(f"no initdb under {POSTGRES_ROOT}: install the postgresql package")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="dale-pg-", dir="/tmp"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            account = pwd.getpwnam("postgres")
            os.chown(self.directory, account.pw_uid, account.pw_gid)

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with {completed.returncode}: "
                f"{completed.stderr or completed.stdout}\n{self.log_text()}"
            )

    def _server_options(self) -> str:
        return (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=100"
        )

    def start(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """Restart with ``-m fast``: open sessions are terminated."""
        self._pg_ctl("restart", "-m", "fast")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        self._run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-o",
            self._server_options(),
            *extra,
        )

    def create_database(self, name: str) -> str:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # Already stopped, or never started.
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def __enter__(self) -> "PrivatePostgres":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
