"""API clients (接口客户端): other government systems, each with a token and an officer."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

TOKEN_PREFIX = "promo_"


def _hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough, no password-style stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


def api_client_create(*, actor: Any, name: str, officer: Any, access: str) -> tuple[Any, str]:
    """Register an API client (接口客户端) and return it with its token, shown this once."""
    import secrets

    from promo.api.models import ApiClient, ApiClientAccess
    from promo.core.errors import PermissionDenied, rule

    if not actor.sees_whole_bureau:
        raise PermissionDenied(gettext_lazy("只有局领导或系统管理员可以管理接口客户端。"))
    name = (name or "").strip()
    if not name:
        raise rule("name", gettext_lazy("请填写系统名称。"))
    if access not in ApiClientAccess.values:
        raise rule("access", gettext_lazy("请选择权限。"))
    if not officer.is_active:
        raise rule("officer", gettext_lazy("该干部账号已停用。"))
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name,
                officer=officer,
                access=access,
                token_prefix=prefix,
                token_hash=_hash_token(token),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise rule("name", gettext_lazy("已有同名的接口客户端。")) from exc
    return client, token


def api_client_revoke(*, actor: Any, client: Any) -> Any:
    """Revoke an API client's token (吊销): its next call is refused."""
    from promo.core.errors import PermissionDenied

    if not actor.sees_whole_bureau:
        raise PermissionDenied(gettext_lazy("只有局领导或系统管理员可以管理接口客户端。"))
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.revoked_by = actor
        client.save(update_fields=["revoked_at", "revoked_by"])
    return client


def api_clients_visible_to(officer: Any) -> QuerySet:
    """API clients are bureau-level configuration: only chiefs and administrators see them."""
    from promo.api.models import ApiClient

    if not getattr(officer, "is_authenticated", False) or not officer.sees_whole_bureau:
        return ApiClient.objects.none()
    return ApiClient.objects.select_related("officer")
