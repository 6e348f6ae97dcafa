"""Units, officers, assignments and targets: who works where and what they owe."""

from __future__ import annotations

from typing import ClassVar

import pghistory
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, OrderBy, Q, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from promo.core.fields import EncryptedTextField

from .choices import ADMIN_ROLES, AssignmentRole, Role, TargetMetric, UnitKind
from .scope_triggers import ASSIGNMENT_TRIGGERS, OFFICER_TRIGGERS, UNIT_TRIGGERS


def tree_order(path: str = "path") -> OrderBy:
    """Units in tree (depth-first) order, read numerically from the materialised path.

    The path's text sorts "/1/100/" before "/1/99/": once unit ids pass a power of ten the
    order of a bulletin's or cockpit's rows would change by itself. This orders by the path's
    ids as an integer array (PostgreSQL compares arrays element by element), so a parent
    still comes right before its sub-tree and siblings come in the order they were created.
    """
    ids = Func(Func(F(path), Value("/"), function="btrim"), Value("/"), function="string_to_array")
    return Cast(ids, ArrayField(models.BigIntegerField())).asc()


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Unit(models.Model):
    """Unit (单位): a node of the bureau's org tree — bureau, branch, resident office, zone, department."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path "/1/4/9/" so a sub-tree is one indexed prefix match, not a recursion.
    path = models.CharField(max_length=255, editable=False, default="", db_index=True)
    city = models.CharField(_("驻在城市"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        # docs/decisions/0012-scope-change-journal.md
        triggers = UNIT_TRIGGERS
        ordering = [tree_order()]
        indexes = [
            # Sub-tree lookups: WHERE path LIKE '/1/4/%' (visibility scope of every list).
            models.Index(
                fields=["path"], name="officers_unit_path_like", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk and self.parent_id and self.path:
            parent_path = Unit.objects.filter(pk=self.parent_id).values_list("path", flat=True)
            if (parent_path.first() or "").startswith(self.path):
                # A unit under its own sub-tree would make the tree a loop.
                raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})
        super().save(*args, **kwargs)
        expected = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if self.path != expected:
            old = self.path
            self.path = expected
            Unit.objects.filter(pk=self.pk).update(path=expected)
            if old:
                # A unit moved: its descendants' paths move with it.
                Unit.objects.filter(path__startswith=old).exclude(pk=self.pk).update(
                    path=models.functions.Concat(
                        models.Value(expected),
                        models.functions.Substr("path", len(old) + 1),
                    )
                )

    def clean(self):
        super().clean()
        if self.pk and self.parent is not None and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})

    def subtree(self) -> models.QuerySet[Unit]:
        return Unit.objects.filter(path__startswith=self.path)


class OfficerManager(UserManager):
    def get_queryset(self):
        return super().get_queryset().select_related("unit")


# The columns ``officer_display_name`` reads: a list that shows officers' names by row loads
# these (``only()``) rather than the whole officer.
DISPLAY_NAME_FIELDS = ("full_name", "first_name", "last_name", "username")


def officer_display_name(full_name: str, first_name: str, last_name: str, username: str) -> str:
    """An officer's name as shown everywhere: 姓名, else the first and last name, else login."""
    return full_name or f"{first_name} {last_name}".strip() or username


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["password", "last_login"],
)
class Officer(AbstractUser):
    """Officer (干部): a user of promo, working in one unit with one role."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.OFFICER)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    # Personal data (issue #16): encrypted at rest, masked in the admin.
    phone = EncryptedTextField(_("手机"), max_length=30, blank=True)
    is_full_time = models.BooleanField(_("专职招商"), default=True)
    # Set when someone else chose the password (a new account, a reset): every page leads to
    # /password/ until the officer has chosen their own.
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    language = models.CharField(
        _("界面语言"),
        max_length=10,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )

    objects: ClassVar[OfficerManager] = OfficerManager()

    class Meta:
        verbose_name = _("干部")
        verbose_name_plural = _("干部")
        # docs/decisions/0012-scope-change-journal.md
        triggers = OFFICER_TRIGGERS
        ordering = [tree_order("unit__path"), "username"]
        constraints = [
            # Everyone but the administrators works in a unit: scope follows the unit.
            models.CheckConstraint(
                condition=Q(unit__isnull=False)
                | Q(role__in=sorted(ADMIN_ROLES))
                | Q(is_superuser=True),
                name="%(app_label)s_%(class)s_unit_required",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return officer_display_name(self.full_name, self.first_name, self.last_name, self.username)

    @property
    def sees_whole_bureau(self) -> bool:
        """Reads every unit's business records: a 局领导. Not an administrator (三员分立, issue
        #16: the system, security and audit administrators read no business record), and a
        superuser only where the installation allows it (``PROMO_SUPERUSER_READS_BUSINESS``,
        off in production)."""
        if self.is_superuser:
            return bool(settings.PROMO_SUPERUSER_READS_BUSINESS)
        return self.role == Role.CHIEF

    @property
    def grants_access(self) -> bool:
        """Grants roles, privileges and API tokens: a security administrator (安全管理员), or a
        superuser installing promo. Read by the layers below officers (the API clients,
        docs/decisions/0011); ``officers.permissions.is_security_admin`` says the same."""
        return bool(self.is_active and (self.is_superuser or self.role == Role.SECURITY_ADMIN))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Assignment(models.Model):
    """Assignment (分工): an officer on a lead or project as 主办, 协办 or 挂钩领导."""

    officer = models.ForeignKey(
        Officer, verbose_name=_("干部"), on_delete=models.PROTECT, related_name="assignments"
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("项目信息"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("项目"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    role = models.CharField(_("分工"), max_length=20, choices=AssignmentRole.choices)
    assigned_by = models.ForeignKey(
        Officer,
        verbose_name=_("分派人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("分派时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("分工")
        verbose_name_plural = _("分工")
        # docs/decisions/0012-scope-change-journal.md
        triggers = ASSIGNMENT_TRIGGERS
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead__isnull=False) & Q(project__isnull=True))
                | (Q(lead__isnull=True) & Q(project__isnull=False)),
                name="%(app_label)s_%(class)s_one_target",
            ),
            models.CheckConstraint(
                condition=~Q(role=AssignmentRole.LEADER) | Q(project__isnull=False),
                name="%(app_label)s_%(class)s_leader_only_on_project",
            ),
            models.UniqueConstraint(
                fields=["lead", "officer"],
                condition=Q(lead__isnull=False),
                name="%(app_label)s_%(class)s_unique_lead_officer",
            ),
            models.UniqueConstraint(
                fields=["project", "officer", "role"],
                condition=Q(project__isnull=False),
                name="%(app_label)s_%(class)s_unique_project_officer_role",
            ),
            # One 主办 per lead and per project; one 挂钩领导 per project.
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(role=AssignmentRole.LEAD, lead__isnull=False),
                name="%(app_label)s_%(class)s_one_lead_officer_per_lead",
            ),
            models.UniqueConstraint(
                fields=["project", "role"],
                condition=Q(role__in=[AssignmentRole.LEAD, AssignmentRole.LEADER])
                & Q(project__isnull=False),
                name="%(app_label)s_%(class)s_one_lead_and_leader_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer} · {self.get_role_display()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Target(models.Model):
    """Target (目标任务): an annual figure a unit or an officer owes, broken down from the bureau."""

    year = models.PositiveSmallIntegerField(_("年度"))
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    officer = models.ForeignKey(
        Officer,
        verbose_name=_("干部"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    metric = models.CharField(_("指标"), max_length=30, choices=TargetMetric.choices)
    value = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    set_by = models.ForeignKey(
        Officer,
        verbose_name=_("下达人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("目标任务")
        verbose_name_plural = _("目标任务")
        ordering = ["-year", tree_order("unit__path"), "metric"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, officer__isnull=True)
                | Q(unit__isnull=True, officer__isnull=False),
                name="%(app_label)s_%(class)s_unit_or_officer",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="%(app_label)s_%(class)s_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="%(app_label)s_%(class)s_year_plausible",
            ),
            models.UniqueConstraint(
                fields=["year", "unit", "metric"],
                condition=Q(unit__isnull=False),
                name="%(app_label)s_%(class)s_unique_unit_metric",
            ),
            models.UniqueConstraint(
                fields=["year", "officer", "metric"],
                condition=Q(officer__isnull=False),
                name="%(app_label)s_%(class)s_unique_officer_metric",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.unit or self.officer} {self.get_metric_display()}"


class PasswordHistory(models.Model):
    """密码历史: the hashes of an officer's recent passwords, so a new one is not an old one
    (promo.accounts.validators.PasswordHistoryValidator keeps the last
    ``PROMO_PASSWORD_HISTORY`` of them; older rows are deleted as new ones come)."""

    officer = models.ForeignKey(
        Officer, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("干部")
    )
    password = models.CharField(_("密码哈希"), max_length=128)
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("密码历史")
        verbose_name_plural = _("密码历史")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The officer's latest passwords (PasswordHistoryValidator.validate).
            models.Index(fields=["officer", "-created_at"], name="officers_pwhistory_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.officer_id} @ {self.created_at:%Y-%m-%d}"


class OfficerSession(models.Model):
    """登录会话: one sign-in of an officer — when, from where, in what browser — kept after it
    ends (``ended_at``), so the officer is told of the previous sign-in, sees their open
    sessions and ends one, and the bureau caps how many are open at once
    (``PROMO_MAX_SESSIONS``, issue #16). Written by promo.accounts.security at sign-in."""

    officer = models.ForeignKey(
        Officer, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("干部")
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(_("登录时间"), auto_now_add=True)
    ip = models.GenericIPAddressField(_("登录地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_why = models.CharField(_("结束原因"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        ordering = ["-created_at", "-id"]
        indexes = [
            # An officer's open sessions, newest first (the cap at sign-in, the sessions page).
            models.Index(
                fields=["officer", "-created_at"],
                condition=Q(ended_at__isnull=True),
                name="officers_session_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer_id} @ {self.created_at:%Y-%m-%d %H:%M}"
