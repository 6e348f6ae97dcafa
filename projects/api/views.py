"""API of the projects app: projects with their stages and progress, and their problems.

Rows come from the visibility selectors; every write calls projects.services.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from leads.api.serializers import AssignmentWriteSerializer, LeadSerializer
from leads.selectors import leads_visible_to
from officers.api.feeds import ScopedDeletionFeedMixin
from promo.api.rows import RowsListMixin
from promo.api.schema import error_responses
from promo.api.viewsets import ScopedViewSet

from .. import services
from ..filters import ProblemFilter, ProjectFilter, ServiceVisitFilter
from ..selectors import (
    problems_visible_to,
    project_list,
    projects_visible_to,
    service_visits_visible_to,
)
from .serializers import (
    LeadSignSerializer,
    ProblemAskAgainSerializer,
    ProblemNoteSerializer,
    ProblemResolveSerializer,
    ProblemSerializer,
    ProblemWriteSerializer,
    ProgressSerializer,
    ProgressWriteSerializer,
    ProjectAdvanceSerializer,
    ProjectFiguresSerializer,
    ProjectIncrementSerializer,
    ProjectMilestoneCorrectSerializer,
    ProjectMilestoneSerializer,
    ProjectPlanSerializer,
    ProjectSerializer,
    ProjectWriteSerializer,
    ServiceVisitSerializer,
    ServiceVisitWriteSerializer,
    progress_rows,
)


class ProjectViewSet(RowsListMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Projects (项目) the caller may see, with milestones, assignments and monthly progress."""

    scope_model = "projects.project"  # its feed lists records that left the caller's scope
    read_serializer_class = ProjectSerializer
    write_serializer_class = ProjectWriteSerializer
    filterset_class = ProjectFilter
    ordering_fields = ("id", "name", "contract_date", "total_investment", "updated_at")

    def visible(self):
        # The project list page's base (projects.selectors.project_list), filtered by the same
        # ProjectFilter; the order is the cursor's (?ordering=), not the page's.
        return ProjectSerializer.optimise(project_list(self.request.user))

    @extend_schema(
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 403, 409)},
        description="直接登记已签约项目（项目信息不在 promo 中时）。由项目信息签约请用 /leads/{id}/sign/。",
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(ProjectWriteSerializer)
        project = services.project_create(actor=request.user, **data)
        return self.read_response(project, status.HTTP_201_CREATED)

    @extend_schema(
        request=ProjectAdvanceSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404, 409)},
        description="推进阶段：签约 → 开工 → 竣工 → 投产，一次一步；跳步或倒退返回 409。",
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectAdvanceSerializer)
        project, _event = services.project_advance(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        request=ProjectMilestoneSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404, 409)},
        description=(
            "登记签约后节点（注册、供地、入统、入规）的实际日期，每个节点只登记一次；"
            "已登记返回 409，日期有误请用 milestone-correction。入规须先入统；注册须附统一社会信用代码。"
        ),
    )
    @action(detail=True, methods=["post"])
    def milestone(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectMilestoneSerializer)
        services.project_milestone_record(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        request=ProjectMilestoneCorrectSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404, 409)},
        description=(
            "更正已登记节点的日期，或以 actual_date=null 撤销；须说明原因，"
            "只有本单位负责人或局领导可以操作，原日期留在记录中。"
        ),
    )
    @action(detail=True, methods=["post"], url_path="milestone-correction")
    def milestone_correction(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectMilestoneCorrectSerializer)
        services.project_milestone_correct(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        request=AssignmentWriteSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404)},
        description="分工：主办、协办或挂钩领导（每个项目各只有一名主办和一名挂钩领导）。",
    )
    @action(detail=True, methods=["post"])
    def assignments(self, request, pk=None):
        project = self.get_object()
        data = self.validated(AssignmentWriteSerializer)
        services.project_assignment_add(actor=request.user, project=project, **data)
        return self.read_response(project)

    @extend_schema(
        request=ProjectPlanSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404)},
        description="调整计划节点（倒排节点），须说明原因；节点须按开工、竣工、投产顺序。",
    )
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectPlanSerializer)
        project = services.project_set_plan(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        request=ProjectFiguresSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404)},
        description="更正项目数据（只改所给字段），须说明原因；每次修改都留痕。",
    )
    @action(detail=True, methods=["post"])
    def figures(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectFiguresSerializer)
        project = services.project_update_figures(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        request=ProjectIncrementSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 403, 404)},
        description="登记增资：计入该项目的总投资，不产生新项目。",
    )
    @action(detail=True, methods=["post"])
    def increments(self, request, pk=None):
        project = self.get_object()
        data = self.validated(ProjectIncrementSerializer)
        services.project_record_increment(project=project, actor=request.user, **data)
        return self.read_response(project)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: ProgressSerializer(many=True)},
        description="该项目的月度投资进度，新月份在前。",
    )
    @extend_schema(
        methods=["POST"],
        request=ProgressWriteSerializer,
        responses={201: ProgressSerializer, **error_responses(400, 403, 404)},
        description="填报月度投资进度；同一月份再次填报即为更正。",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def progress(self, request, pk=None):
        project = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            rows = progress_rows(project)  # prefetched by ProjectSerializer.optimise
            return Response(ProgressSerializer(rows, many=True, context=context).data)
        data = self.validated(ProgressWriteSerializer)
        row = services.progress_record(project=project, actor=request.user, **data)
        row = type(row).objects.select_related("reported_by").get(pk=row.pk)
        return Response(
            ProgressSerializer(row, context=context).data, status=status.HTTP_201_CREATED
        )


class ProblemViewSet(mixins.ListModelMixin, ScopedDeletionFeedMixin, ScopedViewSet):
    """Project problems (项目问题, 马上办) the caller may see."""

    read_serializer_class = ProblemSerializer
    tombstone_unit_field = "owner_unit_id"
    write_serializer_class = ProblemWriteSerializer
    filterset_class = ProblemFilter
    ordering_fields = ("id", "due_on", "updated_at")

    def visible(self):
        return problems_visible_to(self.request.user).select_related(
            "project", "raised_by", "owner_unit", "first_asked"
        )

    @extend_schema(
        request=ProblemWriteSerializer,
        responses={201: ProblemSerializer, **error_responses(400, 403)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(ProblemWriteSerializer)
        project = data.pop("project")
        problem = services.problem_raise(project=project, actor=request.user, **data)
        return self.read_response(problem, status.HTTP_201_CREATED)

    @extend_schema(
        request=ProblemNoteSerializer,
        responses={200: ProblemSerializer, **error_responses(400, 403, 404, 409)},
        description="承办单位开始办理。",
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        problem = self.get_object()
        data = self.validated(ProblemNoteSerializer)
        problem = services.problem_start(problem=problem, actor=request.user, **data)
        return self.read_response(problem)

    @extend_schema(
        request=ProblemAskAgainSerializer,
        responses={200: ProblemSerializer, **error_responses(400, 403, 404, 409)},
        description="企业二次催办（两问终结）：问题升级；已办结或已催办过返回 409。",
    )
    @action(detail=True, methods=["post"], url_path="ask-again")
    def ask_again(self, request, pk=None):
        problem = self.get_object()
        data = self.validated(ProblemAskAgainSerializer)
        problem = services.problem_ask_again(problem=problem, actor=request.user, **data)
        return self.read_response(problem)

    @extend_schema(
        request=ProblemResolveSerializer,
        responses={200: ProblemSerializer, **error_responses(400, 403, 404, 409)},
        description="办结：须填写办理结果。",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        problem = self.get_object()
        data = self.validated(ProblemResolveSerializer)
        problem = services.problem_resolve(problem=problem, actor=request.user, **data)
        return self.read_response(problem)


class LeadSignViewSet(ScopedViewSet):
    """Signing a lead (签约), served under /api/v1/leads/ by the projects app: it makes a
    project, which the leads app cannot see. Only the action: the lead itself is leads'."""

    read_serializer_class = LeadSerializer
    retrieve = None  # type: ignore[assignment]  # GET /leads/{id}/ is leads.api's

    def visible(self):
        return leads_visible_to(self.request.user)

    @extend_schema(
        request=LeadSignSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 403, 404, 409)},
        description="签约：在谈的项目信息变为签约，并生成项目（只在此处计数一次）。",
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        lead = self.get_object()
        data = self.validated(LeadSignSerializer)
        project = services.project_sign_lead(lead=lead, actor=request.user, **data)
        fresh = ProjectSerializer.optimise(projects_visible_to(request.user)).get(pk=project.pk)
        body = ProjectSerializer(fresh, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class ServiceVisitViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Service visits (企业服务走访) on the producing enterprises the caller may see."""

    read_serializer_class = ServiceVisitSerializer
    write_serializer_class = ServiceVisitWriteSerializer
    filterset_class = ServiceVisitFilter
    ordering_fields = ("id", "visited_on", "updated_at")

    def visible(self):
        return service_visits_visible_to(self.request.user).select_related("project", "visited_by")

    @extend_schema(
        request=ServiceVisitWriteSerializer,
        responses={201: ServiceVisitSerializer, **error_responses(400, 403, 409)},
        description="登记企业服务走访：反映的问题转入马上办，增资扩产计划登记为“增资扩产”项目信息，"
        "同一事务；同一来源系统的外部编号只登记一次（重复返回 409）。",
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(ServiceVisitWriteSerializer)
        project = data.pop("project")
        visit = services.service_visit_log(project=project, actor=request.user, **data)
        return self.read_response(visit, status.HTTP_201_CREATED)
