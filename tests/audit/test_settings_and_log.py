"""The audit settings: retention never below 180 days; the security log also to a file and to
syslog for the bureau's log collector."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOG_ONE_LINE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('promo.security').warning('sign-in failed username=probe ip=10.0.0.1')"
)


def run_python(code: str, **overrides: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "promo.settings", **overrides}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_a_retention_below_180_days_is_refused():
    run = run_python(LOG_ONE_LINE, PROMO_AUDIT_RETENTION_DAYS="90")
    assert run.returncode != 0
    assert "PROMO_AUDIT_RETENTION_DAYS must be at least 180" in run.stderr


def test_the_security_log_goes_to_a_file(tmp_path):
    path = tmp_path / "security.log"
    run = run_python(LOG_ONE_LINE, PROMO_SECURITY_LOG_FILE=str(path))
    assert run.returncode == 0, run.stderr
    assert "promo.security sign-in failed username=probe ip=10.0.0.1" in path.read_text("utf-8")


def test_the_security_log_goes_to_syslog_over_udp():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as collector:
        collector.bind(("127.0.0.1", 0))
        collector.settimeout(30)
        port = collector.getsockname()[1]
        run = run_python(LOG_ONE_LINE, PROMO_SECURITY_SYSLOG=f"127.0.0.1:{port}")
        assert run.returncode == 0, run.stderr
        message = collector.recv(4096).decode("utf-8")
    # <36>: facility auth (4) × 8 + warning (4).
    assert message.startswith("<36>promo[")
    assert "sign-in failed username=probe ip=10.0.0.1" in message


def test_a_malformed_syslog_address_is_refused():
    run = run_python(LOG_ONE_LINE, PROMO_SECURITY_SYSLOG="collector-without-port")
    assert run.returncode != 0
    assert "PROMO_SECURITY_SYSLOG" in run.stderr
