"""API of the agreements app: agreements with both sides' commitments, read as the agreement
page reads them; a system that holds a figure (tax, statistics) writes a measured value."""

from __future__ import annotations

from typing import cast

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from officers.models import Officer
from promo.api.rows import RowsListMixin
from promo.api.schema import error_responses
from promo.api.viewsets import ScopedViewSet
from promo.core.errors import rule

from .. import services
from ..filters import AgreementFilter
from ..selectors import agreements_visible_to
from .serializers import AgreementSerializer, MeasurementWriteSerializer


class AgreementViewSet(RowsListMixin, mixins.ListModelMixin, ScopedViewSet):
    """Investment agreements (投资协议) of the projects the caller may see."""

    read_serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    ordering_fields = ("id", "signed_on", "updated_at")

    def visible(self):
        agreements = agreements_visible_to(cast(Officer, self.request.user))
        if self.action == "list":
            # The list reads columns (RowsListMixin): building the prefetches' status
            # expressions only to drop them cost a third of the page.
            return agreements
        return AgreementSerializer.optimise(agreements)

    @extend_schema(
        request=MeasurementWriteSerializer,
        responses={201: AgreementSerializer, **error_responses(400, 403, 404, 409)},
        description="录入实测值（如税务、统计部门的数据）：须注明来源；经填报人以外的人核实后计入履约状态。",
    )
    @action(detail=True, methods=["post"])
    def measurements(self, request, pk=None):
        agreement = self.get_object()
        data = self.validated(MeasurementWriteSerializer)
        term = agreement.terms.filter(pk=data.pop("term")).first()
        if term is None:
            raise rule("term", _("请选择本协议的投资方承诺。"))
        services.measurement_record(term=term, actor=request.user, **data)
        return self.read_response(agreement, status.HTTP_201_CREATED)
