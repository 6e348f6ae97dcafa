"""A throw-away PostgreSQL primary with a streaming replica, for testing the replica router.

    with streaming_pair() as (primary_url, replica_url):
        ...

initdb makes the primary (replication allowed from 127.0.0.1), pg_basebackup copies it with
``-R`` (a standby that follows the primary over streaming replication), both listen on free
ports of 127.0.0.1 and are stopped and removed afterwards. The binaries are Debian's
(``/usr/lib/postgresql/*/bin``) or the embedded server's; as root the servers run as the
``postgres`` (or ``pgserver``) system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from glob import glob
from pathlib import Path

DATABASE = "promo"


class ReplicaUnavailable(RuntimeError):
    """This machine cannot start a primary/replica pair (no binaries, no unprivileged user)."""


def postgres_bin() -> Path:
    folders = [Path(p).parent for p in sorted(glob("/usr/lib/postgresql/*/bin/initdb"))[::-1]]
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.origin:
        folders.append(Path(spec.origin).parent / "pginstall" / "bin")
    for folder in folders:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return folder
    raise ReplicaUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup)")


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "pgserver"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
    raise ReplicaUnavailable("running as root and no postgres/pgserver user to run the servers")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _psql_url(port: int, name: str = DATABASE) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{name}"


@contextlib.contextmanager
def streaming_pair() -> Iterator[tuple[str, str]]:
    binaries = postgres_bin()
    as_user = _run_as()
    # Under /tmp, not a test's private folder: the servers' user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="promo-pg-pair-"))
    root.chmod(0o755)
    if as_user:
        shutil.chown(root, user=as_user[2])
    primary, replica = root / "primary", root / "replica"
    ports = {primary: _free_port(), replica: _free_port()}

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, cwd=root)
        if done.returncode != 0:
            raise ReplicaUnavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()}")

    def start(data: Path) -> None:
        options = f"-p {ports[data]} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(root / f"{data.name}.log"), "-w", "-t", "60", "start")  # fmt: skip

    started: list[Path] = []
    try:
        run(str(binaries / "initdb"), "-D", str(primary), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        start(primary)
        started.append(primary)
        run(str(binaries / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[primary]),
            "-U", "postgres", "-D", str(replica), "-R", "-X", "stream")  # fmt: skip
        start(replica)
        started.append(replica)
        import psycopg2

        conn = psycopg2.connect(_psql_url(ports[primary], "postgres"))
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        conn.close()
        wait_for_replay(_psql_url(ports[primary]), _psql_url(ports[replica], "postgres"))
        yield _psql_url(ports[primary]), _psql_url(ports[replica])
    finally:
        for data in reversed(started):
            with contextlib.suppress(ReplicaUnavailable):
                run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def wait_for_replay(primary_url: str, replica_url: str, timeout: float = 30) -> float:
    """Wait until the replica has replayed everything the primary has written; seconds waited."""
    import psycopg2

    start = time.monotonic()
    with contextlib.closing(psycopg2.connect(primary_url)) as p, p.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    with contextlib.closing(psycopg2.connect(replica_url)) as r, r.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise TimeoutError("the replica did not catch up")
            time.sleep(0.05)
