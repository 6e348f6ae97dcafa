"""``make bench``: promo served by gunicorn (DEBUG off) on 127.0.0.1, measured at two scales.

Method (docs/performance.md): each scale has its own database, as each bureau has its own
deployment: ``promo_bench_county`` and ``promo_bench_province`` on the server of
DATABASE_URL, created, migrated and seeded by ``seed_demo --scale`` when missing (the
province takes about ten minutes), then reused. For each scale, gunicorn serves that
database and the scale's chief is measured (a chief sees the whole bureau; every URL names
the bureau's root unit with ``?unit=``), and so is a unit head in the first first-level
unit's sub-tree (their lead and visit lists, whose scope is a condition of its own). For
every URL: a first request (for the cockpit, with its summary table emptied, so the first
request computes), a warm-up, then
``REQUESTS_1`` sequential requests (1 client) and ``REQUESTS_4`` requests shared by 4
threads (4 clients), each with its own signed-in session, over loopback only; then the API
leads list by 2 clients while 2 others load the HTML lists (mixed load). p50/p95 are
latencies of the successful responses; requests/s is successful responses over the wall
time of that run. SQL queries per request are counted in a separate process with Django's
test client and CaptureQueriesContext on the same database (one request per URL, after a
warm-up; the cockpit as served). Loops are bounded: a URL whose one request takes longer
than ``SLOW_SECONDS`` is measured with fewer requests.

Usage: ``python -m promo.devtools.bench [--port 8765] [--json docs/bench.json] [--seed-only]``; the
environment needs DATABASE_URL (any database on the server that will hold the bench
databases) and REDIS_URL.
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
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

# The repository: promo/devtools/ is two folders below it.
BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
WARMUP = 3
REQUESTS_1 = 40
REQUESTS_4 = 120
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
        # The bench measures the server, not the per-caller limit (600/min by default),
        # which its one chief would pass in seconds.
        PROMO_API_RATE="1000000/min",
    )
    env.pop("PROMO_TESTING", None)
    return env


def _scale_url(base_url: str, scale: str) -> str:
    """The bench database of ``scale`` on the server of ``base_url``."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/promo_bench_{scale}"))


def _connect(url: str):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname=parts.path.lstrip("/") or "postgres",
    )


