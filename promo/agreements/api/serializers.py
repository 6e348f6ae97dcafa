"""Serializers of the agreements app's API: an agreement with its terms (status computed as of
today), the bureau's promises and the incentive requests; a measured value written by a system
that holds the figure (the tax office's, the statistics bureau's)."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from officers.api.serializers import OfficerRefSerializer
from promo.api.rows import Among, FromBatch, FromColumns, Nested
from promo.api.serializers import FieldsMixin, RefSerializer, WriteSerializer
from promo.core.services import today

from ..choices import Payment, PromiseStatus, RequestStatus, TermStatus
from ..models import Agreement, IncentiveRequest, Measurement, Promise, Term
from ..selectors import (
    promises_with_status,
    promises_with_stored_status,
    terms_with_status,
    terms_with_stored_status,
)

_SYNC_FIELDS = ["source_system", "external_id", "created_at", "updated_at"]


class MeasurementSerializer(serializers.ModelSerializer):
    """A measured value (实测值); it counts once ``verified_at`` is set (by another person)."""

    recorded_by = OfficerRefSerializer(read_only=True, help_text="填报人")
    verified_by = OfficerRefSerializer(read_only=True, allow_null=True, help_text="核实人")

    class Meta:
        model = Measurement
        fields = [
            "id",
            "measured_on",
            "value",
            "source",
            "recorded_by",
            "recorded_at",
            "verified_by",
            "verified_at",
        ]


class _Statuses(NamedTuple):
    """The reads of a day's commitments and promises by agreement, ordered as the agreement
    shows them: with the statuses computed (``terms``, ``promises``) and as the agreements'
    states stored them (``stored_*``)."""

    terms: Among
    promises: Among
    stored_terms: Among
    stored_promises: Among


@functools.lru_cache(maxsize=2)
def _statuses_on(day: date) -> _Statuses:
    """Built once a day: building the promises' status expressions (their conditions' and
    their agreement's terms' statuses, nested) took 10 ms of a 50-row page at county scale;
    each read is then compiled once per set of columns (``Among``)."""
    terms = Term.objects.order_by("due_on", "id")
    promises = Promise.objects.order_by("due_on", "id")
    return _Statuses(
        Among(terms_with_status(terms, day), "agreement_id"),
        Among(promises_with_status(promises, day), "agreement_id"),
        Among(terms_with_stored_status(terms, day), "agreement_id"),
        Among(promises_with_stored_status(promises, day), "agreement_id"),
    )


def _stored_or_live(
    stored: Among, live: Among, agreement_ids: list[int], columns: list[str]
) -> list[dict[str, Any]]:
    """The rows of the agreements' commitments (or promises) with the statuses their states
    stored for today; an agreement whose state is not of today (a write since, a night the
    refresh missed, a row added since) has its rows read again with the statuses computed.
    Each agreement's rows come from one statement, in the agreement's order."""
    rows = stored.values(agreement_ids, columns)
    stale = {row["agreement_id"] for row in rows if row["status"] is None}
    if not stale:
        return rows
    kept = [row for row in rows if row["agreement_id"] not in stale]
    return kept + live.values(stale, columns)


def _term_rows(agreement_ids: list[int], columns: list[str]) -> list[dict[str, Any]]:
    statuses = _statuses_on(today())
    return _stored_or_live(statuses.stored_terms, statuses.terms, agreement_ids, columns)


def _promise_rows(agreement_ids: list[int], columns: list[str]) -> list[dict[str, Any]]:
    statuses = _statuses_on(today())
    return _stored_or_live(statuses.stored_promises, statuses.promises, agreement_ids, columns)


_MEASUREMENTS = Among(Measurement.objects.order_by("measured_on", "id"), "term_id")
_REQUESTS = Among(IncentiveRequest.objects.order_by("id"), "promise__agreement_id")
_CONDITIONS = Among(
    Promise.conditions.through.objects.order_by("promise_id", "term_id"), "promise_id"
)


def _conditions_of(promise_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for row in _CONDITIONS.values(promise_ids, ("promise_id", "term_id")):
        found.setdefault(row["promise_id"], []).append(row["term_id"])
    return found


class TermSerializer(serializers.ModelSerializer):
    """An investor's commitment (投资方承诺), its status as of ``status_on``."""

    status = serializers.ChoiceField(
        choices=TermStatus.choices, read_only=True, help_text="履约状态（按当日计算）"
    )
    value_at_due = serializers.DecimalField(
        source="due_value", max_digits=14, decimal_places=2, read_only=True, allow_null=True,
        help_text="期限内最后一次核实的实测值",
    )  # fmt: skip
    measurements = MeasurementSerializer(
        source="prefetched_measurements", many=True, read_only=True
    )

    # How the agreements list reads them without instances (promo.api.rows).
    list_rows = {"measurements": Nested(MeasurementSerializer, "term_id", _MEASUREMENTS.values)}

    class Meta:
        model = Term
        fields = ["id", "metric", "target", "due_on", "status", "value_at_due", "waived_reason", "waived_at",
                  "measurements", *_SYNC_FIELDS]  # fmt: skip


class PromiseSerializer(serializers.ModelSerializer):
    """A bureau promise (政府承诺事项): an incentive tranche, land, an approval, infrastructure."""

    status = serializers.ChoiceField(
        choices=PromiseStatus.choices, read_only=True, help_text="兑现状态（按当日计算）"
    )
    clawback_due = serializers.BooleanField(read_only=True, help_text="应追回")
    payment = serializers.ChoiceField(choices=Payment.choices, read_only=True)
    owner_unit = RefSerializer(read_only=True, help_text="责任单位")
    conditions = serializers.SerializerMethodField(help_text="兑现条件（投资方承诺编号）")

    list_rows = {"conditions": FromBatch(_conditions_of)}

    class Meta:
        model = Promise
        fields = ["id", "kind", "description", "owner_unit", "due_on", "delivered_on", "amount", "conditions",
                  "status", "payment", "paid_amount", "clawed_back_amount", "clawback_due", *_SYNC_FIELDS]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_conditions(self, promise: Promise) -> list[int]:
        return sorted(term.pk for term in promise.conditions.all())


class IncentiveRequestSerializer(serializers.ModelSerializer):
    """A request to pay, withhold or claw back a tranche, and its decision (four eyes)."""

    status = serializers.ChoiceField(choices=RequestStatus.choices, read_only=True)
    requested_by = OfficerRefSerializer(read_only=True)
    decided_by = OfficerRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = IncentiveRequest
        fields = ["id", "promise", "action", "amount", "reason", "basis", "status", "requested_by", "requested_at",
                  "decided_by", "decided_at", "decision_note"]  # fmt: skip


class AgreementSerializer(FieldsMixin, serializers.ModelSerializer):
    """An investment agreement (投资协议) with both sides' commitments. Statuses are computed as
    of ``status_on`` (today): a mirror re-reads or recomputes them daily, since a due date
    passing changes a status without changing ``updated_at``."""

    project = RefSerializer(read_only=True, help_text="项目")
    created_by = OfficerRefSerializer(read_only=True, help_text="登记人")
    terms = TermSerializer(source="prefetched_terms", many=True, read_only=True)
    promises = PromiseSerializer(source="prefetched_promises", many=True, read_only=True)
    requests = serializers.SerializerMethodField(help_text="政策兑现审批")
    status_on = serializers.SerializerMethodField(help_text="状态的计算日期")

    # The list endpoint's rows (promo.api.rows, decision 0004): the page's commitments, promises
    # and requests one query each, read as columns and built by their serializers' plans; the
    # commitments' and promises' statuses as the agreements' states stored them for today.
    list_rows = {
        "terms": Nested(TermSerializer, "agreement_id", _term_rows),
        "promises": Nested(PromiseSerializer, "agreement_id", _promise_rows),
        "requests": Nested(IncentiveRequestSerializer, "promise__agreement_id", _REQUESTS.values),
        "status_on": FromColumns((), lambda row: today().isoformat()),
    }

    class Meta:
        model = Agreement
        fields = ["id", "project", "kind", "title", "signed_on", "parties", "clawback_rule", "created_by", "terms",
                  "promises", "requests", "status_on", *_SYNC_FIELDS]  # fmt: skip

    @extend_schema_field(IncentiveRequestSerializer(many=True))
    def get_requests(self, agreement: Agreement) -> list[dict[str, Any]]:
        rows = [r for promise in agreement.prefetched_promises for r in promise.prefetched_requests]  # type: ignore[attr-defined]
        return IncentiveRequestSerializer(sorted(rows, key=lambda r: r.pk), many=True).data  # type: ignore[return-value]

    @extend_schema_field(serializers.DateField())
    def get_status_on(self, agreement: Agreement) -> str:
        return today().isoformat()

    @staticmethod
    def optimise(queryset: QuerySet[Agreement]) -> QuerySet[Agreement]:
        """Everything a rendered agreement needs, in a fixed number of queries."""
        return queryset.select_related("project", "created_by").prefetch_related(
            Prefetch(
                "terms",
                queryset=terms_with_status(Term.objects.order_by("due_on", "id")).prefetch_related(
                    Prefetch(
                        "measurements",
                        queryset=Measurement.objects.select_related(
                            "recorded_by", "verified_by"
                        ).order_by("measured_on", "id"),
                        to_attr="prefetched_measurements",
                    )
                ),
                to_attr="prefetched_terms",
            ),
            Prefetch(
                "promises",
                queryset=promises_with_status(Promise.objects.order_by("due_on", "id"))
                .select_related("owner_unit")
                .prefetch_related(
                    "conditions",
                    Prefetch(
                        "requests",
                        queryset=IncentiveRequest.objects.select_related(
                            "requested_by", "decided_by"
                        ),
                        to_attr="prefetched_requests",
                    ),
                ),
                to_attr="prefetched_promises",
            ),
        )


class MeasurementWriteSerializer(WriteSerializer):
    """A measured value of one of the agreement's commitments, with its source. It counts once
    a person other than the caller's officer verifies it on the agreement page."""

    term = serializers.IntegerField(help_text="投资方承诺编号（本协议的）")
    value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))

    class Meta:
        model = Measurement
        fields = ["term", "measured_on", "value", "source"]
