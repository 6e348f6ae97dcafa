"""The deletion feed scoped like the lists: a caller sees the tombstones of what it could see,
and the scope changes that took a record out of what it sees now."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions

from officers.selectors import (
    scope_changes_visible_to,
    scope_reset_at,
    tombstones_visible_to,
    unit_subtree_ids,
)
from promo.api.feeds import DeletionFeedMixin
from promo.api.models import ScopeChange


class ScopedDeletionFeedMixin(DeletionFeedMixin):
    """``GET <list>/deleted/``, showing the tombstones whose last state lay in the caller's units.

    ``tombstone_unit_field`` names the snapshot's unit column (``None``: public inside the
    bureau); chiefs see all. With ``scope_model`` the feed also lists the records the scope
    journal says left the caller's scope (or the ``?unit=`` sub-tree) and the caller does not
    see now: the list's own rows (``visible()``) decide.
    """

    tombstone_unit_field: str | None = "unit_id"

    @property
    def answers_resync(self) -> bool:  # type: ignore[override]
        return self.tombstone_unit_field is not None  # public inside the bureau: no scope

    def visible_tombstones(self, events: QuerySet) -> QuerySet:
        return tombstones_visible_to(
            self.request.user,  # type: ignore[attr-defined]
            events,
            unit_field=self.tombstone_unit_field,
        )

    def feed_unit_ids(self, raw: str) -> list[int]:
        try:
            unit_id = int(raw)
        except ValueError:
            unit_id = 0
        if not 1 <= unit_id < 2**31:
            raise exceptions.ValidationError({"unit": [_("请输入有效的单位编号。")]})
        return unit_subtree_ids(unit_id)

    def tombstones_in_units(self, events: QuerySet, unit_ids: list[int]) -> QuerySet:
        return events.filter(**{f"{self.tombstone_unit_field}__in": unit_ids})

    def scope_removals(self, since: datetime | None, unit_ids: list[int] | None) -> QuerySet:
        changes = ScopeChange.objects.filter(model=self.scope_model, object_id__isnull=False)
        if since is not None:
            changes = changes.filter(at__gte=since)
        changes = scope_changes_visible_to(
            self.request.user,  # type: ignore[attr-defined]
            changes,
            unit_ids=unit_ids,
        )
        visible = self.visible()  # type: ignore[attr-defined]
        if unit_ids is not None:
            visible = visible.filter(unit_id__in=unit_ids)
        label = self.scope_model or ""
        model = apps.get_model(label)
        return changes.filter(~Exists(visible.filter(pk=OuterRef("object_id")))).annotate(
            alive=Exists(model.objects.filter(pk=OuterRef("object_id")))
        )

    def scope_reset_at(self, since: datetime, *, filtered: bool) -> datetime | None:
        if not self.answers_resync:
            return None
        return scope_reset_at(
            self.request.user,  # type: ignore[attr-defined]
            ScopeChange.objects.filter(object_id__isnull=True, at__gt=since),
            filtered=filtered,
        )
