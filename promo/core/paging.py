"""Pages of the HTML lists reached by a cursor (keyset), not an OFFSET (issue #19).

An OFFSET reads and discards every row before the page: a unit head's visits at page 200
read 280,337 rows to show 20. Here the pager's links carry the sort key of the row to
continue from, and every page is read from that key as the first page is read from the top:
through the list's index when it has one, or by the same top-N sort as the first page when
it has none (the lead list's amount and name orders). A bare ``?page=N`` (an old link, a
typed address) is read with OFFSET up to ``OFFSET_PAGES``; beyond it the view sends the
officer to that page with a notice (``too_deep``), never a slow query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _

# Beyond any list's length (a million pages of 20).
MAX_PAGE_NUMBER = 1_000_000

# A bare ``?page=N`` (an old link) is read with OFFSET up to this page; the pager's own links
# carry a cursor and reach any depth at the cost of the first page.
OFFSET_PAGES = 5

# The parameters that place a page in its list (everything else is a filter the links keep).
PLACE_PARAMS = ("page", "after", "before")


def list_query(params: Any) -> str:
    """The list's filters and sort, without its place in the list (page, cursors)."""
    query = params.copy()
    for name in PLACE_PARAMS:
        query.pop(name, None)
    return str(query.urlencode())


def bounded_count_of_parts(rows: QuerySet[Any], parts: Sequence[Q], limit: int) -> int:
    """``min(count, limit)``-or-more of ``rows``: the sum of each disjoint part's count, each
    taken up to ``limit``, in one query (a part below the limit is exact, so a sum below it
    is too)."""
    pieces = []
    params: list[Any] = []
    for part in parts:
        try:
            sql, part_params = rows.filter(part).values("pk")[:limit].query.sql_with_params()
        except EmptyResultSet:  # a part (or the list: a filter was wrong) that holds nothing
            continue
        pieces.append(f"(SELECT COUNT(*) FROM ({sql}) AS part)")
        params.extend(part_params)
    if not pieces:
        return 0
    with connections[rows.db].cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(pieces), params)
        return int(cursor.fetchone()[0])


class Counted:
    """Rows whose count the selector already knows: Django's Paginator reads ``count()`` from
    here instead of counting the queryset (whose joins, needed for the page's columns, would
    be walked for every row), and slices the queryset for the page."""

    def __init__(self, rows: QuerySet[Any], count: int) -> None:
        self.rows = rows
        self.ordered = rows.ordered
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, item: Any) -> Any:
        return self.rows[item]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


