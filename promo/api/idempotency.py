"""Idempotency keys: a POST retried with the same key gets the first answer, and writes once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from promo.api.errors import IdempotencyKeyReused
from promo.api.models import ApiClient, IdempotencyRecord
from promo.core.prune import delete_in_batches


def idempotency_ttl() -> timedelta:
    """How long an Idempotency-Key is remembered: long enough for any retry loop, short
    enough to purge (PROMO_IDEMPOTENCY_TTL_HOURS)."""
    return timedelta(hours=settings.PROMO_IDEMPOTENCY_TTL_HOURS)


def idempotency_records_prune() -> int:
    """Delete the records older than their TTL (幂等记录清理), in bounded batches; returns how many."""
    expired = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - idempotency_ttl())
    return delete_in_batches(expired)


def run_once(
    key: str,
    handler: Callable[..., Response],
    request: Request,
    *args: Any,
    **kwargs: Any,
) -> Response:
    """Run a POST once per key: a retry with the same body gets the first answer."""
    key = key.strip()
    if not key or len(key) > 255:
        raise exceptions.ValidationError(
            {"Idempotency-Key": [_("Idempotency-Key 须为 1 到 255 个字符。")]}
        )
    canonical = json.dumps(
        [request.method, request.get_full_path(), request.data],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    # Keys belong to the calling system (docs/api.md): a token's client, or for a browser
    # session the officer. Two systems acting for one officer never see each other's keys.
    client = request.auth if isinstance(request.auth, ApiClient) else None
    mine = IdempotencyRecord.objects.filter(officer=request.user, client=client, key=key)
    mine.filter(created_at__lt=timezone.now() - idempotency_ttl()).delete()
    try:
        # Claim the key first: a concurrent retry blocks on this row until we commit,
        # then finds the stored answer instead of writing a second time.
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                officer=request.user,
                client=client,
                key=key,
                fingerprint=fingerprint,
                status_code=0,
                response_body={},
            )
    except IntegrityError:
        record = mine.get()
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused() from None
        return Response(
            record.response_body,
            status=record.status_code,
            headers={"Idempotent-Replayed": "true"},
        )
    # An error propagates: the transaction, claim included, rolls back and a retry runs anew.
    response = handler(request, *args, **kwargs)
    record.status_code = response.status_code
    record.response_body = response.data
    record.save(update_fields=["status_code", "response_body"])
    return response
