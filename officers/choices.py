"""Choices of the officers app: unit kinds, roles, assignment roles, target metrics."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    BUREAU = "bureau", _("招商局")
    BRANCH = "branch", _("分局/招商组")
    RESIDENT_OFFICE = "resident_office", _("驻外办事处")
    ZONE = "zone", _("开发区/园区")
    DEPARTMENT = "department", _("机关部门")


class Role(models.TextChoices):
    OFFICER = "officer", _("招商干部")
    UNIT_HEAD = "unit_head", _("单位负责人")
    CHIEF = "chief", _("局领导")
    DEPARTMENT_SUBMITTER = "dept_submitter", _("部门信息员")
    ADMIN = "admin", _("系统管理员")
    # 三员分立 (issue #16): the security and audit administrators are roles of their own, so
    # one account holds at most one of the three administrators' powers.
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# The three administrators (三员): none works for a unit, none reads business records.
ADMIN_ROLES = frozenset({Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSISTING = "assisting", _("协办")
    LEADER = "leader", _("挂钩领导")


class TargetMetric(models.TextChoices):
    SIGNED_COUNT = "signed_count", _("新签约项目数")
    SIGNED_AMOUNT = "signed_amount", _("签约总投资(万元)")
    KEY_PROJECT_COUNT = "key_project_count", _("亿元以上项目数")
    GROUNDBREAKING_COUNT = "groundbreaking_count", _("新开工项目数")
    FDI_ARRIVED = "fdi_arrived", _("实际到账外资(万美元)")
    VALID_LEAD_COUNT = "valid_lead_count", _("有效信息数")
