"""ETags: a strong validator per row for If-None-Match and If-Match."""

from __future__ import annotations

import hashlib

from django.db import models


def etag_for(instance: models.Model) -> str | None:
    """A strong ETag from the row's identity and ``updated_at`` (bumped by every service write)."""
    stamp = getattr(instance, "updated_at", None)
    if stamp is None:
        return None
    raw = f"{instance._meta.label}:{instance.pk}:{stamp.isoformat()}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags
