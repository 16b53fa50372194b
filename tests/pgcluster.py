"""A throwaway PostgreSQL cluster for the tests and the benchmarks: Debian's own binaries
(``/usr/lib/postgresql/<version>/bin``, the ``postgresql`` package that scripts/system-deps installs),
a data directory of its own, TCP on 127.0.0.1 at a free port, trust authentication, no Unix socket.

The suite starts one cluster per session (``postgres`` fixture in tests/conftest.py) and hands each
test a database of its own (:meth:`PgCluster.create_database`), so tests never see each other's rows.

PostgreSQL refuses to run as root: when the tests run as root (CI does), initdb and the server run as
the ``postgres`` system user the Debian package creates (``nobody`` without it), in a directory made for
it under the system's temporary directory (pytest's own base directory is private to root, mode 0700).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# where Debian (and Ubuntu) put the server binaries; a version directory per major release
DEBIAN_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "servicebot"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The directory of initdb/pg_ctl/postgres: ``$SERVICEBOT_PG_BINDIR``, else the newest Debian
    version directory, else whatever ``pg_ctl`` is on PATH. Raises PostgresMissing saying where it looked."""
    explicit = os.environ.get("SERVICEBOT_PG_BINDIR")
    if explicit:
        if (Path(explicit) / "initdb").exists():
            return Path(explicit)
        raise PostgresMissing(f"SERVICEBOT_PG_BINDIR={explicit} has no initdb")
    versions = sorted(
        (p for p in DEBIAN_ROOT.glob("*/bin") if (p / "initdb").exists() and re.fullmatch(r"\d+", p.parent.name)),
        key=lambda p: int(p.parent.name),
    )
    if versions:
        return versions[-1]
    on_path = shutil.which("pg_ctl")
    if on_path and (Path(on_path).parent / "initdb").exists():
        return Path(on_path).parent
    raise PostgresMissing(
        f"no PostgreSQL server binaries (looked in {DEBIAN_ROOT}/<version>/bin, $SERVICEBOT_PG_BINDIR and PATH):"
        " install Debian's postgresql package (scripts/system-deps does)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresMissing("running as root and there is no 'postgres' (or 'nobody') user to run PostgreSQL as")


class PgCluster:
    """One PostgreSQL server in a directory of its own. ``durable=False`` (the tests) turns fsync off:
    the tests kill processes, never the machine; the benchmarks keep PostgreSQL's durable defaults."""

    def __init__(self, root: Path | None = None, *, durable: bool = False) -> None:
        self.bindir = find_bindir()
        self.user = _server_user()
        self._own_root = root is None or self.user is not None
        if self._own_root:
            # a directory the server's user can reach: made here, handed to that user, removed by stop()
            base = tempfile.mkdtemp(prefix="servicebot-pg-")
            self.root = Path(base)
        else:
            assert root is not None
            self.root = root
            self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.durable = durable
        self.port = 0
        self.running = False

    # -- processes --------------------------------------------------------------------------------

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / tool), *args], user=self.user, cwd=self.root,
            capture_output=True, text=True, timeout=120, check=False,
        )

    def _check(self, done: subprocess.CompletedProcess[str], what: str) -> None:
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}\n{log}")

    def start(self) -> PgCluster:
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                         "--encoding=UTF8", "--no-locale", "--no-sync")
        self._check(done, "initdb")
        settings = [
            "listen_addresses=127.0.0.1", "unix_socket_directories=", "max_connections=200",
            "shared_buffers=32MB", "max_wal_size=512MB", "log_min_messages=warning",
        ]
        if not self.durable:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        for attempt in range(5):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            options = " ".join(f"-c {s}" for s in settings) + f" -p {self.port}"
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                             "-w", "-t", "60", "start")
            if done.returncode == 0:
                self.running = True
                return self
            if attempt == 4 or "could not bind" not in self.log.read_text(errors="replace"):
                self._check(done, "pg_ctl start")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.running = False
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- databases --------------------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its DSN."""
        import psycopg

        name = name or "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.dsn(name)

    def drop_database(self, dsn: str) -> None:
        import psycopg

        name = dsn.rsplit("/", 1)[1]
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_cluster(root: Path | None = None, *, durable: bool = False) -> Iterator[PgCluster]:
    cluster = PgCluster(root, durable=durable)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
