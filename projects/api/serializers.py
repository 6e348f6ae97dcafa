"""Serializers of the projects app's API: read shapes apart from write shapes.

Write serializers only check the shape of the input; projects.services applies the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leads.api.serializers import (
    AssignmentSerializer,
    assignment_rows,
    assignments_by,
    viewer_of,
)
from leads.models import Lead
from leads.selectors import investors_of_own_units, investors_visible_to
from officers.api.serializers import OfficerRefSerializer
from officers.models import Assignment, Unit
from officers.selectors import officers_visible_to, units_visible_to
from promo.api.rows import FromBatch, FromColumns, RowPlan
from promo.api.serializers import (
    ActionSerializer,
    FieldsMixin,
    RefSerializer,
    VisiblePrimaryKeyRelatedField,
    WriteSerializer,
)

from ..choices import MILESTONE_ORDER, Milestone, ParkKind, Stage
from ..models import (
    STAGE_DATE_COLUMNS,
    EvidenceKind,
    InvestmentProgress,
    Problem,
    Project,
    ServiceVisit,
    actual_date_in,
    completion_rate_of,
    planned_date_in,
)
from ..selectors import allowed_stages, lead_officer_pk, projects_visible_to

_SYNC_FIELDS = ["source_system", "external_id", "created_at", "updated_at"]
_MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class StageSerializer(serializers.Serializer):
    """One milestone: its planned date (倒排节点) and its actual date."""

    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)
    planned = serializers.DateField(read_only=True, allow_null=True, help_text="计划日期")
    actual = serializers.DateField(read_only=True, allow_null=True, help_text="实际日期")


class ProgressSerializer(FieldsMixin, serializers.ModelSerializer):
    """Monthly investment progress (月度投资进度): figures to date."""

    reported_by = OfficerRefSerializer(read_only=True, help_text="填报人")

    class Meta:
        model = InvestmentProgress
        fields = [
            "id",
            "month",
            "agreed_investment",
            "paid_in",
            "fixed_asset_investment",
            "arrived_fdi",
            "note",
            "reported_by",
            "updated_at",
        ]


def _stages_of_row(row: dict[str, Any], viewer: Any) -> list[str]:
    """``allowed_stages`` of a list row: its columns stand in for the project."""
    if viewer is None:
        return []
    project = SimpleNamespace(
        pk=row["id"],
        stage=row["stage"],
        unit_id=row["unit_id"],
        lead_officer_pk=row["lead_officer_pk"],
    )
    return allowed_stages(viewer, project)


def _stages(column: Callable[[str], Any]) -> list[dict[str, Any]]:
    """StageSerializer's rows, ``column(name)`` giving a project's column (projects.models)."""
    return [
        {
            "stage": stage.value,
            "planned": planned_date_in(column, stage),
            "actual": actual_date_in(column, stage),
        }
        for stage in Stage
    ]


def _completion_rate(row: dict[str, Any]) -> Any:
    """The declared field's rendering of the model's completion rate, from the row's columns."""
    rate = completion_rate_of(row["invested_to_date"], row["total_investment"])
    if rate is None:
        return None
    return ProjectSerializer._declared_fields["completion_rate"].to_representation(rate)


