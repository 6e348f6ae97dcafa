"""The real servers are there: PostgreSQL for the data, Redis for cache and Celery's broker."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from promo.celery import app


def test_database_is_a_real_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        assert cursor.fetchone()[0] >= 140000


def test_cache_round_trips_through_redis():
    key = f"promo-test-{uuid.uuid4()}"
    cache.set(key, {"五个数": [1, 2, 3, 4, 5]}, 30)
    assert cache.get(key) == {"五个数": [1, 2, 3, 4, 5]}
    cache.delete(key)
    assert cache.get(key) is None


def test_celery_broker_answers():
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected


def test_migrations_are_complete(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
