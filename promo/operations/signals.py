"""A worker records itself when it starts, before beat's first heartbeat reaches it."""

from __future__ import annotations

import logging
import socket
from typing import Any

from celery.signals import worker_ready

logger = logging.getLogger("promo.operations")


@worker_ready.connect
def _worker_started(sender: Any = None, **kwargs: Any) -> None:
    from django.utils import timezone

    from promo.operations.services import WORKER, heartbeat_record

    try:
        heartbeat_record(WORKER, at=timezone.now(), detail=socket.gethostname())
    except Exception:  # the database may still be starting: the next heartbeat will do
        logger.warning("worker start-up heartbeat not recorded", exc_info=True)
