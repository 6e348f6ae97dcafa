"""Serializers of the leads app's API: read shapes apart from write shapes.

Write serializers only check the shape of the input (types, lengths, choices, ids the caller
may see); the services in leads.services apply the rules and write.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from officers import permissions
from officers.api.serializers import OfficerRefSerializer
from officers.choices import AssignmentRole
from officers.models import DISPLAY_NAME_FIELDS, Assignment, officer_display_name
from officers.selectors import officers_visible_to, units_visible_to
from promo.api.models import ApiClient
from promo.api.rows import FromBatch, FromColumns
from promo.api.serializers import (
    ActionSerializer,
    FieldsMixin,
    RefSerializer,
    VisiblePrimaryKeyRelatedField,
    WriteSerializer,
)
from promo.core.masking import announce_reveal, mask

from ..choices import AssistRequestStatus, LeadStatus, RejectReason
from ..models import Intermediary, Investor, InvestorContact, Lead, PromotionEvent, Visit
from ..selectors import (
    allowed_transitions,
    intermediaries_visible_to,
    investors_of_own_units,
    investors_visible_to,
    leads_visible_to,
    promotion_events_visible_to,
)

_SYNC_FIELDS = ["source_system", "external_id", "created_at", "updated_at"]


class MaskedPersonalDataMixin:
    """Phone numbers, e-mail and WeChat ids masked on read (个人信息, issue #16), by the one
    function the pages use. In full only to an API client granted ``reads_personal_data``,
    for the records its officer may reveal; each such read is announced and logged."""

    personal_fields: dict[str, str] = {}  # field -> masking kind

    def may_reveal(self, officer: Any, instance: Any) -> bool:
        raise NotImplementedError

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        present = [name for name in self.personal_fields if name in data]
        if not present:
            return data
        request = self.context.get("request")  # type: ignore[attr-defined]
        client = getattr(request, "auth", None)
        if (
            isinstance(client, ApiClient)
            and client.reads_personal_data
            and self.may_reveal(client.officer, instance)
        ):
            announce_reveal(
                officer=client.officer,
                obj=instance,
                fields=present,
                reason=f"api:{client.name}",
                request=request,
            )
            return data
        for name in present:
            data[name] = mask(data[name], self.personal_fields[name])
        return data


# --- Investors --------------------------------------------------------------------------------


class InvestorSerializer(FieldsMixin, serializers.ModelSerializer):
    """Investor (客商): the company, its flags and the unit that registered it."""

    unit = RefSerializer(read_only=True, help_text="登记单位")

    class Meta:
        model = Investor
        fields = [
            "id",
            "name",
            "name_en",
            "credit_code",
            "kind",
            "region",
            "province_or_country",
            "city",
            "industry",
            "is_fortune_global_500",
            "is_china_top_500",
            "is_central_soe",
            "is_listed",
            "website",
            "notes",
            "unit",
            *_SYNC_FIELDS,
        ]


class InvestorContactSerializer(MaskedPersonalDataMixin, serializers.ModelSerializer):
    """A current contact (联系人) of an investor; removed ones stay in the history only. Its
    phone, e-mail and WeChat id are masked (``MaskedPersonalDataMixin``)."""

    personal_fields = {"phone": "phone", "email": "email", "wechat": "wechat"}

    def may_reveal(self, officer: Any, instance: Any) -> bool:
        # Asked once per investor and client, not per contact (the predicate reads the leads).
        cache = self.context.setdefault("_may_reveal_contacts", {})
        if instance.investor_id not in cache:
            cache[instance.investor_id] = permissions.may_reveal_contact_details(officer, instance)
        return bool(cache[instance.investor_id])

    class Meta:
        model = InvestorContact
        fields = [
            "id",
            "name",
            "title",
            "phone",
            "email",
            "wechat",
            "note",
            "is_primary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvestorDetailSerializer(InvestorSerializer):
    """One investor (``GET /investors/{id}/``): its details and its current contacts."""

    contacts = InvestorContactSerializer(
        many=True, read_only=True, source="current_contacts", help_text="联系人"
    )

    class Meta(InvestorSerializer.Meta):
        fields = [*InvestorSerializer.Meta.fields, "contacts"]


# An investor's own details, as leads.services.investor_create/investor_update take them;
# one list for the create and the edit serializer (and the order of the schema's fields).
INVESTOR_DETAIL_FIELDS = (
    "name",
    "name_en",
    "credit_code",
    "kind",
    "region",
    "province_or_country",
    "city",
    "industry",
    "is_fortune_global_500",
    "is_china_top_500",
    "is_central_soe",
    "is_listed",
    "website",
    "notes",
)


class InvestorWriteSerializer(WriteSerializer):
    """Register an investor (登记客商); a likely duplicate is refused with code duplicate_suspected."""

    unit = VisiblePrimaryKeyRelatedField(
        units_visible_to, required=False, help_text="登记单位；缺省为本人所在单位"
    )
    confirm_distinct = serializers.BooleanField(
        default=False,
        help_text="名称相近的客商已存在时，确认这是另一家企业（信用代码相同时仍会拒绝）。",
    )

    class Meta:
        model = Investor
        fields = [
            *INVESTOR_DETAIL_FIELDS,
            "unit",
            "confirm_distinct",
            "source_system",
            "external_id",
        ]
        validators: list[Any] = []


class InvestorUpdateSerializer(WriteSerializer):
    """Edit an investor's details (PATCH); every change is kept in the history."""

    class Meta:
        model = Investor
        fields = list(INVESTOR_DETAIL_FIELDS)
        validators: list[Any] = []


class InvestorUpsertSerializer(InvestorWriteSerializer):
    """Write an investor by its external key; the key comes from the URL, not the body."""

    class Meta(InvestorWriteSerializer.Meta):
        fields = [
            f
            for f in InvestorWriteSerializer.Meta.fields
            if f not in ("source_system", "external_id")
        ]


class InvestorBulkRowSerializer(InvestorWriteSerializer):
    """One row of a bulk upsert: the external key is required."""

    class Meta(InvestorWriteSerializer.Meta):
        extra_kwargs = {
            "source_system": {"required": True, "allow_blank": False},
            "external_id": {"required": True, "allow_blank": False},
        }


class InvestorBulkUpsertSerializer(ActionSerializer):
    """Up to 1,000 investors written by external key, all or nothing."""

    rows = InvestorBulkRowSerializer(many=True, help_text="1–1000 条客商记录")


# --- Intermediaries and promotion events ------------------------------------------------------


class IntermediarySerializer(MaskedPersonalDataMixin, FieldsMixin, serializers.ModelSerializer):
    """Intermediary (中介人/招商顾问); phone and e-mail masked (``MaskedPersonalDataMixin``)."""

    personal_fields = {"phone": "phone", "email": "email"}

    def may_reveal(self, officer: Any, instance: Any) -> bool:
        return permissions.may_reveal_intermediary_details(officer, instance)

    unit = RefSerializer(read_only=True, help_text="登记单位")

    class Meta:
        model = Intermediary
        fields = [
            "id",
            "name",
            "kind",
            "organization",
            "phone",
            "email",
            "notes",
            "unit",
            *_SYNC_FIELDS,
        ]


class PromotionEventSerializer(FieldsMixin, serializers.ModelSerializer):
    """Promotion event (招商活动/推介会)."""

    organizer = RefSerializer(read_only=True, help_text="主办单位")
    investors: serializers.PrimaryKeyRelatedField[Investor] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="洽谈客商编号"
    )

    class Meta:
        model = PromotionEvent
        fields = [
            "id",
            "name",
            "city",
            "venue",
            "starts_on",
            "ends_on",
            "organizer",
            "investors",
            "description",
            *_SYNC_FIELDS,
        ]