def _progress_by_project(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """ProgressSerializer's rows of each project, newest month first (as ``progress_rows``)."""
    plan = RowPlan.of(ProgressSerializer, ())
    rows = list(
        InvestmentProgress.objects.filter(project_id__in=ids)
        .order_by("-month")
        .values(*plan.columns(plan.names, ["project_id"]))
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row, rendered in zip(rows, plan.render(rows, plan.names), strict=True):
        found.setdefault(row["project_id"], []).append(rendered)
    return found


class ProjectSerializer(FieldsMixin, serializers.ModelSerializer):
    """Project (项目): figures, stage with its milestones, assignments and monthly progress."""

    lead: serializers.PrimaryKeyRelatedField[Lead] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="来源项目信息编号"
    )
    investor = RefSerializer(read_only=True, help_text="投资方")
    unit = RefSerializer(read_only=True, help_text="责任单位")
    created_by = OfficerRefSerializer(read_only=True, help_text="登记人")
    completion_rate = serializers.DecimalField(
        max_digits=7, decimal_places=1, read_only=True, allow_null=True, help_text="投资完成率(%)"
    )
    allowed_stages = serializers.SerializerMethodField(
        help_text="调用者现在可以推进到的阶段：阶段表的下一阶段，且调用者为主办人、本单位负责人或局领导"
    )
    stages = serializers.SerializerMethodField(help_text="签约、开工、竣工、投产的计划与实际日期")
    assignments = serializers.SerializerMethodField(help_text="分工")
    progress = serializers.SerializerMethodField(help_text="月度投资进度，新月份在前")

    # How the list endpoint reads these fields without instances (promo.api.rows). The lead
    # is its key column, said here: the plan's own PrimaryKeyRelatedField case reads
    # ``field.many``, which a single related field does not have.
    list_rows = {
        "lead": FromColumns(("lead_id",), lambda row: row["lead_id"]),
        "completion_rate": FromColumns(("invested_to_date", "total_investment"), _completion_rate),
        "allowed_stages": FromColumns(
            ("stage", "unit_id", "lead_officer_pk"), _stages_of_row, for_viewer=True
        ),
        "stages": FromColumns(STAGE_DATE_COLUMNS, lambda row: _stages(row.__getitem__)),
        "assignments": FromBatch(lambda ids: assignments_by("project_id", ids)),
        "progress": FromBatch(_progress_by_project),
    }

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "lead",
            "investor",
            "unit",
            "created_by",
            "industry",
            "park_kind",
            "park_name",
            "description",
            "contract_date",
            "signed_investment",
            "total_investment",
            "registered_capital",
            "contracted_fdi",
            "arrived_fdi",
            "land_area",
            "invested_to_date",
            "completion_rate",
            "size_class",
            "stage",
            "allowed_stages",
            "stage_changed_at",
            "stages",
            "groundbreaking_planned",
            "groundbreaking_actual",
            "completed_planned",
            "completed_actual",
            "producing_planned",
            "producing_actual",
            # The milestones after signing (注册 / 供地 / 入统 / 入规), read-only: written by
            # the milestone and milestone-correction actions.
            "registered_planned",
            "registered_actual",
            "company_credit_code",
            "land_granted_planned",
            "land_granted_actual",
            "in_statistics_planned",
            "in_statistics_actual",
            "above_size_planned",
            "above_size_actual",
            "annual_output_value",
            "annual_tax",
            "jobs",
            "assignments",
            "progress",
            *_SYNC_FIELDS,
        ]

    @staticmethod
    def optimise(queryset: QuerySet[Project]) -> QuerySet[Project]:
        """Everything a rendered project needs, in a fixed number of queries."""
        # Into lists (to_attr): a related manager per project would filter a queryset clone
        # of its own, select_related and all, for every project of the page.
        return (
            queryset.select_related("investor", "unit", "created_by")
            # The 主办, for allowed_stages: asked once with the page, not once per project.
            .annotate(lead_officer_pk=lead_officer_pk())
            .prefetch_related(
                Prefetch(
                    "assignments",
                    queryset=Assignment.objects.select_related("officer").order_by("pk"),
                    to_attr="prefetched_assignments",
                ),
                Prefetch(
                    "progress",
                    queryset=InvestmentProgress.objects.select_related("reported_by").order_by(
                        "-month"
                    ),
                    to_attr="prefetched_progress",
                ),
            )
        )

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, project: Project) -> list[dict[str, Any]]:
        return assignment_rows(project)

    @extend_schema_field(ProgressSerializer(many=True))
    def get_progress(self, project: Project) -> list[dict[str, Any]]:
        # One ProgressSerializer for the whole page: DRF deep-copies a serializer's fields
        # each time one is made. Without the request: ``?fields=`` names the project's fields,
        # and FieldsMixin would refuse "progress" as unknown to the nested serializer.
        child = self.__dict__.get("_progress_child")
        if child is None:
            context = {key: value for key, value in self.context.items() if key != "request"}
            child = self.__dict__["_progress_child"] = ProgressSerializer(context=context)
        return [child.to_representation(row) for row in progress_rows(project)]

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=Stage.choices))
    )
    def get_allowed_stages(self, project: Project) -> list[str]:
        viewer = viewer_of(self)
        return [] if viewer is None else allowed_stages(viewer, project)

    @extend_schema_field(StageSerializer(many=True))
    def get_stages(self, project: Project) -> list[dict[str, Any]]:
        return _stages(lambda name: getattr(project, name))


