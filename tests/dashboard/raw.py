"""A second, raw connection to the test database, for the races between two writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def connect() -> Any:
    """A psycopg2 connection of its own (its own transaction) to the test database."""
    import psycopg2

    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )


def race(hold: Callable[[Any], Any], other: Callable[[Any], Any]) -> None:
    """``hold`` runs in a transaction left open while ``other`` starts in another;
    ``other`` must wait (it is still running after a moment), then ends once ``hold``
    commits."""
    a, c = connect(), connect()
    try:
        hold(a)
        waiting = threading.Thread(target=lambda: (other(c), c.commit()))
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive(), "the second writer did not wait for the first's write"
        a.commit()
        waiting.join(timeout=10)
        assert not waiting.is_alive()
    finally:
        a.close()
        c.close()
