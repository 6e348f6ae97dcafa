"""``make bench``: promo served by gunicorn (DEBUG off) on 127.0.0.1, measured at two scales.

Method (docs/performance.md): the seeded database holds the county and the province
benchmark bureaus built by ``seed_demo --scale``; each scale is measured as its own chief
(a chief sees the whole database, so every URL names the scale's root unit with
``?unit=``). For every URL: a warm-up, then ``REQUESTS_1`` sequential requests (1 client)
and ``REQUESTS_4`` requests shared by 4 threads (4 clients), each with its own signed-in
session, over loopback only; then the API leads list by 2 clients while 2 others load the
HTML lists (mixed load). p50/p95 are latencies of the successful responses;
requests/s is successful responses over the wall time of that run. SQL queries per request
are counted in-process afterwards with Django's test client and CaptureQueriesContext on
the same database (one request per URL, after a warm-up). Loops are bounded: a URL whose
one request takes longer than ``SLOW_SECONDS`` is measured with fewer requests.

Usage: ``python -m promo.bench [--port 8765] [--json docs/bench.json]``; the environment
needs DATABASE_URL (the seeded database) and REDIS_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WARMUP = 3
REQUESTS_1 = 30
REQUESTS_4 = 60
SLOW_SECONDS = 1.0
SLOW_REQUESTS = 6
DEEP_PAGES = 40
MIXED_API_REQUESTS = 40
MIXED_HTML_MAX = 200
SCALES = {
    "county": "县投资促进局(基准)",
    "province": "省投资促进局(基准)",
}
DUMMY_SECRET = "bench-only-not-a-secret-" + "x" * 40


def _server_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=DUMMY_SECRET,
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
    )
    env.pop("PROMO_TESTING", None)
    return env


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
    import django

    django.setup()


def _targets() -> dict[str, dict[str, Any]]:
    """Per scale: the root unit, one first-level unit and the chief's username."""
    from officers.choices import Role
    from officers.models import Officer, Unit

    found = {}
    for scale, name in SCALES.items():
        root = Unit.objects.filter(name=name, parent__isnull=True).first()
        if root is None:
            raise SystemExit(
                f"{scale}: no unit {name!r}; run `manage.py seed_demo --scale {scale}`"
            )
        unit = Unit.objects.filter(parent=root).order_by("path").first()
        chief = Officer.objects.filter(unit=root, role=Role.CHIEF).order_by("pk").first()
        if unit is None or chief is None:
            raise SystemExit(f"{scale}: the benchmark bureau has no unit or no chief")
        found[scale] = {"root": root.pk, "unit": unit.pk, "chief": chief.username}
    return found


def _urls(t: dict[str, Any]) -> dict[str, str]:
    root, unit = t["root"], t["unit"]
    return {
        "dashboard: bureau YTD": f"/dashboard/?unit={root}",
        "dashboard: one unit": f"/dashboard/?unit={unit}",
        "HTML leads list (filter)": f"/leads/?unit={root}&status=negotiating",
        "HTML projects list (filter)": f"/projects/?unit={root}&stage=groundbreaking",
        "API leads ?status=negotiating": f"/api/v1/leads/?unit={root}&status=negotiating",
        "API visits ?kind=inspection": f"/api/v1/visits/?unit={root}&kind=inspection",
    }