def _manage(url: str, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, DEBUG="1")
    env.pop("PROMO_TESTING", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _ensure_scale(url: str, scale: str) -> None:
    """Create, migrate and seed the scale's database unless it already holds the bureau."""
    name = urlsplit(url).path.lstrip("/")
    admin = _connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            print(f"{scale}: creating database {name}", flush=True)
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    _manage(url, "migrate", "--noinput", "-v", "0")
    if _targets_of(url, scale) is None:
        print(f"{scale}: seeding (seed_demo --scale {scale})", flush=True)
        _manage(url, "seed_demo", "--scale", scale)
        conn = _connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        conn.close()


def _targets_of(url: str, scale: str) -> dict[str, Any] | None:
    """The scale's root unit, its first first-level unit and its chief, or None if unseeded."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT id, path FROM officers_unit WHERE name = %s AND parent_id IS NULL",
                [SCALES[scale]],
            )
            root = cur.fetchone()
            if root is None:
                return None
            cur.execute(
                "SELECT id FROM officers_unit WHERE parent_id = %s ORDER BY path LIMIT 1",
                [root[0]],
            )
            unit = cur.fetchone()
            cur.execute(
                "SELECT username FROM officers_officer WHERE unit_id = %s AND role = 'chief' "
                "ORDER BY id LIMIT 1",
                [root[0]],
            )
            chief = cur.fetchone()
            # A unit head of that unit's sub-tree, the shallowest: the scoped lists' reader.
            cur.execute(
                "SELECT o.username FROM officers_officer o "
                "JOIN officers_unit u ON u.id = o.unit_id "
                "WHERE o.role = 'unit_head' AND u.path LIKE "
                "(SELECT path FROM officers_unit WHERE id = %s) || '%%' "
                "ORDER BY length(u.path), o.id LIMIT 1",
                [unit[0]] if unit else [0],
            )
            head = cur.fetchone()
            cur.execute("DELETE FROM dashboard_cockpitsnapshot")
        conn.commit()
    finally:
        conn.close()
    if unit is None or chief is None or head is None:
        raise SystemExit(f"{scale}: the benchmark bureau has no unit, chief or unit head")
    return {"root": root[0], "unit": unit[0], "chief": chief[0], "head": head[0]}


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


# Read by a unit head: what their scope (their sub-tree, the leads they assist on, the visits
# they attended) costs, which a chief's whole-bureau reads never pay.
HEAD_URLS = {
    "HTML leads list (unit head)": "/leads/",
    "HTML visits list (unit head)": "/leads/visits/",
    "API visits (unit head)": "/api/v1/visits/",
}


def _sign_in(base: str, username: str) -> requests.Session:
    from promo.devtools.demo import DEMO_PASSWORD

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
        warm = cold
        for _ in range(WARMUP - 1):
            warm, _ok = _timed(sessions[0], url)
        # Judged on a warm request: the cockpit's first one computes, the next are served.
        slow = warm > SLOW_SECONDS
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


def _count_queries(url: str, username: str, urls: dict[str, str]) -> dict[str, int]:
    """SQL queries per request, counted by a child process on the scale's database."""
    env = dict(_server_env(0), DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, "-m", "promo.devtools.bench", "--count-queries", username],
        cwd=BASE_DIR,
        env=env,
        input=json.dumps(urls),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _count_queries_here(username: str, urls: dict[str, str]) -> dict[str, int]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from officers.models import Officer

    client = Client(HTTP_HOST=HOST)
    client.force_login(Officer.objects.get(username=username))
    counts = {}
    for name, path in urls.items():
        client.get(path)  # warm-up; the cockpit is then served from its summary table
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
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


def _serve(url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(_server_env(port), DATABASE_URL=url)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "promo.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
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


def _bench_scale(url: str, t: dict[str, Any], port: int, workers: int) -> dict[str, Any]:
    server = _serve(url, port, workers)
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        urls = _urls(t)
        walker = _sign_in(base, t["chief"])
        urls["API visits, page 1 (cursor)"] = f"/api/v1/visits/?unit={t['root']}"
        urls[f"API visits, page {DEEP_PAGES + 1} (cursor)"] = _deep_cursor_url(
            walker, base, f"/api/v1/visits/?unit={t['root']}"
        )
        results = _measure(base, t["chief"], urls)
        results.update(_measure(base, t["head"], HEAD_URLS))
        mixed = _mixed(
            base,
            t["chief"],
            urls["API leads ?status=negotiating"],
            [urls["HTML leads list (filter)"], urls["HTML projects list (filter)"]],
        )
        print(f"  API leads while 2 clients load HTML: {mixed}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "targets": t,
        "results": results,
        "api_under_html_load": mixed,
        "queries": {
            **_count_queries(url, t["chief"], urls),
            **_count_queries(url, t["head"], HEAD_URLS),
        },
    }


def _markdown(report: dict[str, Any]) -> str:
    """The table of docs/performance.md, from a report (``--markdown FILE`` reprints one)."""
    lines = [
        "| Request | Scale | first (ms) | p50 / p95 1 client (ms) | req/s 1 client "
        "| p50 / p95 4 clients (ms) | req/s 4 clients | SQL queries |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in report[next(iter(SCALES))]["results"]:
        for index, scale in enumerate(SCALES):
            r = report[scale]["results"][name]
            c1, c4 = r["c1"], r["c4"]
            lines.append(
                f"| {name if index == 0 else ''} | {scale} | {r['first_ms']:.0f} "
                f"| {c1['p50_ms']} / {c1['p95_ms']} | {c1['rps']} "
                f"| {c4['p50_ms']} / {c4['p95_ms']} | {c4['rps']} "
                f"| {report[scale]['queries'].get(name, '')} |"
            )
    for scale in SCALES:
        mixed = report[scale]["api_under_html_load"]
        lines.append(
            f"\nAPI leads by 2 clients while 2 others load the HTML lists ({scale}): "
            f"p50 / p95 {mixed['p50_ms']} / {mixed['p95_ms']} ms, {mixed['errors']} errors."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", default=str(BASE_DIR / "docs" / "bench.json"))
    parser.add_argument("--seed-only", action="store_true", help="create the databases, stop")
    parser.add_argument("--count-queries", metavar="USERNAME", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", metavar="JSON", help="print the table of a past run")
    args = parser.parse_args(argv)

    if args.markdown:
        print(_markdown(json.loads(Path(args.markdown).read_text())))
        return 0

    if args.count_queries:
        print(json.dumps(_count_queries_here(args.count_queries, json.loads(sys.stdin.read()))))
        return 0

    base_url = os.environ["DATABASE_URL"]
    databases = {scale: _scale_url(base_url, scale) for scale in SCALES}
    for scale, url in databases.items():
        _ensure_scale(url, scale)
    if args.seed_only:
        return 0

    # The production static storage needs its manifest (whitenoise); build it first.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=_server_env(args.port),
        check=True,
    )
    report: dict[str, Any] = {"machine": _machine(), "method": __doc__}
    for scale, url in databases.items():
        t = _targets_of(url, scale)
        print(f"{scale}: {urlsplit(url).path[1:]}, root unit {t['root']}, chief {t['chief']}")
        report[scale] = _bench_scale(url, t, args.port, args.workers)
    _print_table(report)
    print(_markdown(report))
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
