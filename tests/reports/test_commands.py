"""``manage.py bulletin`` and ``manage.py ten_day_report``: a past period on demand,
idempotent like the Celery tasks, with clear errors for bad or unfinished periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from projects.services import progress_record
from promo.reports.choices import BulletinKind, BulletinStatus, Figure
from promo.reports.models import Bulletin, BulletinAmendment
from promo.reports.services import bulletin_publish
from tests.reports.seed import SHANGHAI, TODAY, build_october

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def october(bureau, clock):
    return build_october(bureau)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bulletin_command_generates_the_month_once_however_often_it_runs(bureau, october):
    output = run("bulletin", "--month", "2026-10")
    assert "draft" in output
    run("bulletin", "--month", "2026-10")
    bulletin = Bulletin.objects.get()
    assert (bulletin.kind, bulletin.period_start, bulletin.period_end) == (
        BulletinKind.MONTHLY,
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    shanghai = bulletin.lines.get(unit=bureau.shanghai)
    assert shanghai.figure(Figure.SIGNED_COUNT) == SHANGHAI["signed_count"]


def test_bulletin_command_on_a_published_month_records_amendments_once(bureau, october, clock):
    run("bulletin", "--month", "2026-10")
    bulletin_publish(bulletin=Bulletin.objects.get(), actor=bureau.chief)
    clock.shift(3600)
    progress_record(
        project=october.p2,
        actor=bureau.sub_unit_officer,
        month=date(2026, 10, 1),
        agreed_investment=3000,
        paid_in=900,
        fixed_asset_investment=800,
        arrived_fdi=260,
        note="补报10月到账外资",
    )
    assert "2 new amendment(s)" in run("bulletin", "--month", "2026-10")
    assert "0 new amendment(s)" in run("bulletin", "--month", "2026-10")
    assert BulletinAmendment.objects.count() == 2
    bulletin = Bulletin.objects.get()
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.lines.get(unit=bureau.shanghai).arrived_fdi == Decimal("190.00")


def test_ten_day_report_command_takes_the_month_and_the_third(bureau, october):
    run("ten_day_report", "--period", "2026-10-2")
    run("ten_day_report", "--period", "2026-10-3")
    run("ten_day_report", "--period", "2026-10-3")
    assert list(
        Bulletin.objects.order_by("period_start").values_list("kind", "period_start", "period_end")
    ) == [
        (BulletinKind.TEN_DAY, date(2026, 10, 11), date(2026, 10, 20)),
        (BulletinKind.TEN_DAY, date(2026, 10, 21), date(2026, 10, 31)),
    ]


def test_without_a_period_the_commands_report_the_period_just_ended(bureau, october):
    run("bulletin")
    run("ten_day_report")  # on 2 November: 21–31 October
    assert set(Bulletin.objects.values_list("kind", "period_start")) == {
        (BulletinKind.MONTHLY, date(2026, 10, 1)),
        (BulletinKind.TEN_DAY, date(2026, 10, 21)),
    }


@pytest.mark.parametrize(
    ("command", "option", "value", "message"),
    [
        ("bulletin", "--month", "2026-11", "has not closed yet"),
        ("bulletin", "--month", "2027-01", "has not closed yet"),
        ("bulletin", "--month", "2026-13", "YYYY-MM"),
        ("bulletin", "--month", "October", "YYYY-MM"),
        ("bulletin", "--month", "2026-10-01", "YYYY-MM"),
        ("bulletin", "--month", "0001-01", "before 1980"),
        ("ten_day_report", "--period", "2026-11-1", "has not closed yet"),
        ("ten_day_report", "--period", "2026-10-4", "YYYY-MM-N"),
        ("ten_day_report", "--period", "2026-10", "YYYY-MM-N"),
        ("ten_day_report", "--period", "2026-1x-2", "YYYY-MM"),
    ],
)
def test_an_open_or_malformed_period_is_a_clear_error_and_nothing_is_written(
    bureau, clock, command, option, value, message
):
    with pytest.raises(CommandError, match=message):
        run(command, option, value)
    assert not Bulletin.objects.exists()
