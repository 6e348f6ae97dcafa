"""Settings come from the environment through strict helpers; production refuses unsafe starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from promo.core import env

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "x7Kp2vQ9mW4nR8tY1uZ5bC3dF6gH0jL2kM9nP4qS7wE1rT5yU8iO3pA6sD9fG2hJ"


@pytest.fixture(autouse=True)
def _keep_read_variables():
    """The helpers record every name they read; the made-up names here must not leak."""
    before = set(env.READ_VARIABLES)
    yield
    env.READ_VARIABLES.clear()
    env.READ_VARIABLES.update(before)


def run_manage(*args: str, **overrides: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "PROMO_TESTING",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "PROMO_FIELD_KEYS",
            "PROMO_BLIND_INDEX_KEY",
        }
    }
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("raw", ["yes please", "2", "enabled"])
def test_env_bool_refuses_what_it_does_not_understand(monkeypatch, raw):
    monkeypatch.setenv("PROMO_SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="PROMO_SOME_FLAG"):
        env.env_bool("PROMO_SOME_FLAG", False)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("off", False), ("TRUE", True), ("", False)]
)
def test_env_bool_accepts_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PROMO_SOME_FLAG", raw)
    assert env.env_bool("PROMO_SOME_FLAG", not expected) is expected


def test_env_secret_reads_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    monkeypatch.setenv("PROMO_X_FILE", str(secret))
    assert env.env_secret("PROMO_X") == "s3cr3t"


def test_env_int_names_the_variable_when_it_is_not_a_number(monkeypatch):
    monkeypatch.setenv("PROMO_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="PROMO_N"):
        env.env_int("PROMO_N", 1)


def test_production_refuses_to_start_without_secret_key_and_says_which():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_malformed_api_rate_stops_the_start_and_names_the_variable():
    result = run_manage("check", DEBUG="1", PROMO_API_RATE="lots")
    assert result.returncode != 0
    assert "PROMO_API_RATE='lots'" in result.stderr


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PROMO_SWEEP_MINUTES": "7"}, "PROMO_SWEEP_MINUTES=7: expected a divisor of 60"),
        ({"PROMO_SWEEP_LOOKBACK_DAYS": "7"}, "PROMO_SWEEP_LOOKBACK_DAYS must be at least 31"),
        ({"PROMO_RETRY_HORIZON_HOURS": "0"}, "PROMO_RETRY_HORIZON_HOURS must be at least 1"),
        (
            {"PROMO_WEBHOOK_TIMEOUT_SECONDS": "60"},
            "PROMO_RETRY_FIRST_SECONDS must be at least twice PROMO_WEBHOOK_TIMEOUT_SECONDS",
        ),
        (
            {"PROMO_DELIVERY_LEASE_SECONDS": "30"},
            "PROMO_DELIVERY_LEASE_SECONDS must be more than twice",
        ),
        (
            {"PROMO_TASK_VISIBILITY_SECONDS": "1200"},
            "PROMO_TASK_VISIBILITY_SECONDS=1200 must be longer than the longest task's time limit",
        ),
        (
            {"PROMO_IMPORT_STALL_SECONDS": "20"},
            "PROMO_IMPORT_STALL_SECONDS must be at least three PROMO_IMPORT_HEARTBEAT_SECONDS",
        ),
    ],
)
def test_a_sweep_or_retry_setting_that_cannot_work_stops_the_start(variables, message):
    result = run_manage("check", DEBUG="1", **variables)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", DEBUG="0", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY is too short" in result.stderr


def test_check_deploy_with_production_settings_reports_nothing():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="promo.example.gov.cn",
        **FIELD_KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# Personal data is encrypted at rest (issue #16): production needs its keys.
FIELD_KEYS = {
    "PROMO_FIELD_KEYS": "mB8Yy0m5ZyV5m8N0Q3JxS3l3b0N4b2F4c2t6c0l6R2c=",
    "PROMO_BLIND_INDEX_KEY": "blind-index-key-for-the-settings-test-0123456789",
}


def test_production_refuses_to_start_without_field_keys_and_says_which():
    result = run_manage(
        "check", DEBUG="0", SECRET_KEY=PRODUCTION_SECRET, ALLOWED_HOSTS="promo.example.gov.cn"
    )
    assert result.returncode != 0
    assert "PROMO_FIELD_KEYS and PROMO_BLIND_INDEX_KEY must be set" in result.stderr


def test_a_field_key_that_is_not_a_fernet_key_stops_the_start():
    result = run_manage(
        "check",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="promo.example.gov.cn",
        **{**FIELD_KEYS, "PROMO_FIELD_KEYS": "not-a-key"},
    )
    assert result.returncode != 0
    assert "PROMO_FIELD_KEYS holds a value that is not a Fernet key" in result.stderr


def test_chinese_is_the_default_language_and_english_the_second(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_database_is_postgresql(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["jit", "enable_memoize"])
def test_every_connection_runs_without_jit_and_memoize(name):
    """Both cost more than they save on promo's short statements (docs/performance.md "No
    Memoize"): a Memoize sized from a million-row estimate was set up and freed on every page
    of a unit head's visits. The settings come with the connection, so a worker, a shell and a
    request read the same plans."""
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        assert cursor.fetchone()[0] == "off"
