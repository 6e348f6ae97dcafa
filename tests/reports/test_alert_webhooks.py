"""Webhook channels (企业微信/钉钉 robots): real HTTP to a local server; one failure blocks nothing."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from officers.choices import Role
from projects.services import project_create
from promo.core.choices import Industry
from promo.reports.choices import EscalationStep, WebhookStyle
from promo.reports.models import WebhookChannel, WebhookDelivery
from promo.reports.services import alert_webhooks_deliver, alerts_evaluate
from tests.factories import make_investor, make_officer

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def robot():
    """A local HTTP server: /ok answers like a robot, /busy answers errcode 45009, /down 503."""
    received: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, body))
            if self.path == "/down":
                self.send_response(503)
                self.end_headers()
                return
            answer = {"errcode": 45009 if self.path == "/busy" else 0, "errmsg": "ok"}
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(answer).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False) as traveller:
        yield traveller


def channel(name, url, **fields):
    return WebhookChannel.objects.create(name=name, url=url, **fields)


def lit_not_started(bureau, settings):
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    project_create(
        actor=bureau.shanghai_officer,
        investor=make_investor(bureau.shanghai_officer),
        name="新能源电池项目",
        industry=Industry.ELECTRONICS,
        contract_date=date(2026, 8, 1),
        total_investment=500,
    )


def test_each_step_reaching_a_channel_is_posted_once_and_a_failing_channel_blocks_nothing(
    bureau, settings, robot, clock
):
    ok = channel("招商群", f"{robot.base}/ok", min_step=EscalationStep.OFFICER)
    down = channel("故障群", f"{robot.base}/down", min_step=EscalationStep.OFFICER)
    lit_not_started(bureau, settings)
    alerts_evaluate(on=date(2026, 11, 25))

    assert alert_webhooks_deliver() == (1, 1)
    assert alert_webhooks_deliver() == (0, 0)  # the failing channel waits its backoff…
    clock.shift(timedelta(hours=1))
    assert alert_webhooks_deliver() == (0, 1)  # …then only it is tried again
    paths = [path for path, _body in robot.received]
    assert paths.count("/ok") == 1 and paths.count("/down") == 2
    body = next(body for path, body in robot.received if path == "/ok")
    assert body["msgtype"] == "text"
    assert "红灯" in body["text"]["content"] and "新能源电池项目" in body["text"]["content"]
    assert WebhookDelivery.objects.get(channel=ok).delivered_at is not None
    failed = WebhookDelivery.objects.get(channel=down)
    assert (failed.delivered_at, failed.attempts) == (None, 2)
    assert "503" in failed.last_error
    assert failed.next_attempt_at > timezone.now()


def test_a_robot_error_code_is_a_failure(bureau, settings, robot, clock):
    busy = channel("限流群", f"{robot.base}/busy", min_step=EscalationStep.OFFICER)
    lit_not_started(bureau, settings)
    alerts_evaluate(on=date(2026, 11, 25))
    assert alert_webhooks_deliver() == (0, 1)
    assert "45009" in WebhookDelivery.objects.get(channel=busy).last_error


def test_a_chiefs_group_hears_only_of_red_steps_once_whatever_the_number_of_chiefs(
    bureau, settings, robot, clock
):
    make_officer(bureau.bureau, role=Role.CHIEF, username="deputy_chief")
    chiefs = channel(
        "局领导群", f"{robot.base}/ok", style=WebhookStyle.JSON, min_step=EscalationStep.CHIEF
    )
    lit_not_started(bureau, settings)
    alerts_evaluate(on=date(2026, 11, 1))
    assert alert_webhooks_deliver() == (0, 0)  # officer step only: not for the chiefs' group
    alerts_evaluate(on=date(2026, 11, 8))  # seven days: two chiefs notified
    assert alert_webhooks_deliver() == (1, 0)
    assert alert_webhooks_deliver() == (0, 0)
    [(path, body)] = robot.received
    assert path == "/ok"
    assert body["step"] == EscalationStep.CHIEF and body["rule"] == "not_started"
    assert WebhookDelivery.objects.filter(channel=chiefs).count() == 1


def test_a_non_http_address_is_refused_without_a_request(bureau, settings, clock):
    bad = channel("本地文件", "ftp://127.0.0.1/x", min_step=EscalationStep.OFFICER)
    lit_not_started(bureau, settings)
    alerts_evaluate(on=date(2026, 11, 25))
    assert alert_webhooks_deliver() == (0, 1)
    assert "http" in WebhookDelivery.objects.get(channel=bad).last_error