# --- Leads ------------------------------------------------------------------------------------


class AssignmentSerializer(serializers.Serializer):
    """An officer on the lead or project: 主办 (lead), 协办 (assisting) or 挂钩领导 (leader)."""

    officer = OfficerRefSerializer(read_only=True)
    role = serializers.CharField(
        read_only=True, help_text="lead 主办 / assisting 协办 / leader 挂钩领导"
    )


def assignments_by(key: str, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """AssignmentSerializer's rows of each lead (key "lead_id") or project, in assignment order."""
    found: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Assignment.objects.filter(**{f"{key}__in": ids})
        .order_by("pk")
        .values_list(key, "officer_id", "role", *(f"officer__{c}" for c in DISPLAY_NAME_FIELDS))
    )
    for owner, officer_id, role, *name in rows:
        found.setdefault(owner, []).append(
            {"officer": {"id": officer_id, "name": officer_display_name(*name)}, "role": role}
        )
    return found


def assignment_rows(owner: Any) -> list[dict[str, Any]]:
    """AssignmentSerializer's rows of one lead or project, in assignment order: from the
    list ``optimise``/``visible`` prefetched, else one query. Built directly: a nested
    serializer per row of a page would deep-copy its fields fifty times."""
    rows = getattr(owner, "prefetched_assignments", None)
    if rows is None:
        rows = owner.assignments.select_related("officer").order_by("pk")
    return [
        {"officer": {"id": a.officer_id, "name": a.officer.display_name}, "role": a.role}
        for a in rows
    ]


