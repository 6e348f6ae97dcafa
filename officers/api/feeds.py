"""The deletion feed scoped like the lists: a caller sees the tombstones of what it could see."""

from __future__ import annotations

from django.db.models import QuerySet

from officers.selectors import tombstones_visible_to
from promo.api.feeds import DeletionFeedMixin


class ScopedDeletionFeedMixin(DeletionFeedMixin):
    """``GET <list>/deleted/``, showing the tombstones whose last state lay in the caller's units.

    ``tombstone_unit_field`` names the snapshot's unit column (``None``: public inside the
    bureau); chiefs see all.
    """

    tombstone_unit_field: str | None = "unit_id"

    def visible_tombstones(self, events: QuerySet) -> QuerySet:
        return tombstones_visible_to(
            self.request.user,  # type: ignore[attr-defined]
            events,
            unit_field=self.tombstone_unit_field,
        )
