"""Token authentication and the read-only client check."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

import pghistory
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from promo.api.clients import TOKEN_PREFIX, _hash_token


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer promo_<prefix>_<secret>``: the client acts as its officer."""

    keyword = "Bearer"
    # last_used_at is written at most once a minute: a busy sync must not write on every call.
    touch_interval = timedelta(minutes=1)

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from promo.api.models import ApiClient

        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme != self.keyword or not token.startswith(TOKEN_PREFIX):
            return None
        prefix = token.removeprefix(TOKEN_PREFIX).split("_", 1)[0]
        client = (
            ApiClient.objects.select_related("officer", "officer__unit")
            .filter(token_prefix=prefix)
            .first()
        )
        now = timezone.now()
        previous = False
        if client is None and prefix:
            # A token of the generation before the last rotation, during its overlap.
            client = (
                ApiClient.objects.select_related("officer", "officer__unit")
                .filter(previous_token_prefix=prefix)
                .first()
            )
            previous = client is not None
        stored = (client.previous_token_hash if previous else client.token_hash) if client else ""
        if client is None or not hmac.compare_digest(stored, _hash_token(token)):
            raise exceptions.AuthenticationFailed(_("无效的接口令牌。"))
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("接口令牌已被吊销。"))
        if previous and (client.previous_valid_until is None or now >= client.previous_valid_until):
            raise exceptions.AuthenticationFailed(_("接口令牌已轮换，旧令牌已失效，请使用新令牌。"))
        if not previous and now >= client.expires_at:
            raise exceptions.AuthenticationFailed(_("接口令牌已过期，请联系管理员轮换令牌。"))
        if not client.officer.is_active:
            raise exceptions.AuthenticationFailed(_("接口客户端代表的干部账号已停用。"))
        # The figure history names the client as well as its officer (issue #16): added to the
        # history context the middleware opened for a writing request (a read has none).
        pghistory.context(api_client=client.pk)
        if client.last_used_at is None or now - client.last_used_at > self.touch_interval:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client.officer, client

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiClientAccessPermission(BasePermission):
    """A read-only client may only read; browser sessions are not limited here."""

    message = gettext_lazy("该接口客户端只有只读权限。")

    def has_permission(self, request: Request, view: Any) -> bool:
        from promo.api.models import ApiClient, ApiClientAccess

        client = request.auth
        if isinstance(client, ApiClient) and client.access != ApiClientAccess.READ_WRITE:
            return request.method in SAFE_METHODS
        return True