def _visit_officers(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The officers present at each visit, as OfficerRefSerializer rows, in Officer order."""
    found: dict[int, list[dict[str, Any]]] = {}
    rows = (
        Visit.officers.through.objects.filter(visit_id__in=ids)
        .order_by("officer__unit__path", "officer__username")
        .values_list("visit_id", "officer_id", *(f"officer__{c}" for c in DISPLAY_NAME_FIELDS))
    )
    for visit_id, officer_id, *name in rows:
        found.setdefault(visit_id, []).append(
            {"id": officer_id, "name": officer_display_name(*name)}
        )
    return found


def viewer_of(serializer: serializers.Field) -> Any:
    """The officer a rendering is for: the request's user; None without a request (nobody,
    who may do nothing)."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _transitions_of_row(row: dict[str, Any], viewer: Any) -> list[str]:
    """``allowed_transitions`` of a list row: its columns stand in for the lead."""
    if viewer is None:
        return []
    lead = SimpleNamespace(
        pk=row["id"],
        status=row["status"],
        unit_id=row["unit_id"],
        lead_officer_pk=row["lead_officer_pk"],
    )
    return allowed_transitions(viewer, lead)


class LeadSerializer(FieldsMixin, serializers.ModelSerializer):
    """Lead (项目信息): a possible investment, its status and the dates of its lifecycle."""

    investor = RefSerializer(read_only=True, help_text="投资方")
    unit = RefSerializer(read_only=True, help_text="责任单位")
    created_by = OfficerRefSerializer(read_only=True, help_text="信息提供人")
    intermediary = RefSerializer(read_only=True, allow_null=True, help_text="中介人")
    event = RefSerializer(read_only=True, allow_null=True, help_text="来源活动")
    assignments = serializers.SerializerMethodField(help_text="分工")
    allowed_transitions = serializers.SerializerMethodField(
        help_text="调用者现在可以把它流转到的状态：状态表允许、且调用者有权办理的"
        "（签约须为主办人、本单位负责人或局领导，其他变更须为本单位干部或局领导）。"
        "签约请用 /sign/。"
    )
    project = serializers.SerializerMethodField(help_text="签约后生成的项目编号")

    # How the list endpoint reads the method fields without instances (promo.api.rows); the
    # view annotates project_pk.
    list_rows = {
        "allowed_transitions": FromColumns(
            ("status", "unit_id", "lead_officer_pk"), _transitions_of_row, for_viewer=True
        ),
        "assignments": FromBatch(lambda ids: assignments_by("lead_id", ids)),
        "project": FromColumns(("project_pk",), lambda row: row["project_pk"]),
    }

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "investor",
            "unit",
            "created_by",
            "industry",
            "chain_role",
            "estimated_amount",
            "estimated_fdi",
            "source_channel",
            "intermediary",
            "event",
            "description",
            "status",
            "allowed_transitions",
            "status_changed_at",
            "drop_reason",
            "reject_reason",
            "qualified_on",
            "negotiating_on",
            "signed_on",
            "closed_on",
            "first_contact_on",
            "first_inspection_on",
            "last_activity_on",
            "assignments",
            "project",
            *_SYNC_FIELDS,
        ]

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=LeadStatus.choices))
    )
    def get_allowed_transitions(self, lead: Lead) -> list[str]:
        viewer = viewer_of(self)
        return [] if viewer is None else allowed_transitions(viewer, lead)

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, lead: Lead) -> list[dict[str, Any]]:
        return assignment_rows(lead)

    @extend_schema_field(OpenApiTypes.INT)
    def get_project(self, lead: Lead) -> int | None:
        if hasattr(lead, "project_pk"):
            return lead.project_pk
        try:
            project = lead.project
        except ObjectDoesNotExist:
            return None
        return project.pk if project is not None else None