def progress_rows(project: Project) -> list[InvestmentProgress]:
    """The project's monthly progress, newest month first (prefetched by ``optimise``)."""
    rows = getattr(project, "prefetched_progress", None)
    if rows is None:
        rows = list(project.progress.select_related("reported_by").order_by("-month"))
    return rows


class LeadSignSerializer(ActionSerializer):
    """Sign a negotiating lead (签约): the lead becomes 签约 and its project is created."""

    contract_date = serializers.DateField(help_text="签约日期（不晚于今天）")
    total_investment = serializers.DecimalField(help_text="签约总投资(万元)，大于零", **_MONEY)
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="项目名称，缺省沿用项目信息名称",
    )
    registered_capital = serializers.DecimalField(required=False, default=Decimal("0"), **_MONEY)
    contracted_fdi = serializers.DecimalField(required=False, default=Decimal("0"), **_MONEY)
    land_area = serializers.DecimalField(
        required=False,
        default=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
    )
    park_kind = serializers.ChoiceField(
        choices=ParkKind.choices, required=False, default=ParkKind.ECONOMIC_ZONE
    )
    park_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000
    )
    groundbreaking_planned = serializers.DateField(required=False, allow_null=True, default=None)
    completed_planned = serializers.DateField(required=False, allow_null=True, default=None)
    producing_planned = serializers.DateField(required=False, allow_null=True, default=None)


class ProjectWriteSerializer(WriteSerializer):
    """Enter a signed project directly (no lead in promo); the caller becomes its 主办."""

    investor = VisiblePrimaryKeyRelatedField(
        investors_visible_to, first_try=investors_of_own_units, help_text="投资方编号"
    )
    unit = VisiblePrimaryKeyRelatedField(
        units_visible_to, required=False, help_text="责任单位；缺省为本人所在单位"
    )
    total_investment = serializers.DecimalField(help_text="签约总投资(万元)，大于零", **_MONEY)

    class Meta:
        model = Project
        fields = [
            "investor",
            "name",
            "industry",
            "contract_date",
            "total_investment",
            "unit",
            "registered_capital",
            "contracted_fdi",
            "land_area",
            "park_kind",
            "park_name",
            "description",
            "groundbreaking_planned",
            "completed_planned",
            "producing_planned",
            "source_system",
            "external_id",
        ]
        validators: list[Any] = []


# A project is born signed; advancing goes to one of the later stages.
ADVANCE_TARGETS = [(s.value, s.label) for s in Stage if s != Stage.SIGNED]


