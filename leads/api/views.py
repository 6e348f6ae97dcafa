"""API of the leads app: investors, intermediaries, promotion events, leads and visits.

Rows come from the visibility selectors; writes call leads.services, so the API and the UI
share every rule. Signing (POST /leads/{id}/sign/) makes a project: projects/api/views.py
serves it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from officers import permissions
from officers.api.feeds import ScopedDeletionFeedMixin
from officers.models import Assignment, Officer
from promo.api.errors import BULK_MAX_ROWS, CONFLICT_MESSAGE, BulkRejected
from promo.api.rows import RowsListMixin
from promo.api.schema import error_responses
from promo.api.serializers import BulkUpsertResultSerializer
from promo.api.viewsets import ScopedViewSet
from promo.core.errors import Conflict, DomainError, PermissionDenied
from promo.core.services import lock_key

from .. import services
from ..filters import (
    IntermediaryFilter,
    InvestorFilter,
    LeadFilter,
    PromotionEventFilter,
    VisitFilter,
)
from ..models import Investor, InvestorContact, Lead
from ..selectors import (
    intermediaries_visible_to,
    investors_visible_to,
    lead_list,
    lead_officer_pk,
    promotion_events_visible_to,
    visits_visible_to,
)
from .serializers import (
    AssignmentWriteSerializer,
    AssistRequestSerializer,
    AssistRequestWriteSerializer,
    IntermediarySerializer,
    InvestorBulkRowSerializer,
    InvestorBulkUpsertSerializer,
    InvestorDetailSerializer,
    InvestorSerializer,
    InvestorUpdateSerializer,
    InvestorUpsertSerializer,
    InvestorWriteSerializer,
    LeadSerializer,
    LeadTransitionSerializer,
    LeadWriteSerializer,
    PromotionEventSerializer,
    VisitSerializer,
    VisitWriteSerializer,
)


class VisibleVisitsInvestorFilter(InvestorFilter):
    """InvestorFilter whose visit* filters look among the visits the caller may see."""

    def __init__(self, *args, request=None, **kwargs):
        user = getattr(request, "user", None)
        visits = visits_visible_to(user) if user is not None else None
        super().__init__(*args, request=request, visits=visits, **kwargs)


class InvestorViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Investors (客商) the caller may see; registering checks for duplicates bureau-wide."""

    scope_model = "leads.investor"  # its feed lists records that left the caller's scope
    read_serializer_class = InvestorSerializer
    write_serializer_class = InvestorWriteSerializer
    filterset_class = VisibleVisitsInvestorFilter
    ordering_fields = ("id", "name", "updated_at")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def visible(self):
        qs = investors_visible_to(self.request.user).select_related("unit")
        if self.action == "retrieve":
            current = InvestorContact.objects.filter(is_archived=False).order_by(
                "-is_primary", "name", "pk"
            )
            qs = qs.prefetch_related(Prefetch("contacts", current, to_attr="current_contacts"))
        return qs

    def get_serializer_class(self):
        if self.action == "partial_update":
            return InvestorUpdateSerializer
        if self.action == "retrieve":
            return InvestorDetailSerializer
        return super().get_serializer_class()

    @extend_schema(
        request=InvestorWriteSerializer,
        responses={201: InvestorSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        _refuse_unless_registers(request.user)
        data = self.validated(InvestorWriteSerializer)
        investor = services.investor_create(actor=request.user, **data)
        return self.read_response(investor, status.HTTP_201_CREATED)

    @extend_schema(
        request=InvestorUpdateSerializer,
        responses={200: InvestorSerializer, **error_responses(400, 403, 409)},
    )
    def partial_update(self, request, *args, **kwargs):
        investor = self.get_object()
        data = self.validated(InvestorUpdateSerializer, partial=True)
        investor = services.investor_update(actor=request.user, investor=investor, **data)
        return self.read_response(investor)

    @extend_schema(
        request=InvestorUpsertSerializer,
        responses={
            200: InvestorSerializer,
            201: InvestorSerializer,
            **error_responses(400, 403, 409),
        },
        parameters=[
            OpenApiParameter("source_system", str, OpenApiParameter.PATH, description="来源系统"),
            OpenApiParameter("external_id", str, OpenApiParameter.PATH, description="外部编号"),
        ],
        description="按 (来源系统, 外部编号) 写入客商：不存在则登记（201），已存在则更新所给字段（200）。"
        "同一记录发送两次只会更新，不会产生第二条。",
    )
    @action(
        detail=False,
        methods=["put"],
        url_path=r"by-external-id/(?P<source_system>[^/]+)/(?P<external_id>[^/]+)",
    )
    def upsert(self, request, source_system: str, external_id: str):
        errors = {}
        if len(source_system) > Investor._meta.get_field("source_system").max_length:
            errors["source_system"] = [_("来源系统过长。")]
        if len(external_id) > Investor._meta.get_field("external_id").max_length:
            errors["external_id"] = [_("外部编号过长。")]
        # PostgreSQL refuses a NUL byte in text: %00 in the path would fail in the query.
        for name, value in (("source_system", source_system), ("external_id", external_id)):
            if "\x00" in value:
                errors.setdefault(name, []).append(_("不能包含空字符（NUL）。"))
        if errors:
            raise ValidationError(errors)
        data = self.validated(InvestorUpsertSerializer)
        investor, created = self._upsert_one(source_system, external_id, data)
        return self.read_response(
            investor, status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def _upsert_one(
        self, source_system: str, external_id: str, data: dict
    ) -> tuple[Investor, bool]:
        """Create through investor_create, or update through investor_update, by external key."""
        # Concurrent callers of one new key queue here, so the first creates the record and
        # the others find it and update it, instead of colliding on the duplicate checks.
        lock_key("investor-external-key", source_system, external_id)
        # Looked up bureau-wide: the external key is unique across units.
        existing = (
            Investor.objects.select_for_update()
            .filter(source_system=source_system, external_id=external_id)
            .first()
        )
        if existing is None:
            investor = services.investor_create(
                actor=self.request.user,
                source_system=source_system,
                external_id=external_id,
                **data,
            )
            return investor, True
        if not self.get_queryset().filter(pk=existing.pk).exists():
            # Outside the caller's scope: the generic conflict, as if a database rule had
            # refused it — never "another unit uses this key" (an existence oracle).
            raise Conflict(CONFLICT_MESSAGE)
        changes = {k: v for k, v in data.items() if k in services.INVESTOR_EDITABLE_FIELDS}
        return services.investor_update(
            actor=self.request.user, investor=existing, **changes
        ), False

    @extend_schema(
        request=InvestorBulkUpsertSerializer,
        responses={200: BulkUpsertResultSerializer, **error_responses(400, 403)},
        description="批量按外部编号写入客商（最多 1000 条），全部成功或全部不写；"
        "有错时返回 400 bulk_rejected，fields 的键形如 rows[3].industry，指明行号与字段。",
    )
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        _refuse_unless_registers(request.user)
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        unknown = set(request.data) - {"rows"} if isinstance(request.data, dict) else set()
        if unknown:
            raise ValidationError({name: [_("未知字段。")] for name in sorted(unknown)})
        if not isinstance(rows, list) or not 1 <= len(rows) <= BULK_MAX_ROWS:
            raise ValidationError(
                {"rows": [_("rows 须为 1 到 %(max)d 条记录的列表。") % {"max": BULK_MAX_ROWS}]}
            )
        context = self.get_serializer_context()
        errors: dict[str, list[str]] = {}
        results = []
        for index, raw in enumerate(rows):
            serializer = InvestorBulkRowSerializer(data=raw, context=context)
            if not serializer.is_valid():
                for field, messages in serializer.errors.items():
                    errors[f"rows[{index}].{field}"] = [str(m) for m in messages]
                continue
            data = dict(serializer.validated_data)
            key = (data.pop("source_system"), data.pop("external_id"))
            try:
                with transaction.atomic():
                    investor, created = self._upsert_one(*key, data)
            except DomainError as exc:
                named = exc.field_errors or {"non_field_errors": [exc.message]}
                for field, messages in named.items():
                    errors[f"rows[{index}].{field}"] = [str(m) for m in messages]
                continue
            results.append({"row": index, "id": investor.pk, "created": created})
        if errors:
            # Raised inside the request's transaction: every row already written rolls back.
            raise BulkRejected(field_errors=errors)
        return Response({"results": results})


def _refuse_unless_registers(officer) -> None:
    """An administrator (三员分立) registers no business record: refused before any row is
    read (the service refuses too, but a bulk call would answer row by row)."""
    if not permissions.may_hold_records(officer):
        raise PermissionDenied(_("管理员不能登记业务记录。"))


class IntermediaryViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Intermediaries (中介人) registered by the caller's units."""

    read_serializer_class = IntermediarySerializer
    filterset_class = IntermediaryFilter
    ordering_fields = ("id", "name", "updated_at")

    def visible(self):
        return intermediaries_visible_to(self.request.user).select_related("unit")


class PromotionEventViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Promotion events (招商活动): public inside the bureau."""

    read_serializer_class = PromotionEventSerializer
    tombstone_unit_field = None  # public inside the bureau, like the events themselves
    filterset_class = PromotionEventFilter
    ordering_fields = ("id", "starts_on", "updated_at")

    def visible(self):
        return (
            promotion_events_visible_to(self.request.user)
            .select_related("organizer")
            .prefetch_related("investors")
        )


class LeadViewSet(RowsListMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Leads (项目信息) the caller may see; status changes are actions, never field writes."""

    rows_by_id = ("intermediary", "event")
    scope_model = "leads.lead"  # its feed lists records that left the caller's scope
    read_serializer_class = LeadSerializer
    write_serializer_class = LeadWriteSerializer
    filterset_class = LeadFilter
    ordering_fields = ("id", "name", "estimated_amount", "created_at", "updated_at")

    def visible(self):
        # The project a signed lead became, named through the reverse relation: projects
        # builds on leads, so leads never imports it.
        signed_as = Lead._meta.get_field("project").related_model.objects
        # The lead list page's base (leads.selectors.lead_list), filtered by the same LeadFilter;
        # the order is the cursor's (?ordering=), not the page's sort.
        return (
            # Three joins, not six: each optional relation joined here multiplied the time
            # PostgreSQL spends planning the page query (≈10 ms at seven tables against ≈1 ms
            # at four, docs/performance.md); the optional ones come by primary key instead.
            lead_list(self.request.user)
            .prefetch_related(
                "intermediary",
                "event",
                # A list per lead (to_attr): a related manager per lead would clone the
                # queryset, select_related included, fifty times a page.
                Prefetch(
                    "assignments",
                    queryset=Assignment.objects.select_related("officer").order_by("pk"),
                    to_attr="prefetched_assignments",
                ),
            )
            .annotate(
                project_pk=Subquery(signed_as.filter(lead=OuterRef("pk")).values("pk")),
                # The 主办, for allowed_transitions: asked with the page, not once per lead.
                lead_officer_pk=lead_officer_pk(),
            )
        )

    @extend_schema(
        request=LeadWriteSerializer,
        responses={201: LeadSerializer, **error_responses(400, 403, 409)},
        description="登记项目信息。另一单位在跟进该投资方时返回 409 held_elsewhere（防撞单）；"
        "本单位已有该投资方在跟进的项目信息时返回 409 duplicate_in_unit，附 lead（本单位最新的"
        "在跟进项目信息编号）、lead_name、holder、status、since：如确属另一个项目，"
        "带 confirm_duplicate=lead 重新提交。",
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(LeadWriteSerializer)
        lead = services.lead_create(actor=request.user, **data)
        return self.read_response(lead, status.HTTP_201_CREATED)

    @extend_schema(
        request=LeadTransitionSerializer,
        responses={200: LeadSerializer, **error_responses(400, 403, 404, 409)},
        description="状态流转：有效、在谈、放弃（须填 reason）、否决（须填 reject_reason）。"
        "状态表不允许的流转返回 409 transition_not_allowed，且不做任何修改。",
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        lead = self.get_object()
        data = self.validated(LeadTransitionSerializer)
        lead = services.lead_transition(lead=lead, actor=request.user, **data)
        return self.read_response(lead)

    @extend_schema(
        request=AssignmentWriteSerializer,
        responses={200: LeadSerializer, **error_responses(400, 403, 404)},
        description="分工：把干部加为主办或协办（每条项目信息只有一名主办）。",
    )
    @action(detail=True, methods=["post"])
    def assignments(self, request, pk=None):
        lead = self.get_object()
        data = self.validated(AssignmentWriteSerializer)
        services.assignment_add(actor=request.user, lead=lead, **data)
        return self.read_response(lead)

    @extend_schema(
        request=AssistRequestWriteSerializer,
        responses={201: AssistRequestSerializer, **error_responses(400, 403, 404, 409)},
        description="申请协办：只提交申请，由该项目信息所在单位负责人或局领导审批，并通知其主办人；"
        "批准前不授予任何权限。看不到的项目信息，须提交查重时找到其客商的名称"
        "（name、name_en 或 credit_code，见 409 duplicate_suspected 的 open_leads），否则 404。"
        "重复申请返回同一条待审批的申请。",
    )
    @action(detail=True, methods=["post"], url_path="assist-request")
    def assist_request(self, request, pk=None):
        # Not get_object(): the lead is another unit's, outside the caller's rows. The service
        # decides whether the caller knows its investor; if not, a 404 as for any unseen row.
        lead = Lead.objects.filter(pk=int(pk)).first() if str(pk).isdigit() else None
        if lead is None:
            raise NotFound()
        data = self.validated(AssistRequestWriteSerializer)
        try:
            assist = services.lead_assist_request(
                lead=lead,
                actor=request.user,
                known_name=data["name"],
                known_name_en=data["name_en"],
                known_credit_code=data["credit_code"],
            )
        except PermissionDenied as exc:
            raise NotFound() from exc
        return Response(AssistRequestSerializer(assist).data, status=status.HTTP_201_CREATED)


class VisitViewSet(RowsListMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Visits (走访记录) the caller may see."""

    rows_by_id = ("event",)
    scope_model = "leads.visit"  # its feed lists records that left the caller's scope
    read_serializer_class = VisitSerializer
    write_serializer_class = VisitWriteSerializer
    filterset_class = VisitFilter
    ordering_fields = ("id", "visited_on", "updated_at")

    def visible(self):
        return (
            visits_visible_to(self.request.user)
            # The optional event by primary key: one join fewer halves the planning time.
            .select_related("investor", "lead", "unit", "created_by")
            .prefetch_related(
                "event",
                # Into a list: a related manager per visit filters a queryset clone each.
                Prefetch("officers", queryset=Officer.objects.all(), to_attr="prefetched_officers"),
            )
        )

    @extend_schema(
        request=VisitWriteSerializer,
        responses={201: VisitSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(VisitWriteSerializer)
        visit = services.visit_log(actor=request.user, **data)
        # The busiest write of all (a sync posts a day's visits): answered from the row as
        # written — its investor, lead, event, unit and author are the objects it was saved
        # with — plus one read of the officers present, instead of reading it all again
        # through the scope (tests/api check the answer equals a GET of the new visit).
        visit.prefetched_officers = list(Officer.objects.filter(visits=visit))
        return self.written_response(visit, status.HTTP_201_CREATED)