def _sign_in(base: str, username: str) -> requests.Session:
    from promo.demo import DEMO_PASSWORD

    session = requests.Session()
    page = session.get(f"{base}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    response = session.post(
        f"{base}/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        headers={"Referer": f"{base}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit(f"sign-in as {username} failed: HTTP {response.status_code}")
    return session


def _deep_cursor_url(session: requests.Session, base: str, first: str) -> str:
    """Walk ``DEEP_PAGES`` pages of a cursor list and return the last page's URL."""
    url = base + first
    for _ in range(DEEP_PAGES):
        body = session.get(url, timeout=60).json()
        following = body.get("next")
        if not following:
            break
        url = following
    return url.replace(base, "")


def _timed(session: requests.Session, url: str) -> tuple[float, bool]:
    start = time.perf_counter()
    response = session.get(url, timeout=120)
    return time.perf_counter() - start, response.status_code == 200


def _run(sessions: list[requests.Session], url: str, total: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, total // len(sessions))

    def client(session: requests.Session) -> None:
        nonlocal errors
        for _ in range(per_client):
            elapsed, ok = _timed(session, url)
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    if not latencies:
        return {"p50_ms": None, "p95_ms": None, "rps": 0.0, "n": 0, "errors": errors}
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "rps": round(len(ordered) / wall, 1),
        "n": len(ordered),
        "errors": errors,
    }


def _measure(base: str, username: str, urls: dict[str, str]) -> dict[str, Any]:
    sessions = [_sign_in(base, username) for _ in range(4)]
    results: dict[str, Any] = {}
    for name, path in urls.items():
        url = base + path
        cold, ok = _timed(sessions[0], url)
        for _ in range(WARMUP - 1):
            _timed(sessions[0], url)
        slow = cold > SLOW_SECONDS
        one = _run(sessions[:1], url, SLOW_REQUESTS if slow else REQUESTS_1)
        four = _run(sessions, url, SLOW_REQUESTS * 2 if slow else REQUESTS_4)
        results[name] = {
            "url": path,
            "first_ms": round(cold * 1000, 1),
            "first_ok": ok,
            "c1": one,
            "c4": four,
        }
        print(f"  {name:34} first {cold * 1000:8.1f} ms  p50 {one['p50_ms']} ms", flush=True)
    return results


def _mixed(base: str, username: str, api: str, html: list[str]) -> dict[str, Any]:
    """API latency while 2 other clients load HTML pages (the issue's mixed-load target)."""
    loaders = [_sign_in(base, username) for _ in range(2)]
    readers = [_sign_in(base, username) for _ in range(2)]
    stop = threading.Event()

    def load(session: requests.Session) -> None:
        # Bounded even if the API run hangs: at most MIXED_HTML_MAX pages per loader.
        for index in range(MIXED_HTML_MAX):
            if stop.is_set():
                return
            _timed(session, base + html[index % len(html)])

    threads = [threading.Thread(target=load, args=(s,)) for s in loaders]
    for thread in threads:
        thread.start()
    try:
        return _run(readers, base + api, MIXED_API_REQUESTS)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _count_queries(username: str, urls: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from officers.models import Officer

    client = Client(HTTP_HOST=HOST)
    client.force_login(Officer.objects.get(username=username))
    counts = {}
    # Live figures: the count of a request that computes the cockpit, not of a cache hit.
    with override_settings(PROMO_DASHBOARD_CACHE_SECONDS=0):
        for name, url in urls.items():
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            counts[name] = len(captured)
    return counts


def _machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _print_table(report: dict[str, Any]) -> None:
    scales = list(SCALES)
    head = f"{'':34}" + "".join(f" | {s:^50}" for s in scales)
    sub = f"{'':34}" + " | first   p50/p95 c1      rps c1  p50/p95 c4      rps c4 q" * len(scales)
    print(head)
    print(sub)
    for name in report[scales[0]]["results"]:
        line = f"{name:34}"
        for scale in scales:
            r = report[scale]["results"][name]
            q = report[scale]["queries"].get(name, "")
            c1, c4 = r["c1"], r["c4"]
            line += (
                f" | {r['first_ms']:7.0f} {c1['p50_ms']}/{c1['p95_ms']} {c1['rps']:>6}"
                f"  {c4['p50_ms']}/{c4['p95_ms']} {c4['rps']:>6} {q}"
            )
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", default=str(BASE_DIR / "docs" / "bench.json"))
    args = parser.parse_args(argv)

    env = _server_env(args.port)
    python = sys.executable
    # The production static storage needs its manifest (whitenoise); build it first.
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    _django_setup()
    targets = _targets()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "promo.wsgi:application",
            "--bind",
            f"{HOST}:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            "1",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    base = f"http://{HOST}:{args.port}"
    report: dict[str, Any] = {"machine": _machine(), "method": __doc__}
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        for scale, t in targets.items():
            print(f"{scale}: root unit {t['root']}, chief {t['chief']}", flush=True)
            urls = _urls(t)
            walker = _sign_in(base, t["chief"])
            urls["API visits, page 1 (cursor)"] = f"/api/v1/visits/?unit={t['root']}"
            urls[f"API visits, page {DEEP_PAGES + 1} (cursor)"] = _deep_cursor_url(
                walker, base, f"/api/v1/visits/?unit={t['root']}"
            )
            results = _measure(base, t["chief"], urls)
            mixed = _mixed(
                base,
                t["chief"],
                urls["API leads ?status=negotiating"],
                [urls["HTML leads list (filter)"], urls["HTML projects list (filter)"]],
            )
            print(f"  API leads while 2 clients load HTML: {mixed}", flush=True)
            report[scale] = {
                "targets": t,
                "results": results,
                "api_under_html_load": mixed,
                "queries": _count_queries(t["chief"], urls),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    _print_table(report)
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
