"""``make bench``: promo served as in production, measured at two scales against a calibration row.

Method (docs/performance.md): each scale has its own database, as each bureau has its own
deployment: ``promo_bench_county`` and ``promo_bench_province`` on the server of
DATABASE_URL, created, migrated and seeded by ``seed_demo --scale`` when missing (the
province takes several minutes), then ``VACUUM ANALYZE``d and reused. For each scale gunicorn
serves that database with the production configuration (``promo/gunicorn_conf.py``: gthread
workers), and ``wrk`` — a compiled load generator, so the client costs little of the cores it
shares with the server — measures every URL over loopback: a first request (for the cockpit
with its summary table emptied, so the first request computes), warm-ups, then
``SECONDS`` seconds at 1 connection and at 4 connections (one signed-in session each URL).

The **calibration row** is ``/healthz``, a view that does no work, through the same stack
(gunicorn, middleware, loopback, wrk); it is measured first and again last. Every latency
is also printed as a multiple of the calibration p50 measured in the same run, and every
province figure as a multiple of the county figure, so runs on different machines compare.

Besides the pages: the home page of an officer, a unit head and the chief, the project
board, deep pages of the HTML lists, the lead export (CSV and XLSX, one request each, as
served, so a timeout shows as the 500 a user would get), 20 API clients posting visits at
once (``WRITERS``), the API while 2 connections load HTML lists (mixed load), and the
nightly jobs run in a child process on the scale's database (traffic-light evaluation twice:
the second run is the repeated daily run; the monthly bulletin; the ten-day report) with
their peak memory. SQL queries per request are counted in a child process with Django's test
client and CaptureQueriesContext on the same database. The load average is recorded at the
start and end of each scale. The targets of issue 19 are checked at the end, as ratios where
the issue gives them.

Usage: ``python -m promo.devtools.bench [--port 8765] [--json docs/bench.json] [--seed-only]
[--seconds 5] [--scales county,province]``; the environment needs DATABASE_URL (any database on
the server that will hold the bench databases) and REDIS_URL; ``wrk`` must be on PATH
(``make bench`` installs it from Debian).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

# The repository: promo/devtools/ is two folders below it.
BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
WARMUP = 3
SECONDS = 5
SLOW_SECONDS = 1.0
DEEP_PAGES = 40
DEEP_HTML_PAGE = 200
WRITERS = 20
WRITER_SECONDS = 10
EXPORT_TIMEOUT = 300
SCALES = {
    "county": "县投资促进局(基准)",
    "province": "省投资促进局(基准)",
}
DUMMY_SECRET = "bench-only-not-a-secret-" + "x" * 40
CALIBRATION = "calibration: /healthz"
WRITER_MARK = "bench writer"

# wrk prints its own summary; this Lua ``done`` adds one machine-readable line.
_WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: str | None = None,
) -> dict[str, Any]:
    """Load ``url`` with ``connections`` for ``seconds``; latencies of all responses.

    A response of status 400 or above counts as an error (wrk's rule); so does a socket error
    or a timeout. requests/s counts the successful responses only.
    """
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    script = _WRK_REPORT
    if method != "GET":
        # A Lua long string: the body's bytes as they are (JSON escapes are not Lua escapes).
        if "]==]" in (body or ""):
            raise ValueError("the body may not contain ]==]")
        script = f'wrk.method = "{method}"\nwrk.body = [==[{body or ""}]==]\n' + script
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = handle.name
    args = [binary, f"-t{min(connections, 2)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "60s", "-s", path]  # fmt: skip
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    try:
        done = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 120)
    finally:
        os.unlink(path)
    return parse_wrk(done.stdout, seconds)


def parse_wrk(output: str, seconds: float) -> dict[str, Any]:
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no report:\n{output}")
    raw = json.loads(line[4:])
    errors = raw["status_errors"] + raw["socket_errors"]
    ok = raw["requests"] - raw["status_errors"]
    duration = raw["duration_us"] / 1e6 or seconds
    if raw["requests"] == 0:
        return {"p50_ms": None, "p95_ms": None, "rps": 0.0, "n": 0, "errors": errors}
    return {
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "rps": round(max(ok, 0) / duration, 1),
        "n": raw["requests"],
        "errors": errors,
    }


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
            # An officer of that sub-tree with the most visits: the home page's heaviest reader.
            cur.execute(
                "SELECT o.username FROM officers_officer o "
                "JOIN officers_unit u ON u.id = o.unit_id "
                "JOIN leads_visit v ON v.created_by_id = o.id "
                "WHERE o.role = 'officer' AND u.path LIKE "
                "(SELECT path FROM officers_unit WHERE id = %s) || '%%' "
                "GROUP BY o.id, o.username ORDER BY count(*) DESC, o.id LIMIT 1",
                [unit[0]] if unit else [0],
            )
            officer = cur.fetchone()
            # An investor of a lead of the unit head's unit: what the API writers visit.
            cur.execute(
                "SELECT l.investor_id FROM leads_lead l JOIN officers_officer o "
                "ON o.unit_id = l.unit_id WHERE o.username = %s ORDER BY l.id LIMIT 1",
                [head[0] if head else ""],
            )
            investor = cur.fetchone()
            cur.execute("DELETE FROM dashboard_cockpitsnapshot")
        conn.commit()
    finally:
        conn.close()
    if unit is None or chief is None or head is None or officer is None or investor is None:
        raise SystemExit(f"{scale}: the benchmark bureau lacks a unit, chief, head or officer")
    return {
        "root": root[0],
        "unit": unit[0],
        "chief": chief[0],
        "head": head[0],
        "officer": officer[0],
        "investor": investor[0],
    }


def _urls(t: dict[str, Any]) -> dict[str, str]:
    root, unit = t["root"], t["unit"]
    return {
        "dashboard: bureau YTD": f"/dashboard/?unit={root}",
        "dashboard: one unit": f"/dashboard/?unit={unit}",
        "HTML leads list (filter)": f"/leads/?unit={root}&status=negotiating",
        "HTML projects list (filter)": f"/projects/?unit={root}&stage=groundbreaking",
        "API leads ?status=negotiating": f"/api/v1/leads/?unit={root}&status=negotiating",
        "API visits ?kind=inspection": f"/api/v1/visits/?unit={root}&kind=inspection",
        "home (chief)": "/",
        "project board": f"/projects/board/?unit={root}",
        "HTML leads list": f"/leads/?unit={root}",
        f"HTML leads list, page {DEEP_HTML_PAGE}": f"/leads/?unit={root}&page={DEEP_HTML_PAGE}",
        "HTML projects list": f"/projects/?unit={root}",
        f"HTML projects list, page {DEEP_HTML_PAGE}": (
            f"/projects/?unit={root}&page={DEEP_HTML_PAGE}"
        ),
    }


# Read by a unit head: what their scope (their sub-tree, the leads they assist on, the visits
# they attended) costs, which a chief's whole-bureau reads never pay.
HEAD_URLS = {
    "HTML leads list (unit head)": "/leads/",
    "HTML visits list (unit head)": "/leads/visits/",
    f"HTML visits list (unit head), page {DEEP_HTML_PAGE}": f"/leads/visits/?page={DEEP_HTML_PAGE}",
    "API visits (unit head)": "/api/v1/visits/",
    "home (unit head)": "/",
}
# The officer's landing page ("my work"): the most-used page of all.
OFFICER_URLS = {"home (officer)": "/"}
# One request each, as the chief: the whole bureau's leads.
EXPORT_URLS = {
    "lead export, CSV": "/imports/export/leads.csv",
    "lead export, XLSX": "/imports/export/leads.xlsx",
}
# A deep page and the first page of the same list: the deep one may cost ≤ 1.5× the first.
DEEP_PAIRS = [
    (f"API visits, page {DEEP_PAGES + 1} (cursor)", "API visits, page 1 (cursor)"),
    (f"HTML leads list, page {DEEP_HTML_PAGE}", "HTML leads list"),
    (f"HTML projects list, page {DEEP_HTML_PAGE}", "HTML projects list"),
    (f"HTML visits list (unit head), page {DEEP_HTML_PAGE}", "HTML visits list (unit head)"),
]


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


def _cookie_header(session: requests.Session) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}


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


def _timed(session: requests.Session, url: str, timeout: float = 120) -> tuple[float, int]:
    """One request without following redirects: a page that sends to /login/ is not a 200."""
    start = time.perf_counter()
    try:
        response = session.get(url, timeout=timeout, allow_redirects=False)
        status = response.status_code
    except requests.RequestException:
        status = 0
    return time.perf_counter() - start, status


def _measure(
    base: str, session: requests.Session | None, urls: dict[str, str], seconds: float
) -> dict[str, Any]:
    """First request, warm-ups, then wrk at 1 and 4 connections, for every URL."""
    headers = _cookie_header(session) if session else {}
    client = session or requests.Session()
    results: dict[str, Any] = {}
    for name, path in urls.items():
        url = base + path
        cold, status = _timed(client, url)
        warm = cold
        for _ in range(WARMUP - 1):
            warm, _status = _timed(client, url)
        # Judged on a warm request: the cockpit's first one computes, the next are served.
        run_for = seconds * 2 if warm > SLOW_SECONDS else seconds
        one = wrk(url, connections=1, seconds=run_for, headers=headers)
        four = wrk(url, connections=4, seconds=run_for, headers=headers)
        results[name] = {
            "url": path,
            "first_ms": round(cold * 1000, 1),
            "first_status": status,
            "c1": one,
            "c4": four,
        }
        print(
            f"  {name:40} first {cold * 1000:8.1f} ms ({status})  p50 {one['p50_ms']} ms"
            f"  p95 {one['p95_ms']} ms  4c {four['rps']} req/s  errors {one['errors'] + four['errors']}",
            flush=True,
        )
    return results


def _single(session: requests.Session, base: str, urls: dict[str, str]) -> dict[str, Any]:
    """Requests too heavy to repeat (exports): one each, timed, with status and size."""
    results: dict[str, Any] = {}
    for name, path in urls.items():
        start = time.perf_counter()
        try:
            response = session.get(base + path, timeout=EXPORT_TIMEOUT, allow_redirects=False)
            status, size = response.status_code, len(response.content)
        except requests.RequestException:
            status, size = 0, 0
        elapsed = time.perf_counter() - start
        results[name] = {
            "url": path,
            "ms": round(elapsed * 1000, 1),
            "status": status,
            "bytes": size,
        }
        print(f"  {name:40} {elapsed * 1000:9.1f} ms  HTTP {status}  {size} bytes", flush=True)
    return results


def _mixed(base: str, session: requests.Session, api: str, html: str, seconds: float) -> dict:
    """The API at 2 connections while 2 other connections load an HTML list."""
    headers = _cookie_header(session)
    binary = shutil.which("wrk") or "wrk"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_WRK_REPORT)
        path = handle.name
    loader = subprocess.Popen(
        [binary, "-t1", "-c2", f"-d{max(1, round(seconds)) + 4}s", "--timeout", "60s", "-s", path,
         *[arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")], base + html],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1)  # the loader is running before the API is measured
        return wrk(base + api, connections=2, seconds=seconds, headers=headers)
    finally:
        loader.wait(timeout=seconds + 130)
        os.unlink(path)


def _api_token(url: str, officer: str) -> tuple[int, str]:
    """A fresh API client acting as ``officer`` (revoked after the writers' run)."""
    code = (
        "import json\n"
        "from officers.models import Officer\n"
        "from promo.api.clients import api_client_create\n"
        f"me = Officer.objects.get(username={officer!r})\n"
        "chief = Officer.objects.filter(role='chief', unit__parent__isnull=True).first()\n"
        f"client, token = api_client_create(actor=chief, name={WRITER_MARK!r} + ' ' + "
        "str(__import__('time').time_ns()), officer=me, access='read_write')\n"
        "print('TOKEN', json.dumps([client.pk, token]))\n"
    )
    out = _manage_output(url, "shell", "-c", code)
    line = next(ln for ln in out.splitlines() if ln.startswith("TOKEN "))
    pk, token = json.loads(line[6:])
    return pk, token


def _writers(base: str, url: str, t: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``WRITERS`` API clients posting visits at once (issue 18: p95 ≤ 300 ms on 2 cores)."""
    pk, token = _api_token(url, t["head"])
    marker = f"{WRITER_MARK} {time.time_ns()}"
    body = json.dumps(
        {
            "kind": "visit",
            "visited_on": date.today().isoformat(),
            "investor": t["investor"],
            "city": "上海",
            "summary": marker,
        },
        ensure_ascii=False,
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    result: dict[str, Any] = {}
    try:
        result = wrk(
            f"{base}/api/v1/visits/",
            connections=WRITERS,
            seconds=seconds,
            headers=headers,
            method="POST",
            body=body,
        )
    finally:
        # Requests still queued when wrk stopped are served before the token is revoked.
        time.sleep(3)
        conn = _connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM leads_visit WHERE summary = %s", [marker])
            result["rows_written"] = cur.fetchone()[0]
            cur.execute(
                "UPDATE promo_apiclient SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
                [pk],
            )
        conn.close()
    print(f"  {WRITERS} API writers posting visits: {result}", flush=True)
    return result


def _manage_output(url: str, *args: str) -> str:
    env = dict(_server_env(0), DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


JOBS = ("alerts, run 1", "alerts, run 2 (repeated)", "monthly bulletin", "ten-day report")


def _jobs(url: str) -> dict[str, Any]:
    """The nightly jobs, each in a child process on the scale's database: time and peak memory."""
    results = {}
    for job in JOBS:
        env = dict(_server_env(0), DATABASE_URL=url)
        done = subprocess.run(
            [sys.executable, "-m", "promo.devtools.bench", "--job", job],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            results[job] = {"error": done.stderr.strip().splitlines()[-1:]}
        else:
            results[job] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  {job:40} {results[job]}", flush=True)
    return results


def _run_job(job: str) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")
    import django

    django.setup()
    from promo.core.services import today
    from promo.reports.choices import BulletinKind
    from promo.reports.models import Alert
    from promo.reports.services import (
        alerts_evaluate,
        bulletin_generate,
        previous_month_start,
        previous_ten_day_start,
    )

    before = Alert.objects.count()
    start = time.perf_counter()
    if job.startswith("alerts"):
        outcome: Any = alerts_evaluate(on=today())
    elif job == "monthly bulletin":
        outcome = bulletin_generate(
            kind=BulletinKind.MONTHLY, period_start=previous_month_start(today())
        ).pk
    else:
        outcome = bulletin_generate(
            kind=BulletinKind.TEN_DAY, period_start=previous_ten_day_start(today())
        ).pk
    elapsed = time.perf_counter() - start
    return {
        "seconds": round(elapsed, 2),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "alerts_before": before,
        "result": outcome if isinstance(outcome, dict | int) else str(outcome),
    }


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
    wrk_version = subprocess.run(
        [shutil.which("wrk") or "wrk", "-v"], capture_output=True, text=True
    ).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_generator": wrk_version.strip(),
    }


def _serve(url: str, port: int) -> subprocess.Popen:
    """gunicorn as the Dockerfile runs it (promo/gunicorn_conf.py), on loopback."""
    env = dict(_server_env(port), DATABASE_URL=url, GUNICORN_BIND=f"{HOST}:{port}")
    env["GUNICORN_ACCESS_LOG"] = ""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:promo.gunicorn_conf",
         "--log-level", "warning", "promo.wsgi:application"],
        cwd=BASE_DIR,
        env=env,
    )  # fmt: skip


def _bench_scale(url: str, t: dict[str, Any], port: int, seconds: float) -> dict[str, Any]:
    load_start = os.getloadavg()
    server = _serve(url, port)
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        calibration = _measure(base, None, {CALIBRATION: "/healthz"}, seconds)
        chief = _sign_in(base, t["chief"])
        urls = _urls(t)
        urls["API visits, page 1 (cursor)"] = f"/api/v1/visits/?unit={t['root']}"
        urls[f"API visits, page {DEEP_PAGES + 1} (cursor)"] = _deep_cursor_url(
            chief, base, f"/api/v1/visits/?unit={t['root']}"
        )
        results = dict(calibration)
        results.update(_measure(base, chief, urls, seconds))
        results.update(_measure(base, _sign_in(base, t["head"]), HEAD_URLS, seconds))
        results.update(_measure(base, _sign_in(base, t["officer"]), OFFICER_URLS, seconds))
        exports = _single(chief, base, EXPORT_URLS)
        writers = _writers(base, url, t, WRITER_SECONDS)
        mixed = _mixed(
            base, chief, urls["API leads ?status=negotiating"], urls["HTML leads list (filter)"],
            seconds,
        )  # fmt: skip
        print(f"  API leads while 2 connections load HTML: {mixed}", flush=True)
        again = _measure(base, None, {CALIBRATION: "/healthz"}, seconds)[CALIBRATION]
    finally:
        server.terminate()
        server.wait(timeout=30)
    jobs = _jobs(url)
    return {
        "targets": t,
        "results": results,
        "calibration_again": again,
        "exports": exports,
        "writers": writers,
        "api_under_html_load": mixed,
        "jobs": jobs,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "queries": {
            **_count_queries(url, t["chief"], urls),
            **_count_queries(url, t["head"], HEAD_URLS),
            **_count_queries(url, t["officer"], OFFICER_URLS),
        },
    }


def _cal(report_scale: dict[str, Any]) -> float | None:
    return report_scale["results"][CALIBRATION]["c1"]["p50_ms"]


def _times(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "–"
    return f"{value / base:.1f}×"


def _markdown(report: dict[str, Any]) -> str:
    """The tables of docs/performance.md, from a report (``--markdown FILE`` reprints one)."""
    scales = [s for s in SCALES if s in report]
    lines = [
        "| Request | Scale | first (ms) | p50 / p95 1 conn (ms) | p50 × cal | req/s 1 conn "
        "| p50 / p95 4 conn (ms) | req/s 4 conn | errors | SQL queries | p50 ÷ county |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in report[scales[0]]["results"]:
        for index, scale in enumerate(scales):
            r = report[scale]["results"].get(name)
            if r is None:
                continue
            c1, c4 = r["c1"], r["c4"]
            county = report[scales[0]]["results"][name]["c1"]["p50_ms"]
            lines.append(
                f"| {name if index == 0 else ''} | {scale} | {r['first_ms']:.0f} "
                f"| {c1['p50_ms']} / {c1['p95_ms']} | {_times(c1['p50_ms'], _cal(report[scale]))} "
                f"| {c1['rps']} | {c4['p50_ms']} / {c4['p95_ms']} | {c4['rps']} "
                f"| {c1['errors'] + c4['errors']} "
                f"| {report[scale]['queries'].get(name, '')} "
                f"| {_times(c1['p50_ms'], county) if index else ''} |"
            )
    lines += ["", "| Scale | calibration p50 first / last (ms) | load average start → end |",
              "|---|---:|---|"]  # fmt: skip
    for scale in scales:
        s = report[scale]
        start = ", ".join(f"{v:.2f}" for v in s["load_average"]["start"])
        end = ", ".join(f"{v:.2f}" for v in s["load_average"]["end"])
        lines.append(
            f"| {scale} | {_cal(s)} / {s['calibration_again']['c1']['p50_ms']} | {start} → {end} |"
        )
    lines += ["", "| Scale | export | ms | HTTP | bytes |", "|---|---|---:|---:|---:|"]
    for scale in scales:
        for name, e in report[scale]["exports"].items():
            lines.append(f"| {scale} | {name} | {e['ms']:.0f} | {e['status']} | {e['bytes']} |")
    lines += ["", "| Scale | nightly job | seconds | peak MiB |", "|---|---|---:|---:|"]
    for scale in scales:
        for name, j in report[scale]["jobs"].items():
            lines.append(
                f"| {scale} | {name} | {j.get('seconds', 'error')} | {j.get('peak_mib', '')} |"
            )
    lines.append("")
    for scale in scales:
        w, m = report[scale]["writers"], report[scale]["api_under_html_load"]
        lines.append(
            f"{WRITERS} API clients posting visits for {WRITER_SECONDS} s ({scale}): "
            f"p50 / p95 {w['p50_ms']} / {w['p95_ms']} ms, {w['rps']} req/s, {w['errors']} errors, "
            f"{w.get('rows_written')} visits written.  \n"
            f"API leads at 2 connections while 2 others load an HTML list ({scale}): "
            f"p50 / p95 {m['p50_ms']} / {m['p95_ms']} ms, {m['errors']} errors."
        )
    lines += ["", "### Targets (issue 19), checked on this run", ""]
    lines += [f"- {'met' if ok else '**not met**'}: {text}" for ok, text in check_targets(report)]
    return "\n".join(lines)


def check_targets(report: dict[str, Any]) -> list[tuple[bool, str]]:
    """Each target of issue 19 (province scale), as ratios where the issue gives ratios."""
    if "province" not in report:
        return []
    p = report["province"]
    res = p["results"]
    cal = _cal(p) or 0.0
    out: list[tuple[bool, str]] = []

    def p50(name: str, scale: dict[str, Any] = p) -> float:
        return scale["results"][name]["c1"]["p50_ms"] or float("inf")

    for deep, first in DEEP_PAIRS:
        if deep in res and first in res:
            ratio = p50(deep) / p50(first)
            out.append((ratio <= 1.5, f"{deep}: {ratio:.2f}× its first page (≤ 1.5×)"))
    if "county" in report:
        for name in res:
            if name == CALIBRATION or name not in report["county"]["results"]:
                continue
            ratio = p50(name) / p50(name, report["county"])
            if ratio > 3:
                out.append((False, f"{name}: province/county p50 {ratio:.1f}× (≤ 3×)"))
        worst = max(
            (p50(n) / p50(n, report["county"]), n)
            for n in res
            if n != CALIBRATION and n in report["county"]["results"]
        )
        out.append((worst[0] <= 3, f"worst province/county p50: {worst[0]:.1f}× ({worst[1]})"))
    for name, r in res.items():
        if name.startswith(("HTML", "home", "project board")):
            c1, c4 = r["c1"]["p95_ms"] or 0, r["c4"]["p95_ms"] or 0
            limit = 150
            out.append(
                (c1 <= limit and c4 <= 400,
                 f"{name}: p95 {c1} ms at 1 connection (≤ {limit}), {c4} ms at 4 (≤ 400)")
            )  # fmt: skip
        if name.startswith("API"):
            median, rps = r["c1"]["p50_ms"] or 0, r["c4"]["rps"]
            out.append(
                ((median <= 25 or median <= 3 * cal) and rps >= 80,
                 f"{name}: p50 {median} ms = {_times(median, cal)} calibration "
                 f"(≤ 25 ms or ≤ 3×), {rps} req/s at 4 connections (≥ 80)")
            )  # fmt: skip
    for job in ("alerts, run 1", "alerts, run 2 (repeated)"):
        j = p["jobs"].get(job, {})
        seconds = j.get("seconds")
        out.append(
            (seconds is not None and seconds <= 60,
             f"traffic-light evaluation, {job}: {seconds} s, {j.get('peak_mib')} MiB (≤ 60 s)")
        )  # fmt: skip
    for name, e in p["exports"].items():
        out.append(
            (e["status"] == 200 and e["ms"] <= 60000,
             f"{name}: {e['ms'] / 1000:.1f} s, HTTP {e['status']} (≤ 60 s, never a 500)")
        )  # fmt: skip
    w = p["writers"]
    out.append(
        ((w["p95_ms"] or 1e9) <= 300 and w["errors"] == 0,
         f"{WRITERS} API writers: visit POST p95 {w['p95_ms']} ms (≤ 300), {w['errors']} errors")
    )  # fmt: skip
    alone = res["API leads ?status=negotiating"]["c1"]["p95_ms"] or 0
    loaded = p["api_under_html_load"]["p95_ms"] or 0
    out.append(
        (bool(alone) and loaded <= 1.5 * alone,
         f"API p95 under mixed load {loaded} ms = {_times(loaded, alone)} unloaded (≤ 1.5×)")
    )  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--scales", default=",".join(SCALES))
    parser.add_argument("--json", default=str(BASE_DIR / "docs" / "bench.json"))
    parser.add_argument("--seed-only", action="store_true", help="create the databases, stop")
    parser.add_argument("--count-queries", metavar="USERNAME", help=argparse.SUPPRESS)
    parser.add_argument("--job", choices=JOBS, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", metavar="JSON", help="print the tables of a past run")
    args = parser.parse_args(argv)

    if args.markdown:
        print(_markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if args.count_queries:
        print(json.dumps(_count_queries_here(args.count_queries, json.loads(sys.stdin.read()))))
        return 0
    if args.job:
        print(json.dumps(_run_job(args.job), default=str))
        return 0

    scales = [s for s in args.scales.split(",") if s in SCALES]
    base_url = os.environ["DATABASE_URL"]
    databases = {scale: _scale_url(base_url, scale) for scale in scales}
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
    report: dict[str, Any] = {"machine": _machine(), "method": __doc__, "started": time.time()}
    for scale, url in databases.items():
        t = _targets_of(url, scale)
        assert t is not None
        print(f"{scale}: {urlsplit(url).path[1:]}, root unit {t['root']}, chief {t['chief']}")
        report[scale] = _bench_scale(url, t, args.port, args.seconds)
    print(_markdown(report))
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
