"""A real PostgreSQL server for tests, from Debian's `postgresql` package, in a temporary directory.

    @pytest.fixture(scope="module")
    def postgres():
        with running_postgres() as server:
            yield server

    url = server.create_database("history")   # postgresql://runbook@127.0.0.1:PORT/history

The server is initdb'd in a fresh temporary directory (trust authentication, superuser `runbook`,
fsync off), listens on 127.0.0.1 on a free ephemeral port with its unix socket in that directory,
and is stopped (`pg_ctl stop -m fast`) and its directory removed when the block ends, even when
the test failed. Run as root, it runs as the `postgres` system user (initdb refuses root).
Without the binaries, the test is skipped, loudly, naming the package to install; binaries that
are there but cannot start a server fail the test with the server's log.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

BINARIES = ("initdb", "pg_ctl", "postgres", "createdb")
SUPERUSER = "runbook"
SYSTEM_USER = "postgres"  # who runs the server when the tests run as root
INSTALL = "apt-get install postgresql"


@dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    root: Path  # the temporary directory: data/, the socket, server.log
    port: int
    run_as: tuple[str, ...]  # the command prefix that runs a binary as the server's user

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database on the server; its URL."""
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name)
        return self.url(name)

    def run(self, binary: str, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / binary), *args]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=60, env=_env())
        if done.returncode != 0:
            raise RuntimeError(f"{binary} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else "(no server log)"


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server, stopped and removed afterwards; skips the test when PostgreSQL is not installed."""
    bin_dir = find_binaries()
    run_as, owner = _server_user()
    root = Path(tempfile.mkdtemp(prefix="runbook-postgres-"))
    server = PostgresServer(bin_dir, root, _free_port(), run_as)
    try:
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        _start(server)
        yield server
    finally:
        _stop(server)
        shutil.rmtree(root, ignore_errors=True)


def find_binaries() -> Path:
    """The folder holding initdb, pg_ctl, postgres and createdb: next to pg_ctl on PATH, else Debian's."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(
        versions, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0, reverse=True
    )
    for folder in candidates:
        if all((folder / name).is_file() for name in BINARIES):
            return folder
    pytest.skip(
        f"PostgreSQL is NOT TESTED: it is not installed (no {', '.join(BINARIES)} on PATH or under "
        f"/usr/lib/postgresql/*/bin): {INSTALL}"
    )


def _server_user() -> tuple[tuple[str, ...], pwd.struct_passwd | None]:
    """(command prefix, the user to own the directory): as is, or as `postgres` when we are root."""
    if os.geteuid() != 0:
        return (), None
    runuser = shutil.which("runuser")
    try:
        owner = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        owner = None
    if runuser is None or owner is None:
        pytest.skip(f"PostgreSQL is NOT TESTED: running as root, and initdb refuses root; there is no runuser or no "
                    f"'{SYSTEM_USER}' user to run it as ({INSTALL} creates the user)")  # fmt: skip
    return (runuser, "-u", SYSTEM_USER, "--"), owner


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(server: PostgresServer) -> None:
    data = server.root / "data"
    options = f"-h 127.0.0.1 -p {server.port} -k {server.root} -F -c fsync=off -c full_page_writes=off"
    try:
        server.run("initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync")
        server.run("pg_ctl", "-D", str(data), "-l", str(server.root / "server.log"), "-w", "-t", "30",
                   "-o", options, "start")  # fmt: skip
    except RuntimeError as error:
        raise RuntimeError(f"{error}\nserver log:\n{server.log()}") from None


def _stop(server: PostgresServer) -> None:
    data = server.root / "data"
    if (data / "postmaster.pid").exists():
        _quietly([*server.run_as, str(server.bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])


def _quietly(command: Sequence[str]) -> None:
    subprocess.run(command, capture_output=True, timeout=60, env=_env(), cwd="/")


def _env() -> dict[str, str]:
    """A plain environment: C locale (initdb needs one that exists), no PG* variable from the caller."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    return {**kept, "LC_ALL": "C", "LANG": "C"}
