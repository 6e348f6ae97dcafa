"""The cockpit's summary table (promo/dashboard/snapshots.py): served while fresh, never older
than the configured time, kept fresh by the Celery task, shared per scope, few queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.choices import LeadStatus
from officers.choices import Role
from promo.dashboard import snapshots
from promo.dashboard.models import CockpitSnapshot
from promo.dashboard.tasks import refresh_cockpit_snapshots
from tests.factories import make_lead, make_officer

pytestmark = pytest.mark.django_db

CLOSED_PORT_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _snapshots_on(settings):
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 60
    yield


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def in_hand(response) -> int:
    return response.context["total"].figures.leads_in_hand


def age(seconds: int) -> None:
    """Make every stored snapshot ``seconds`` old."""
    CockpitSnapshot.objects.update(computed_at=timezone.now() - timedelta(seconds=seconds))


def test_a_fresh_snapshot_is_served_and_a_stale_one_is_never_shown(bureau):
    client = client_for(bureau.chief)
    first = client.get("/dashboard/")
    assert in_hand(first) == 0
    assert CockpitSnapshot.objects.count() == 1

    make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    second = client.get("/dashboard/")
    assert second.context["as_of"] == first.context["as_of"]
    assert in_hand(second) == 0
    assert "数据时间" in second.content.decode()

    age(61)  # older than PROMO_DASHBOARD_CACHE_SECONDS: the request computes afresh
    third = client.get("/dashboard/")
    assert in_hand(third) == 1
    assert third.context["as_of"] > first.context["as_of"]
    assert CockpitSnapshot.objects.count() == 1


def test_chiefs_share_one_snapshot_and_other_scopes_get_their_own(bureau):
    deputy = make_officer(bureau.bureau, role=Role.CHIEF)
    make_lead(bureau.outsider, status=LeadStatus.VALID)
    client_for(bureau.chief).get("/dashboard/")
    client_for(deputy).get("/dashboard/")
    assert CockpitSnapshot.objects.count() == 1

    head = client_for(bureau.shanghai_head).get("/dashboard/")
    assert CockpitSnapshot.objects.count() == 2
    # The Shanghai head's cockpit never carries the Shenzhen lead the chief's counts.
    assert in_hand(head) == 0


def test_the_task_recomputes_recently_read_snapshots_before_they_age_out(bureau):
    client = client_for(bureau.chief)
    client.get("/dashboard/")
    make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)

    assert refresh_cockpit_snapshots.apply().get() == 0  # still young: nothing to do
    age(40)  # past half of the 60 s
    assert refresh_cockpit_snapshots.apply().get() == 1

    snapshot = CockpitSnapshot.objects.get()
    assert timezone.now() - snapshot.computed_at < timedelta(seconds=5)
    served = client.get("/dashboard/")
    assert in_hand(served) == 1
    assert served.context["as_of"] == snapshot.computed_at


def test_snapshots_nobody_reads_are_left_alone_then_forgotten(bureau, settings):
    client_for(bureau.chief).get("/dashboard/")
    hour_ago = timezone.now() - timedelta(minutes=settings.PROMO_DASHBOARD_HOT_MINUTES + 1)
    CockpitSnapshot.objects.update(read_at=hour_ago, computed_at=hour_ago)
    assert snapshots.refresh_due() == 0
    assert CockpitSnapshot.objects.count() == 1

    CockpitSnapshot.objects.update(read_at=timezone.now() - timedelta(days=2))
    snapshots.refresh_due()
    assert CockpitSnapshot.objects.count() == 0


def test_a_snapshot_whose_officer_changed_scope_is_dropped_not_refreshed(bureau):
    client_for(bureau.shanghai_head).get("/dashboard/")
    head = bureau.shanghai_head
    head.unit = bureau.shenzhen
    head.save(update_fields=["unit"])
    age(40)
    assert snapshots.refresh_due() == 0
    assert CockpitSnapshot.objects.count() == 0


def test_served_cockpit_reads_a_handful_of_queries_whatever_the_data(bureau):
    client = client_for(bureau.chief)
    client.get("/dashboard/")
    with CaptureQueriesContext(connection) as small:
        assert client.get("/dashboard/").status_code == 200
    for _ in range(15):
        make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
        make_lead(bureau.outsider, status=LeadStatus.VALID)
    age(61)
    client.get("/dashboard/")  # recomputed with the larger data
    with CaptureQueriesContext(connection) as large:
        assert client.get("/dashboard/").status_code == 200
    # Session, officer, units, snapshot and the bell's count.
    assert len(small) == len(large) <= 5


def test_the_cockpit_is_still_served_while_redis_is_down(bureau):
    client = client_for(bureau.chief)
    make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    with override_settings(CACHES=CLOSED_PORT_CACHE):
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert in_hand(response) == 1


def test_an_unreadable_snapshot_is_recomputed(bureau):
    client = client_for(bureau.chief)
    client.get("/dashboard/")
    CockpitSnapshot.objects.update(payload=b"not a pickle")
    make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert in_hand(response) == 1


def test_the_refresh_runs_on_the_beat_schedule():
    from promo.celery import app

    entry = app.conf.beat_schedule["dashboard-refresh-cockpits"]
    assert entry["task"] == refresh_cockpit_snapshots.name
    assert entry["schedule"] <= 30


def test_a_shared_snapshot_speaks_each_readers_language(bureau):
    deputy = make_officer(bureau.bureau, role=Role.CHIEF)
    chinese = client_for(bureau.chief).get("/dashboard/")
    english = client_for(deputy)
    english.cookies["django_language"] = "en"
    read = english.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert CockpitSnapshot.objects.count() == 1
    assert chinese.context["total"].name == "合计"
    assert chinese.context["trend"]["months"][0] == "一月"
    assert read.context["total"].name == "Total"
    assert read.context["trend"]["months"][0] == "Jan"
