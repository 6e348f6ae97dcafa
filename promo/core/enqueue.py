"""Hand a job to the broker from a request: never blocks the request, never raises into it.

A request that queues background work (an import's check, a notice's delivery) has already
saved that work in PostgreSQL (an outbox: the batch's status, the notice's unsent row); the
broker message only says "look now". So the message is sent

- after the transaction commits (the worker must find what it is told about), and
- on a connection of its own whose every step (connect, each read) gives up after
  ``PROMO_ENQUEUE_TIMEOUT_SECONDS``, once, without Celery's publish retries, and
- without the result backend (nobody waits for these results): a hung or stopped Redis
  costs the request at most that long, and a broker error is logged, not raised.

When the send fails the work is not lost: the sweep that reads the outbox (the beat's
``resume-waiting-imports``, the delivery runs) sends it when the broker is back.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

log = logging.getLogger("promo.operations")


def send_now(
    task: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **options: Any
) -> bool:
    """Publish ``task`` (a task or its name) at once; True if the broker took it.

    Never raises and never waits more than about two PROMO_ENQUEUE_TIMEOUT_SECONDS (connect,
    then one command); False (logged) when the broker is stopped, hung or refuses.
    """
    name = task if isinstance(task, str) else task.name
    timeout = settings.PROMO_ENQUEUE_TIMEOUT_SECONDS
    try:
        with current_app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry_on_timeout": False,
                # kombu's own connection retries (2 s apart by default): none.
                "max_retries": 0,
                "interval_start": 0,
            },
        ) as connection:
            current_app.send_task(
                name,
                args=args,
                kwargs=kwargs,
                connection=connection,
                retry=False,
                ignore_result=True,
                **options,
            )
    except Exception as exc:  # any broker failure: the outbox in PostgreSQL keeps the work
        log.warning("could not send %s (%s); it waits in PostgreSQL for the sweep", name, exc)
        return False
    return True


def send_on_commit(
    task: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **options: Any
) -> bool | None:
    """``send_now`` once the current transaction commits.

    Outside a transaction (a view after its service committed) it sends at once and returns
    whether the broker took the job; inside one it returns None (not known yet).
    """
    if not transaction.get_connection().in_atomic_block:
        return send_now(task, args, kwargs, **options)
    transaction.on_commit(lambda: send_now(task, args, kwargs, **options))
    return None
