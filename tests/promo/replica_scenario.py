"""Run by tests/promo/test_replica.py in a child process against a real primary + streaming
replica (DATABASE_URL, DATABASE_REPLICA_URL); prints one JSON line of figures. Not a test
module itself: it needs Django set up on those two servers, which the test run's own database
settings are not."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "promo.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from promo.core.db import PIN_COOKIE  # noqa: E402
from promo.core.services import today  # noqa: E402
from promo.devtools.replica import wait_for_replay  # noqa: E402
from promo.devtools.two_factor import verify_client_session  # noqa: E402
from promo.reports.choices import BulletinKind  # noqa: E402
from promo.reports.services import bulletin_generate, previous_month_start  # noqa: E402
from tests.factories import make_bureau, make_lead  # noqa: E402


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def replica_sql(sql: str) -> object:
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def main() -> None:
    setup_test_environment()
    primary, replica = os.environ["DATABASE_URL"], os.environ["DATABASE_REPLICA_URL"]
    bureau = make_bureau()
    make_lead(bureau.shanghai_officer)
    waited = wait_for_replay(primary, replica)
    check(replica_sql("SELECT pg_is_in_recovery()") is True, "the replica alias is a standby")

    client = Client()
    client.force_login(bureau.chief)
    # Outside pytest the shared fixture does not run: the chief passes the second factor here.
    verify_client_session(client, bureau.chief)

    def queries(path: str) -> tuple[int, int, int]:
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            with CaptureQueriesContext(connections["default"]) as on_primary:
                response = client.get(path)
        return response.status_code, len(on_replica), len(on_primary)

    figures: dict[str, object] = {"first_catch_up_seconds": round(waited, 3)}
    for path in ("/dashboard/", "/reports/bulletins/", "/imports/export/leads.csv"):
        status, on_replica, on_primary = queries(path)
        check(status == 200, f"{path} answered {status}")
        check(on_replica > 0, f"{path} read nothing from the replica")
        figures[path] = {"replica": on_replica, "primary": on_primary}
    for path in ("/leads/", "/"):
        status, on_replica, on_primary = queries(path)
        check(status == 200 and on_replica == 0, f"{path} must read the primary only")
        figures[path] = {"replica": on_replica, "primary": on_primary}

    # The replica falls behind: replay paused, a bulletin is generated on the primary.
    replica_sql("SELECT pg_wal_replay_pause()::text")
    bulletin = bulletin_generate(
        kind=BulletinKind.MONTHLY, period_start=previous_month_start(today())
    )
    link = reverse("reports:bulletin", args=[bulletin.pk])
    check(link not in client.get("/reports/bulletins/").content.decode(), "lagging replica read")

    # A write pins this browser to the primary: it reads its own world at once.
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    check(PIN_COOKIE in response.cookies, "a write sets the pin cookie")
    check(link in client.get("/reports/bulletins/").content.decode(), "read-your-writes")
    status, on_replica, _ = queries("/dashboard/")
    check(status == 200 and on_replica == 0, "a pinned browser reads the primary")

    # The pin ends; the (still paused) replica serves again, then catches up when resumed.
    time.sleep(settings.PROMO_REPLICA_PIN_SECONDS + 0.5)
    check(link not in client.get("/reports/bulletins/").content.decode(), "pin expired")
    replica_sql("SELECT pg_wal_replay_resume()::text")
    figures["catch_up_seconds"] = round(wait_for_replay(primary, replica), 3)
    check(link in client.get("/reports/bulletins/").content.decode(), "replica caught up")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
