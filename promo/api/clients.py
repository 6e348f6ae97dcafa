"""API clients (接口客户端): other government systems, each with a token and an officer."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from promo.core.tokens import new_secret, secret_hash

TOKEN_PREFIX = "promo_"


def _hash_token(token: str) -> str:
    return secret_hash(token)


def _new_token() -> tuple[str, str]:
    """A new token and its prefix: "promo_<prefix>_<secret>", 256 random bits of secret."""
    import secrets

    prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{new_secret()}"


def _token_expiry(now: Any) -> Any:
    from datetime import timedelta

    from django.conf import settings

    return now + timedelta(days=settings.PROMO_API_TOKEN_DAYS)


def api_client_create(*, actor: Any, name: str, officer: Any, access: str) -> tuple[Any, str]:
    """Register an API client (接口客户端) and return it with its token, shown this once."""
    from promo.api.models import ApiClient, ApiClientAccess
    from promo.core.errors import PermissionDenied, rule

    if not getattr(actor, "grants_access", False):
        raise PermissionDenied(gettext_lazy("只有安全管理员可以管理接口客户端。"))
    name = (name or "").strip()
    if not name:
        raise rule("name", gettext_lazy("请填写系统名称。"))
    if access not in ApiClientAccess.values:
        raise rule("access", gettext_lazy("请选择权限。"))
    if not officer.is_active:
        raise rule("officer", gettext_lazy("该干部账号已停用。"))
    prefix, token = _new_token()
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name,
                officer=officer,
                access=access,
                token_prefix=prefix,
                token_hash=_hash_token(token),
                expires_at=_token_expiry(timezone.now()),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise rule("name", gettext_lazy("已有同名的接口客户端。")) from exc
    return client, token


def api_client_revoke(*, actor: Any, client: Any) -> Any:
    """Revoke an API client's token (吊销): its next call is refused."""
    from promo.core.errors import PermissionDenied

    if not getattr(actor, "grants_access", False):
        raise PermissionDenied(gettext_lazy("只有安全管理员可以管理接口客户端。"))
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.revoked_by = actor
        client.save(update_fields=["revoked_at", "revoked_by"])
    return client


def api_client_set_personal_data(*, actor: Any, client: Any, allowed: bool) -> Any:
    """Let an API client read personal data in full (or stop it): who and when are kept on
    the client and in the ``promo.security`` log."""
    import logging

    from promo.api.models import ApiClient
    from promo.core.errors import PermissionDenied

    if not getattr(actor, "grants_access", False):
        raise PermissionDenied(gettext_lazy("只有安全管理员可以管理接口客户端。"))
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        if locked.reads_personal_data != allowed:
            locked.reads_personal_data = allowed
            locked.personal_data_set_at = timezone.now()
            locked.personal_data_set_by = actor
            locked.save(
                update_fields=[
                    "reads_personal_data",
                    "personal_data_set_at",
                    "personal_data_set_by",
                ]
            )
            logging.getLogger("promo.security").warning(
                "api client personal data %s: client=%s by=%s",
                "granted" if allowed else "withdrawn",
                locked.name,
                actor.get_username(),
            )
    return locked


def api_client_rotate(*, actor: Any, client: Any) -> tuple[Any, str]:
    """Issue a new token (轮换) and return it, shown this once. The previous token keeps working
    for ``PROMO_API_TOKEN_OVERLAP_HOURS`` so the calling system can switch without an outage;
    a token older than that generation stops at once. The new token expires
    ``PROMO_API_TOKEN_DAYS`` from now. A revoked client is not brought back by a rotation."""
    from datetime import timedelta

    from django.conf import settings

    from promo.api.models import ApiClient
    from promo.core.errors import PermissionDenied, TransitionNotAllowed

    if not getattr(actor, "grants_access", False):
        raise PermissionDenied(gettext_lazy("只有安全管理员可以管理接口客户端。"))
    with transaction.atomic():
        locked = ApiClient.objects.select_for_update().get(pk=client.pk)
        if locked.revoked_at is not None:
            raise TransitionNotAllowed(gettext_lazy("接口客户端已吊销，不能轮换令牌。"))
        now = timezone.now()
        prefix, token = _new_token()
        locked.previous_token_prefix = locked.token_prefix
        locked.previous_token_hash = locked.token_hash
        locked.previous_valid_until = min(
            now + timedelta(hours=settings.PROMO_API_TOKEN_OVERLAP_HOURS), locked.expires_at
        )
        locked.token_prefix = prefix
        locked.token_hash = _hash_token(token)
        locked.expires_at = _token_expiry(now)
        locked.rotated_at = now
        locked.rotated_by = actor
        locked.save(
            update_fields=[
                "previous_token_prefix",
                "previous_token_hash",
                "previous_valid_until",
                "token_prefix",
                "token_hash",
                "expires_at",
                "rotated_at",
                "rotated_by",
            ]
        )
    return locked, token


def api_clients_visible_to(officer: Any) -> QuerySet:
    """API clients are grants (a token acts as an officer): only the security administrator
    (安全管理员, or a superuser installing promo) sees them (三员分立, decision 0019)."""
    from promo.api.models import ApiClient

    if not getattr(officer, "is_authenticated", False) or not officer.grants_access:
        return ApiClient.objects.none()
    return ApiClient.objects.select_related("officer", "revoked_by", "rotated_by")