class ProjectAdvanceSerializer(ActionSerializer):
    """Move a project one stage on (开工 / 竣工 / 投产) on its actual date."""

    to_stage = serializers.ChoiceField(choices=ADVANCE_TARGETS, help_text="目标阶段")
    actual_date = serializers.DateField(help_text="实际日期（不晚于今天，不早于上一阶段）")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    evidence_kind = serializers.ChoiceField(
        choices=EvidenceKind.choices,
        required=False,
        help_text="佐证材料类型（multipart/form-data 上传 evidence 时必填）",
    )
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=(
            "佐证材料文件（PDF、JPEG 或 PNG，可多个，须以 multipart/form-data 发送）。"
            "阶段设有佐证要求时（默认：开工 → 施工许可证或开工报告；竣工 → 竣工验收；"
            "投产 → 投产证明），缺少返回 400 evidence_required，类型不符返回 400 "
            "evidence_kind_not_accepted，响应的 accepted_kinds 列出认可的类型。"
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The service's ``evidence``: every file paired with the one kind sent with them."""
        files = attrs.pop("evidence", [])
        kind = attrs.pop("evidence_kind", "")
        if files and not kind:
            raise serializers.ValidationError({"evidence_kind": [_("请选择佐证材料类型。")]})
        attrs["evidence"] = [(kind, upload) for upload in files]
        return attrs


class ProjectPlanSerializer(ActionSerializer):
    """Reschedule the planned milestones (倒排节点); delays are judged, so a reason is required."""

    reason = serializers.CharField(max_length=2000, help_text="调整原因")
    groundbreaking_planned = serializers.DateField(allow_null=True, help_text="计划开工")
    completed_planned = serializers.DateField(allow_null=True, help_text="计划竣工")
    producing_planned = serializers.DateField(allow_null=True, help_text="计划投产")
    registered_planned = serializers.DateField(
        required=False, allow_null=True, help_text="计划注册；不传则不变"
    )
    land_granted_planned = serializers.DateField(
        required=False, allow_null=True, help_text="计划供地；不传则不变"
    )
    in_statistics_planned = serializers.DateField(
        required=False, allow_null=True, help_text="计划入统；不传则不变"
    )
    above_size_planned = serializers.DateField(
        required=False, allow_null=True, help_text="计划入规（不早于计划入统）；不传则不变"
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        values["milestones_planned"] = {
            milestone: values.pop(f"{milestone}_planned")
            for milestone in MILESTONE_ORDER
            if f"{milestone}_planned" in values
        }
        return values


class ProjectMilestoneSerializer(ActionSerializer):
    """Record a milestone after signing (注册 / 供地 / 入统 / 入规) on its actual date, once."""

    milestone = serializers.ChoiceField(choices=Milestone.choices, help_text="节点")
    actual_date = serializers.DateField(help_text="实际日期（不晚于今天，不早于签约日期）")
    credit_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=30,
        help_text="项目公司统一社会信用代码：登记“注册”时必填（18 位，校验位按 GB 32100-2015）",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ProjectMilestoneCorrectSerializer(ActionSerializer):
    """Correct a recorded milestone's date (更正), or withdraw it (撤销) with a null date."""

    milestone = serializers.ChoiceField(choices=Milestone.choices, help_text="节点")
    actual_date = serializers.DateField(
        allow_null=True, help_text="正确的实际日期；null 为撤销该节点"
    )
    reason = serializers.CharField(max_length=2000, help_text="更正或撤销原因")
    credit_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=30,
        help_text="更正“注册”时的统一社会信用代码；不传则保留原代码",
    )


class ProjectFiguresSerializer(ActionSerializer):
    """Correct reported figures; only the fields sent change, each kept with who and why."""

    reason = serializers.CharField(max_length=2000, help_text="修改原因")
    signed_investment = serializers.DecimalField(
        required=False, help_text="签约总投资(万元)；总投资随之重算（加上增资）", **_MONEY
    )
    registered_capital = serializers.DecimalField(required=False, **_MONEY)
    contracted_fdi = serializers.DecimalField(required=False, **_MONEY)
    land_area = serializers.DecimalField(
        required=False, max_digits=10, decimal_places=2, min_value=Decimal("0")
    )
    annual_output_value = serializers.DecimalField(required=False, **_MONEY)
    annual_tax = serializers.DecimalField(required=False, **_MONEY)
    jobs = serializers.IntegerField(required=False, min_value=0, max_value=10_000_000)


class ProjectIncrementSerializer(ActionSerializer):
    """A capital increase (增资): raises the total, never a second project."""

    increased_on = serializers.DateField(help_text="增资日期")
    amount = serializers.DecimalField(help_text="增加投资(万元)，大于零", **_MONEY)
    contracted_fdi = serializers.DecimalField(
        required=False, default=Decimal("0"), help_text="增加合同外资(万美元)", **_MONEY
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ProgressWriteSerializer(ActionSerializer):
    """Report a month's investment progress; re-reporting a month amends it."""

    month = serializers.DateField(help_text="月份（任意一天，按当月第一天记）")
    agreed_investment = serializers.DecimalField(help_text="协议投资(万元)", **_MONEY)
    paid_in = serializers.DecimalField(help_text="实缴/到位资金(万元)", **_MONEY)
    fixed_asset_investment = serializers.DecimalField(
        help_text="累计完成固定资产投资(万元)", **_MONEY
    )
    arrived_fdi = serializers.DecimalField(
        required=False, default=Decimal("0"), help_text="累计到账外资(万美元)", **_MONEY
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- Problems ---------------------------------------------------------------------------------


def problem_owner_units(officer: Any) -> QuerySet[Unit]:
    """Any active unit may own a problem: 马上办 hands it to whichever department can solve it."""
    return Unit.objects.filter(is_active=True)


class ProblemSerializer(FieldsMixin, serializers.ModelSerializer):
    """Problem (项目问题, 马上办): first-asked responsibility and the two-asks rule."""

    project = RefSerializer(read_only=True, help_text="项目")
    raised_by = OfficerRefSerializer(read_only=True, help_text="登记人")
    owner_unit = RefSerializer(read_only=True, help_text="承办单位")
    first_asked = OfficerRefSerializer(read_only=True, help_text="首问责任人")

    class Meta:
        model = Problem
        fields = [
            "id",
            "project",
            "kind",
            "title",
            "description",
            "raised_by",
            "raised_on",
            "investor_contact",
            "owner_unit",
            "first_asked",
            "due_on",
            "status",
            "ask_count",
            "second_asked_on",
            "escalated_at",
            "resolved_on",
            "resolution",
            *_SYNC_FIELDS,
        ]


class ProblemWriteSerializer(WriteSerializer):
    """Raise a problem for a project (登记问题); whoever was asked first stays responsible."""

    project = VisiblePrimaryKeyRelatedField(projects_visible_to, help_text="项目编号")
    owner_unit = VisiblePrimaryKeyRelatedField(problem_owner_units, help_text="承办单位编号")
    first_asked = VisiblePrimaryKeyRelatedField(
        officers_visible_to, required=False, allow_null=True, help_text="首问责任人，缺省为本人"
    )
    raised_on = serializers.DateField(required=False, allow_null=True, default=None)

    class Meta:
        model = Problem
        fields = [
            "project",
            "kind",
            "title",
            "description",
            "owner_unit",
            "first_asked",
            "due_on",
            "raised_on",
            "investor_contact",
        ]
        validators: list[Any] = []


class ProblemNoteSerializer(ActionSerializer):
    """Take a problem up (开始办理) with an optional note."""

    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ProblemAskAgainSerializer(ActionSerializer):
    """The investor asks a second time (两问终结): the problem escalates."""

    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    asked_on = serializers.DateField(required=False, allow_null=True, default=None)


class ProblemResolveSerializer(ActionSerializer):
    """Close a problem (办结) with what was done."""

    resolution = serializers.CharField(max_length=20000, help_text="办理结果")
    resolved_on = serializers.DateField(required=False, allow_null=True, default=None)


class ServiceVisitSerializer(FieldsMixin, serializers.ModelSerializer):
    """Service visit (企业服务走访): a producing enterprise's typed answers, comparable over years."""

    project = RefSerializer(read_only=True, help_text="项目")
    visited_by = OfficerRefSerializer(read_only=True, help_text="走访人")
    problem = serializers.IntegerField(
        source="problem_id", read_only=True, allow_null=True, help_text="转入马上办的问题编号"
    )
    expansion_lead = serializers.IntegerField(
        source="expansion_lead_id",
        read_only=True,
        allow_null=True,
        help_text="增资扩产项目信息编号",
    )

    class Meta:
        model = ServiceVisit
        fields = ["id", "project", "visited_on", "visited_by", "satisfaction", "employment",
                  "has_expansion_plan", "expansion_amount", "notes", "problem", "expansion_lead",
                  *_SYNC_FIELDS]  # fmt: skip


class ServiceVisitWriteSerializer(WriteSerializer):
    """Record a service visit (登记企业服务走访); a problem goes to 马上办, a plan to a lead."""

    project = VisiblePrimaryKeyRelatedField(projects_visible_to, help_text="项目编号")
    expansion_amount = serializers.DecimalField(required=False, default=Decimal("0"), **_MONEY)
    expansion_description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="增资扩产内容"
    )
    problem_title = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="企业反映的问题"
    )
    problem_kind = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=30, help_text="问题类型"
    )
    problem_owner_unit = VisiblePrimaryKeyRelatedField(
        problem_owner_units, required=False, allow_null=True, default=None, help_text="承办单位编号"
    )
    problem_due_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="办结期限"
    )
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, help_text="满意度 1–5")

    class Meta:
        model = ServiceVisit
        fields = ["project", "visited_on", "satisfaction", "employment", "has_expansion_plan",
                  "expansion_amount", "expansion_description", "notes", "problem_title",
                  "problem_kind", "problem_owner_unit", "problem_due_on", "source_system",
                  "external_id"]  # fmt: skip
        validators: list[Any] = []
