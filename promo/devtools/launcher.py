"""Run promo locally: migrate, seed the demo data, then supervise web + worker + beat.

    python -m promo.devtools.embedded exec -- python -m promo.devtools.launcher     # what `make run` does

DEBUG defaults to 1 here (a development server). Ctrl-C or SIGTERM stops all three children; if one of them exits on its own, the others
are stopped and the launcher exits non-zero.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# The repository: promo/devtools/ is two folders below it.
ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STOP_TIMEOUT = 15  # seconds a child gets to shut down cleanly before SIGKILL


def say(message: str) -> None:
    print(f"launcher: {message}", file=sys.stderr, flush=True)


def run_step(*args: str) -> None:
    say(" ".join(args))
    result = subprocess.run([PYTHON, *args], cwd=ROOT)
    if result.returncode != 0:
        say(f"{args[0]} {args[1]} failed with exit status {result.returncode}")
        sys.exit(result.returncode)


def start(name: str, args: list[str]) -> subprocess.Popen:
    say(f"starting {name}: {' '.join(args)}")
    # Own process group: Ctrl-C reaches only the launcher, which then stops each child
    # exactly once (a second SIGINT would make celery skip its warm shutdown).
    return subprocess.Popen([PYTHON, *args], cwd=ROOT, process_group=0, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies without cleaning up (kill -9)."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    running = {name: proc for name, proc in children.items() if proc.poll() is None}
    for name, proc in running.items():
        say(f"stopping {name} (pid {proc.pid})")
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, proc in running.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_TIMEOUT}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    # A local run is a development server: without DEBUG the settings demand a production
    # SECRET_KEY and redirect to HTTPS. An explicit DEBUG=0 in the environment still wins.
    os.environ.setdefault("DEBUG", "1")
    (ROOT / "var").mkdir(exist_ok=True)

    run_step("manage.py", "migrate", "--noinput")
    run_step("manage.py", "seed_demo")

    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    children: dict[str, subprocess.Popen] = {}
    try:
        children["web"] = start(
            "web", ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        )
        children["worker"] = start(
            "worker", ["-m", "celery", "-A", "promo", "worker", "-l", "info", "--concurrency", "2"]
        )
        children["beat"] = start(
            "beat",
            ["-m", "celery", "-A", "promo", "beat", "-l", "info",
             "--schedule", str(ROOT / "var" / "celerybeat-schedule")],
        )  # fmt: skip

        announced = False
        while True:
            for name, proc in children.items():
                code = proc.poll()
                if code is not None:
                    say(f"{name} exited with status {code}; stopping the others")
                    # Killed by a signal (negative code): report it as a shell would, 128+N.
                    return 128 - code if code < 0 else code or 1
            if not announced and listening(port):
                print(
                    f"promo is serving at http://127.0.0.1:{port}/ (admin: /admin/)",
                    flush=True,
                )
                announced = True
            time.sleep(0.2)
    except Stop as signame:
        say(f"{signame}: stopping")
        return 0
    finally:
        # Ignore further Ctrl-C while shutting down so the children finish cleanly.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)


if __name__ == "__main__":
    sys.exit(main())