class LeadWriteSerializer(WriteSerializer):
    """Register a lead (登记项目信息) in status 信息; the caller becomes its 主办."""

    investor = VisiblePrimaryKeyRelatedField(
        investors_visible_to, first_try=investors_of_own_units, help_text="投资方编号"
    )
    unit = VisiblePrimaryKeyRelatedField(
        units_visible_to, required=False, help_text="责任单位；缺省为本人所在单位"
    )
    intermediary = VisiblePrimaryKeyRelatedField(
        intermediaries_visible_to, required=False, allow_null=True, help_text="中介人编号"
    )
    event = VisiblePrimaryKeyRelatedField(
        promotion_events_visible_to, required=False, allow_null=True, help_text="来源活动编号"
    )
    confirm_duplicate = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="本单位已有该投资方在跟进的项目信息时必填：填 409 duplicate_in_unit 返回的 lead"
        "（本单位在该投资方最新的在跟进项目信息编号），确认确属另一个项目。"
        "所填已不是最新的在跟进项目信息时再次返回 409。",
    )

    class Meta:
        model = Lead
        fields = [
            "investor",
            "name",
            "industry",
            "source_channel",
            "chain_role",
            "estimated_amount",
            "estimated_fdi",
            "description",
            "unit",
            "intermediary",
            "event",
            "first_contact_on",
            "source_system",
            "external_id",
            "confirm_duplicate",
        ]
        validators: list[Any] = []


# Signing creates a project, so it has its own action (/sign/); transition refuses it.
TRANSITION_TARGETS = [(s.value, s.label) for s in LeadStatus if s != LeadStatus.SIGNED]


class LeadTransitionSerializer(ActionSerializer):
    """Move a lead along its lifecycle: valid, negotiating, dropped (reason) or rejected (red line)."""

    to_status = serializers.ChoiceField(choices=TRANSITION_TARGETS, help_text="目标状态")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="放弃原因（放弃时必填）",
    )
    reject_reason = serializers.ChoiceField(
        choices=RejectReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="否决原因（否决时必填）",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text="备注"
    )
    on_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="生效日期，缺省为今天"
    )


def assignable_officers(officer: Any) -> Any:
    """Any active officer may be put on a record: 协办 across units is the point of it."""
    from officers.models import Officer

    if not getattr(officer, "is_authenticated", False):
        return Officer.objects.none()
    return Officer.objects.filter(is_active=True)