class KeysetPage:
    """One page of a list in its selected order, reached by a cursor.

    ``rows`` is the list ordered by one column and the id as the tie-breaker, ascending or
    descending (``order``, or the queryset's own ``order_by``): ``("-created_at", "-id")``,
    ``("last_activity_on", "id")``. NULLs in the column sort as PostgreSQL sorts them (last
    ascending, first descending), and the cursor follows that order.

    The pager links to the next page with the key of this page's last row (``after``) and to
    the previous one with its first row's (``before``), plus the page number to show. The
    total is counted as the lead list's was: exact up to ``bound`` rows past this page, "n+"
    beyond (``capped``), by disjoint ``parts`` when given (``leads.selectors
    .lead_scope_parts``); a list that knows its total already passes ``count``. Quacks as both
    the page and its paginator for the list templates (``includes/keyset_pager.html``).

    ``invalid``: the cursor could not be read (the first page is shown); ``too_deep``: a bare
    ``?page=N`` past ``OFFSET_PAGES``, nothing was read (``deep_page_redirect``).
    """

    def __init__(
        self,
        rows: QuerySet[Any],
        params: Any,
        *,
        per_page: int,
        order: Sequence[str] | None = None,
        bound: int = 1000,
        parts: Sequence[Q] | None = None,
        count: int | None = None,
    ) -> None:
        order = tuple(
            str(term) for term in (order or rows.query.order_by or rows.model._meta.ordering)
        )
        *columns, tie = order
        if tie.lstrip("-") not in ("id", "pk") or len(columns) > 1:
            raise ValueError(f"KeysetPage needs one column and the id as its order: {order}")
        self.per_page = per_page
        self.paginator = self
        self.invalid = False
        self.too_deep = 0
        self.id_desc = tie.startswith("-")
        self.column = None
        if columns:
            name = columns[0].lstrip("-")
            self.column = (name, columns[0].startswith("-"), rows.model._meta.get_field(name))
        number = params.get("page")
        self.number = min(int(number), MAX_PAGE_NUMBER) if str(number).isdigit() else 1
        self.number = max(self.number, 1)
        after, before = self._key(params.get("after")), self._key(params.get("before"))
        if self.invalid:
            self.number = 1  # the first page, as the notice says
        ordered = rows.order_by(*order)
        if after is None and before is None and self.number > OFFSET_PAGES:
            # A bare deep page: an OFFSET would read every row before it.
            self.too_deep, self.number = self.number, OFFSET_PAGES
            self.object_list, self.count, self.capped, self.bound = [], 0, False, 0
            self.num_pages, self.has_next, self.has_previous = 1, False, False
            self.has_other_pages = False
            self.next_query = self.previous_query = ""
            return
        if after is not None:
            page = list(ordered.filter(self._after(after, reverse=False))[: per_page + 1])
            self.number = max(self.number, 2)
        elif before is not None:
            backwards = rows.order_by(*(_flip(term) for term in order))
            page = list(backwards.filter(self._after(before, reverse=True))[:per_page])[::-1]
            if len(page) < per_page or self.number <= 1:
                # Rows were added or removed above: start again from the top.
                page, self.number = list(ordered[: per_page + 1]), 1
            else:
                page.append(None)  # rows follow: this page's key was after them
        else:
            offset = (self.number - 1) * per_page
            page = list(ordered[offset : offset + per_page + 1])
            if not page and self.number > 1:
                page, self.number = list(ordered[: per_page + 1]), 1
        more = len(page) > per_page
        page = page[:per_page]
        self.object_list = page
        if count is not None:
            ahead = max(count - (self.number - 1) * per_page - len(page), int(more))
            self.capped = False
            self.count = count
        else:
            ahead = 0
            if page:
                beyond = rows.order_by().filter(self._after(self._key_of(page[-1]), reverse=False))
                if parts:
                    ahead = bounded_count_of_parts(beyond, parts, bound + 1)
                else:
                    ahead = beyond[: bound + 1].count()
            self.capped = ahead > bound
            self.count = (self.number - 1) * per_page + len(page) + min(ahead, bound)
        self.bound = self.count  # what "n+" shows when capped
        self.num_pages = max(-(-self.count // per_page), self.number, 1)
        self.has_next = more
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_next or self.has_previous
        self.next_query = (
            urlencode({"after": self._text(page[-1]), "page": str(self.number + 1)}) if page else ""
        )
        previous = {"before": self._text(page[0]), "page": str(self.number - 1)} if page else {}
        self.previous_query = urlencode(previous if self.number > 2 else {"page": "1"})

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    # --- The cursor: "<column value>.<id>", or "<id>" for a list ordered by id alone --------

    def _key(self, text: str | None) -> tuple[Any, int] | None:
        if not text:
            return None
        text = str(text)
        value, _sep, pk = text.rpartition(".") if self.column else ("", "", text)
        try:
            # PostgreSQL refuses a NUL byte in text and an id past bigint: a 500, not a page.
            if not pk.isdigit() or int(pk) >= 2**63 or "\x00" in value:
                raise ValidationError("no id")
            if self.column and not _sep:
                raise ValidationError("no column value")
            if self.column is None:
                return None, int(pk)
            field = self.column[2]
            if value == "" and field.null:
                return None, int(pk)
            parsed = field.to_python(value)
            if parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is None):
                raise ValidationError("no value")
            return parsed, int(pk)
        except (ValidationError, ValueError, TypeError, ArithmeticError):
            self.invalid = True
            return None

    def _key_of(self, row: Any) -> tuple[Any, int]:
        value = getattr(row, self.column[2].attname) if self.column else None
        return value, row.pk

    def _text(self, row: Any) -> str:
        value, pk = self._key_of(row)
        if self.column is None:
            return str(pk)
        if value is None:
            shown = ""
        elif isinstance(value, (date, datetime)):
            shown = value.isoformat()
        elif isinstance(value, Decimal):
            shown = format(value, "f")
        else:
            shown = str(value)
        return f"{shown}.{pk}"

    def _after(self, key: tuple[Any, int], *, reverse: bool) -> Q:
        """Rows after ``key`` in the list's order (``reverse``: before it)."""
        value, pk = key
        id_desc = self.id_desc != reverse
        past_id = Q(pk__lt=pk) if id_desc else Q(pk__gt=pk)
        if self.column is None:
            return past_id
        name, desc, field = self.column
        desc = desc != reverse
        if value is None:
            # NULLs sort last ascending (nothing but NULLs after them) and first descending
            # (every non-NULL after them).
            same = Q(**{f"{name}__isnull": True}) & past_id
            return same | Q(**{f"{name}__isnull": False}) if desc else same
        strict, weak = ("lt", "lte") if desc else ("gt", "gte")
        # "col <= v AND (col < v OR id < pk)": the range on the column reads the index.
        cond = Q(**{f"{name}__{weak}": value}) & (Q(**{f"{name}__{strict}": value}) | past_id)
        if field.null and not desc:
            cond |= Q(**{f"{name}__isnull": True})
        return cond


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"


def deep_page_redirect(request: HttpRequest, page: KeysetPage) -> HttpResponseRedirect:
    """To the deepest page a bare ``?page=N`` opens, with a notice saying how to go further."""
    messages.info(
        request,
        _(
            "无法直接打开第 %(asked)s 页：已显示第 %(shown)s 页。请用“下一页”继续翻，"
            "或用筛选和排序缩小范围。"
        )
        % {"asked": page.too_deep, "shown": OFFSET_PAGES},
    )
    query = list_query(request.GET)
    return HttpResponseRedirect(f"{request.path}?{query + '&' if query else ''}page={OFFSET_PAGES}")