class AssignmentWriteSerializer(ActionSerializer):
    """Put an officer on a lead or project as 主办 (lead), 协办 (assisting) or 挂钩领导 (leader)."""

    officer = VisiblePrimaryKeyRelatedField(assignable_officers, help_text="干部编号")
    role = serializers.ChoiceField(
        choices=AssignmentRole.choices,
        help_text="lead 主办 / assisting 协办 / leader 挂钩领导（仅项目）",
    )


class AssistRequestWriteSerializer(ActionSerializer):
    """Ask to join a lead as 协办 (申请协办): the investor's name as the duplicate check found it.

    A lead the caller cannot see is accepted only if these names find its investor, the way
    ``409 duplicate_suspected`` named it (with the lead under ``open_leads``).
    """

    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="客商名称"
    )
    name_en = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="", help_text="英文名称"
    )
    credit_code = serializers.CharField(
        required=False, allow_blank=True, max_length=30, default="", help_text="统一社会信用代码"
    )


class AssistRequestSerializer(serializers.Serializer):
    """A request to join a lead as 协办, for the holding unit's head (or a 局领导) to decide."""

    id = serializers.IntegerField(read_only=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True, help_text="项目信息编号")
    status = serializers.ChoiceField(
        choices=AssistRequestStatus.choices,
        read_only=True,
        help_text="open 待审批 / approved 已同意 / refused 未同意",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="申请时间")


# --- Visits -----------------------------------------------------------------------------------


class VisitSerializer(FieldsMixin, serializers.ModelSerializer):
    """Visit (拜访/接待/考察/洽谈): one contact with an investor."""

    investor = RefSerializer(read_only=True, help_text="客商")
    lead = RefSerializer(read_only=True, allow_null=True, help_text="推进的项目信息")
    event = RefSerializer(read_only=True, allow_null=True, help_text="所属活动")
    unit = RefSerializer(read_only=True, help_text="登记单位")
    created_by = OfficerRefSerializer(read_only=True, help_text="登记人")
    officers = serializers.SerializerMethodField(help_text="参加人员")

    list_rows = {"officers": FromBatch(_visit_officers)}

    class Meta:
        model = Visit
        fields = [
            "id",
            "kind",
            "visited_on",
            "investor",
            "lead",
            "event",
            "unit",
            "created_by",
            "officers",
            "city",
            "summary",
            "next_step",
            "next_step_due",
            *_SYNC_FIELDS,
        ]

    @extend_schema_field(OfficerRefSerializer(many=True))
    def get_officers(self, visit: Visit) -> list[dict[str, Any]]:
        people = getattr(visit, "prefetched_officers", None)
        if people is None:
            people = visit.officers.all()
        # OfficerRefSerializer's shape, built directly (no nested serializer per visit).
        return [{"id": person.pk, "name": person.display_name} for person in people]


class VisitWriteSerializer(WriteSerializer):
    """Log a visit (登记走访); the caller is always among the officers present."""

    investor = VisiblePrimaryKeyRelatedField(
        investors_visible_to, first_try=investors_of_own_units, help_text="客商编号"
    )
    lead = VisiblePrimaryKeyRelatedField(
        leads_visible_to, required=False, allow_null=True, help_text="推进的项目信息编号"
    )
    event = VisiblePrimaryKeyRelatedField(
        promotion_events_visible_to, required=False, allow_null=True, help_text="所属活动编号"
    )
    officers = VisiblePrimaryKeyRelatedField(
        officers_visible_to, many=True, required=False, help_text="其他参加人员编号"
    )

    class Meta:
        model = Visit
        fields = [
            "kind",
            "visited_on",
            "investor",
            "lead",
            "event",
            "officers",
            "city",
            "summary",
            "next_step",
            "next_step_due",
            "source_system",
            "external_id",
        ]
        validators: list[Any] = []
