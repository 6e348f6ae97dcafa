"""The demo bureau (演示数据): one believable city bureau, built through the services.

Leads, visits, projects, stage changes, progress, problems and targets are written by the same
services officers use, so every status event, stage event and history row exists exactly as if
officers had done the work; intermediary rewards too (proposed, approved, paid, with their
status events). Only records without a service (intermediaries, introductions, promotion
events, investor contacts) are written with the ORM, each inside ``audited()`` naming the
officer who would have entered them.

Services refuse future dates, so every past change passes its date explicitly (``on_date``,
``actual_date``, ``raised_on`` …); the plan is computed first, backwards from today.

Never wrap service calls in an outer ``audited()``: pghistory merges nested contexts, so the
outer actor would be overwritten by each inner one and every row would share one context.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from leads import services as lead_services
from leads.choices import (
    ChainRole,
    LeadStatus,
    RejectReason,
    RewardStatus,
    SourceChannel,
    VisitKind,
)
from leads.models import (
    Intermediary,
    Introduction,
    Investor,
    InvestorContact,
    Lead,
    PromotionEvent,
    Visit,
)
from leads.normalize import core_name, normalize_name
from leads.selectors import investors_visible_to
from officers import services as officer_services
from officers.choices import AssignmentRole, Role, TargetMetric, UnitKind
from officers.models import Officer, Unit
from officers.selectors import units_visible_to
from projects import services as project_services
from projects.choices import HUNDRED_MILLION, Milestone, ParkKind, ProblemKind, Stage
from projects.models import EvidenceKind, InvestmentProgress, Project
from projects.selectors import accepted_evidence_kinds
from promo.core.audit import audited
from promo.core.choices import Industry, Region
from promo.core.errors import DuplicateInUnit
from promo.core.services import today
from promo.devtools.demo.aftercare import add_demo_aftercare
from promo.devtools.demo.agreements import add_demo_agreements
from promo.devtools.demo.campaigns import add_demo_campaign
from promo.devtools.demo.clock import add_demo_clocks

from . import DEMO_PASSWORD
from . import names as N

BUREAU_NAME = "市投资促进局"
ADMIN_USERNAME = "admin"
# 三员分立 (issue #16, decision 0019): one account per administrator role, none in a unit, and
# the Django admin's model permissions each needs there (the superuser `admin` installs).
ADMINISTRATORS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "sysadmin",
        Role.ADMIN,
        "系统管理员",
        ("view_unit", "add_unit", "change_unit", "view_officer", "add_officer", "change_officer"),
    ),
    ("secadmin", Role.SECURITY_ADMIN, "安全管理员", ("view_officer", "change_officer")),
    ("auditadmin", Role.AUDIT_ADMIN, "审计管理员", ()),
)

# (name, short name, kind, resident city)
WORKING_UNITS: tuple[tuple[str, str, str, str], ...] = (
    ("招商一局", "一局", UnitKind.BRANCH, ""),
    ("招商二局", "二局", UnitKind.BRANCH, ""),
    ("上海办事处", "上海办", UnitKind.RESIDENT_OFFICE, "上海"),
    ("深圳办事处", "深圳办", UnitKind.RESIDENT_OFFICE, "深圳"),
    ("北京办事处", "北京办", UnitKind.RESIDENT_OFFICE, "北京"),
    ("香港联络处", "香港处", UnitKind.RESIDENT_OFFICE, "香港"),
    ("经济开发区", "经开区", UnitKind.ZONE, ""),
    ("高新区", "高新区", UnitKind.ZONE, ""),
)
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("市发改委", "发改委"),
    ("市商务局", "商务局"),
    ("市科技局", "科技局"),
    ("市工信局", "工信局"),
)
HEAD_TITLES = {
    UnitKind.BRANCH: "局长",
    UnitKind.RESIDENT_OFFICE: "主任",
    UnitKind.ZONE: "招商局局长",
}
OFFICER_TITLES = ("招商专员", "一级主任科员", "二级主任科员", "驻点招商专员", "科员")
OFFICERS_PER_UNIT = 3

# Final status of the ~600 leads; signed ones become the ~120 projects.
LEAD_STATUS_COUNTS = {
    LeadStatus.INFORMATION: 110,
    LeadStatus.VALID: 120,
    LeadStatus.NEGOTIATING: 90,
    LeadStatus.SIGNED: 120,
    LeadStatus.DROPPED: 100,
    LeadStatus.REJECTED: 60,
}
# Stage the 120 projects have reached; some of each are behind their plan.
PROJECT_STAGE_COUNTS = {
    Stage.SIGNED: 35,
    Stage.GROUNDBREAKING: 35,
    Stage.COMPLETED: 20,
    Stage.PRODUCING: 30,
}
# How many visits a lead collects on the way to its final status.
VISITS_PER_STATUS = {
    LeadStatus.INFORMATION: (1, 3),
    LeadStatus.VALID: (3, 6),
    LeadStatus.NEGOTIATING: (5, 10),
    LeadStatus.SIGNED: (6, 12),
    LeadStatus.DROPPED: (2, 5),
    LeadStatus.REJECTED: (1, 3),
}
DEPARTMENT_LEADS = 30
PROBLEMS = 30
HISTORY_DAYS = 540  # visits spread over the last ~18 months

ZONE_PARKS = {
    "经济开发区": (ParkKind.ECONOMIC_ZONE, "奉化经济开发区"),
    "高新区": (ParkKind.HIGH_TECH_ZONE, "奉化高新技术产业开发区"),
}
TOWNS = ("江口", "西坞", "莼湖", "松岙", "大堰", "溪口")

REJECT_NOTES = {
    RejectReason.EIA_SAFETY: "项目含电镀工序，环评预审未通过",
    RejectReason.INDUSTRIAL_POLICY: "属于《产业结构调整指导目录》限制类",
    RejectReason.LOW_LEVEL_DUPLICATE: "产能过剩行业，低水平重复建设",
    RejectReason.LAND_GRAB: "亩均投资强度过低，疑似跑马圈地",
    RejectReason.OTHER: "投资方存在失信被执行记录",
}
STAGE_NOTES = {
    Stage.GROUNDBREAKING: "取得施工许可，正式开工建设。",
    Stage.COMPLETED: "主体工程竣工验收。",
    Stage.PRODUCING: "设备调试完成，正式投产。",
}
# A one-page PDF standing in for a scanned permit or certificate (checked by content, like any
# upload): the demo's stage changes meet the bureau's evidence rules through project_advance.
DEMO_PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%EOF\n"


def demo_stage_evidence(stage: str) -> list[tuple[str, SimpleUploadedFile]]:
    """The file a demo stage change carries: one of the kinds the bureau's rule accepts for
    ``stage`` (read from the rule, so an edited rule still seeds), none when the stage has none.

    Why files rather than an exception for the demo: the rule is enforced on every change at
    the service, and the demo is made of changes through the services; a demo project past
    开工 without its permit would show new officers the very gap issue #15 (finding 9) closed.
    """
    accepted = accepted_evidence_kinds(stage)
    if not accepted:
        return []
    kind = accepted[0]
    name = f"{EvidenceKind(kind).label}.pdf"
    return [(kind, SimpleUploadedFile(name, DEMO_PDF, content_type="application/pdf"))]


OPEN_STATUSES = (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING)


@dataclass
class Team:
    """A working unit and its people."""

    unit: Unit
    head: Officer
    officers: list[Officer]

    @property
    def members(self) -> list[Officer]:
        return [self.head, *self.officers]


@dataclass
class ProjectPlan:
    """The milestones of one project, decided before signing."""

    stage: str
    contract_date: date
    total: Decimal
    groundbreaking_planned: date
    completed_planned: date
    producing_planned: date
    actual: dict[str, date] = field(default_factory=dict)
    signed_at: PromotionEvent | None = None  # signed on the day of a promotion event
    project: Project | None = None


@dataclass
class LeadPlan:
    """Everything decided about one lead before any service is called."""

    status: str
    investor: Investor
    unit: Unit
    actor: Officer  # who registers it
    worker: Officer  # who follows it: the registrant, or a bureau officer for a department's lead
    team: list[Officer]
    industry: str
    amount: Decimal
    fdi: Decimal
    chain_role: str
    channel: str = SourceChannel.STATIONED
    event: PromotionEvent | None = None
    intermediary: Intermediary | None = None
    first_contact: date | None = None
    qualified_on: date | None = None
    negotiating_on: date | None = None
    closed_on: date | None = None  # signed, dropped or rejected
    closed_from: str = ""  # the status a dropped or rejected lead had reached
    first_inspection: date | None = None
    project: ProjectPlan | None = None
    lead: Lead | None = None

    @property
    def signed_project(self) -> Project:
        assert self.project is not None and self.project.project is not None
        return self.project.project


# What the demo hands officer_create: a password the rules accept. The demo's own password is
# published in the README and is refused by them (promo.accounts.validators, issue #16), as it
# must be for any real account; the demo's accounts are given its hash instead (below).
DEMO_PLACEHOLDER = "Demo-accounts-Placeholder-9"


@contextlib.contextmanager
def _one_password_hash(password: str) -> Iterator[None]:
    """Hash the shared demo password once: PBKDF2 costs ~0.4 s, times 40 accounts.

    officer_create still validates the password it is given (``DEMO_PLACEHOLDER``) and sets it;
    setting that placeholder stores the one hash of ``password`` computed here — the published
    demo password, which seed_demo (refused in production) gives every demo account.
    """
    hashed = make_password(password)
    original = Officer.set_password

    def set_password(self: Officer, raw_password: str | None) -> None:
        if raw_password not in (password, DEMO_PLACEHOLDER):
            original(self, raw_password)
            return
        self.password = hashed
        self._password = raw_password

    with mock.patch.object(Officer, "set_password", set_password):
        yield


def demo_exists() -> bool:
    return Unit.objects.filter(name=BUREAU_NAME).exists()


def demo_logins() -> list[tuple[str, str, str]]:
    """(who, username, name · unit) of the accounts worth signing in as."""
    wanted = [
        ("局长 chief", {"unit__name": BUREAU_NAME, "role": Role.CHIEF, "title": "局长"}),
        ("单位负责人 unit head", {"unit__name": "招商一局", "role": Role.UNIT_HEAD}),
        ("上海办事处干部 officer", {"unit__name": "上海办事处", "role": Role.OFFICER}),
        (
            "部门信息员 dept submitter",
            {"unit__name": "市发改委", "role": Role.DEPARTMENT_SUBMITTER},
        ),
        ("系统管理员 system admin", {"username": "sysadmin"}),
        ("安全管理员 security admin", {"username": "secadmin"}),
        ("审计管理员 audit admin", {"username": "auditadmin"}),
        ("超级用户 superuser (installation)", {"username": ADMIN_USERNAME}),
    ]
    rows = []
    for who, lookup in wanted:
        officer = Officer.objects.filter(**lookup).order_by("pk").first()
        if officer is not None:
            unit = officer.unit.name if officer.unit else "—"
            rows.append((who, officer.username, f"{officer.display_name} · {unit}"))
    return rows


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _split(value: int, parts: int, rng: random.Random) -> list[int]:
    """Split a whole number into ``parts`` near-equal whole shares that add up to it."""
    base, rest = divmod(int(value), parts)
    shares = [base] * parts
    for i in rng.sample(range(parts), rest):
        shares[i] += 1
    return shares


def _pct(value: Decimal, lo: float, hi: float, rng: random.Random, places: str = "1") -> Decimal:
    return (value * Decimal(str(round(rng.uniform(lo, hi), 3)))).quantize(Decimal(places))


class DemoBureau:
    """Builds the demo bureau; :func:`build_demo` runs it inside one transaction."""

    def __init__(self, *, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.today = today()
        self.teams: dict[str, Team] = {}
        self.departments: dict[str, tuple[Unit, Officer]] = {}
        self.investors: list[Investor] = []
        self.investor_short: dict[int, str] = {}
        self.home_team: dict[int, Team] = {}
        self.event_team: dict[int, Team] = {}
        self.intermediaries: list[Intermediary] = []
        self.events: list[PromotionEvent] = []
        self.plans: list[LeadPlan] = []
        self.due_today_given: Counter[int] = Counter()
        self.introduced: set[tuple[int, int]] = set()
        self.usernames: set[str] = set()
        self.pending_visits: list[tuple[Officer, Visit, list[int]]] = []

    # -- small helpers -----------------------------------------------------------------

    def days_ago(self, lo: int, hi: int) -> date:
        return self.today - timedelta(days=self.rng.randint(lo, hi))

    def between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def clamp(self, day: date) -> date:
        return min(day, self.today)

    def phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randint(0, 999_999_999):09d}"

    # -- build -------------------------------------------------------------------------

    def build(self) -> None:
        self._admin()
        with _one_password_hash(DEMO_PASSWORD):
            self._units_and_officers()
        self._intermediaries()
        self._investors()
        self._events()
        self._plan_leads()
        self._run_leads()
        add_demo_clocks(self)
        self._run_projects()
        self._problems()
        self._rewards()
        add_demo_agreements(self)
        add_demo_aftercare(self)
        self._targets()
        add_demo_campaign(self)

    # -- people ------------------------------------------------------------------------

    def _admin(self) -> None:
        existing = Officer.objects.filter(username=ADMIN_USERNAME).first()
        if existing is not None and existing.is_superuser:
            # An `admin` already exists: act as it, never change its password.
            self.admin = existing
            return
        if existing is not None:
            raise RuntimeError("用户名 admin 已被非管理员账号占用，无法创建演示数据。")
        with audited(None, "seed_demo: 系统管理员"):
            self.admin = Officer.objects.create_superuser(
                username=ADMIN_USERNAME,
                password=DEMO_PASSWORD,
                email="admin@tzcj.example.cn",
                full_name="超级用户",
                role=Role.ADMIN,
            )

    def _new_officer(self, unit: Unit, role: str, title: str, actor: Officer) -> Officer:
        full_name, pinyin = N.person_name(self.rng)
        username, n = pinyin, 2
        while username in self.usernames:
            username, n = f"{pinyin}{n}", n + 1
        self.usernames.add(username)
        return officer_services.officer_create(
            actor=actor,
            username=username,
            password=DEMO_PLACEHOLDER,
            # Shared demo accounts with a published password: no first-sign-in change.
            must_change_password=False,
            full_name=full_name,
            unit=unit,
            role=role,
            title=title,
            phone=self.phone(),
            email=f"{username}@tzcj.example.cn",
        )

    def _units_and_officers(self) -> None:
        admin = self.admin
        self.usernames = set(Officer.objects.values_list("username", flat=True))
        self.bureau = officer_services.unit_create(
            actor=admin, name=BUREAU_NAME, kind=UnitKind.BUREAU, short_name="投促局"
        )
        self.chief = self._new_officer(self.bureau, Role.CHIEF, "局长", admin)
        self.deputies = [
            self._new_officer(self.bureau, Role.CHIEF, "副局长", admin) for _ in range(2)
        ]
        self.leaders = [self.chief, *self.deputies]
        for name, short, kind, city in WORKING_UNITS:
            unit = officer_services.unit_create(
                actor=admin, name=name, kind=kind, parent=self.bureau, city=city, short_name=short
            )
            head = self._new_officer(unit, Role.UNIT_HEAD, HEAD_TITLES[kind], self.chief)
            officers = [
                self._new_officer(unit, Role.OFFICER, self.rng.choice(OFFICER_TITLES), head)
                for _ in range(OFFICERS_PER_UNIT)
            ]
            self.teams[name] = Team(unit, head, officers)
        for name, short in DEPARTMENTS:
            unit = officer_services.unit_create(
                actor=admin,
                name=name,
                kind=UnitKind.DEPARTMENT,
                parent=self.bureau,
                short_name=short,
            )
            submitter = self._new_officer(unit, Role.DEPARTMENT_SUBMITTER, "信息员", self.chief)
            self.departments[name] = (unit, submitter)
        self._administrators()
        # Everyone but department submitters may sign into the admin for now.
        staff = [o.pk for o in self.leaders]
        staff += [o.pk for team in self.teams.values() for o in team.members]
        with audited(admin, "seed_demo: 开通后台登录"):
            Officer.objects.filter(pk__in=staff).update(is_staff=True)

    def _administrators(self) -> None:
        """The three administrators (三员), opened by the installing superuser."""
        from django.contrib.auth.models import Permission

        for username, role, full_name, codenames in ADMINISTRATORS:
            officer = officer_services.officer_create(
                actor=self.admin,
                username=username,
                password=DEMO_PLACEHOLDER,
                must_change_password=False,
                full_name=full_name,
                unit=None,
                role=role,
                email=f"{username}@tzcj.example.cn",
            )
            with audited(self.admin, "seed_demo: 三员后台权限"):
                Officer.objects.filter(pk=officer.pk).update(is_staff=bool(codenames))
                officer.user_permissions.add(*Permission.objects.filter(codename__in=codenames))

    # -- registers without a service ---------------------------------------------------

    def _intermediaries(self) -> None:
        units = [self.bureau, *(t.unit for t in self.teams.values())]
        with audited(self.chief, "seed_demo: 登记中介人"):
            for name, kind, organization in N.INTERMEDIARIES:
                unit = self.rng.choice(units)
                if "香港" in name:
                    unit = self.teams["香港联络处"].unit
                elif "深圳" in name:
                    unit = self.teams["深圳办事处"].unit
                self.intermediaries.append(
                    Intermediary.objects.create(
                        name=name,
                        kind=kind,
                        organization=organization,
                        phone=self.phone(),
                        unit=unit,
                        notes="重奖中介人：项目签约落地后按到位资金比例兑现奖励。",
                    )
                )

    def _home_team_for(self, region: str, city: str, is_soe: bool) -> Team:
        t = self.teams
        if region in (Region.HONG_KONG, Region.MACAU):
            return t["香港联络处"]
        if region in (Region.JAPAN, Region.KOREA, Region.TAIWAN):
            return t["招商一局"]
        if region in (Region.EUROPE, Region.NORTH_AMERICA, Region.SINGAPORE_ASEAN):
            return t["招商二局"]
        if is_soe or city in ("北京", "天津", "济南", "青岛"):
            return t["北京办事处"]
        if city in ("上海", "苏州", "无锡", "南京", "常州", "杭州", "绍兴"):
            return t["上海办事处"]
        if city in ("深圳", "广州", "东莞", "佛山", "厦门", "福州"):
            return t["深圳办事处"]
        return self.rng.choice([t["经济开发区"], t["高新区"], t["招商一局"], t["招商二局"]])

    def _investors(self) -> None:
        rng = self.rng
        # Names must not meet anyone already registered in the duplicate check (客商查重):
        # same normalised name (Chinese or English), or same core name without the place.
        taken = set(Investor.objects.values_list("normalized_name", flat=True))
        taken |= set(
            Investor.objects.exclude(normalized_name_en="").values_list(
                "normalized_name_en", flat=True
            )
        )
        cores = set(Investor.objects.values_list("core_name", flat=True))
        codes = set(Investor.objects.exclude(credit_code="").values_list("credit_code", flat=True))
        serial = rng.randint(10_000, 20_000_000)  # the benchmark bureaus use serials above 5e7
        industries = [i for i in Industry.values if i != Industry.OTHER]
        mix = [
            ("domestic", 160),
            ("soe", 12),
            (Region.HONG_KONG, 30),
            (Region.JAPAN, 22),
            (Region.KOREA, 15),
            (Region.TAIWAN, 10),
            (Region.SINGAPORE_ASEAN, 8),
            (Region.EUROPE, 25),
            (Region.NORTH_AMERICA, 18),
        ]
        contacts: list[tuple[Investor, Officer]] = []
        for kind, count in mix:
            for _ in range(count):
                industry = rng.choice(industries)
                for _attempt in range(100):
                    if kind == "domestic":
                        name, short, city, province = N.domestic_company(rng, industry)
                        name_en, region = "", Region.DOMESTIC
                    elif kind == "soe":
                        name, short = N.central_soe(rng, industry)
                        city, province, name_en, region = "北京", "北京", "", Region.DOMESTIC
                    else:
                        name, name_en, short, province, city = N.foreign_company(
                            rng, kind, industry
                        )
                        region = kind
                    keys = {normalize_name(name), normalize_name(name_en)} - {""}
                    core = core_name(normalize_name(name))
                    if not keys & taken and core not in cores:
                        taken |= keys
                        cores.add(core)
                        break
                else:  # pragma: no cover - the pools are far larger than the demo
                    raise RuntimeError("name pools exhausted")
                code = ""
                if region == Region.DOMESTIC:
                    division = next(c[2] for c in N.DOMESTIC_CITIES if c[0] == city)
                    while not code or code in codes:
                        serial += rng.randint(1, 997)
                        code = N.credit_code(division, serial)
                    codes.add(code)
                flags = {
                    "is_fortune_global_500": False,
                    "is_china_top_500": False,
                    "is_central_soe": False,
                    "is_listed": rng.random() < 0.18,
                }
                if kind == "soe":
                    flags.update(is_central_soe=True, is_china_top_500=True)
                    flags["is_fortune_global_500"] = rng.random() < 0.5
                elif kind == "domestic":
                    flags["is_china_top_500"] = rng.random() < 0.12
                else:
                    flags["is_fortune_global_500"] = rng.random() < 0.12
                    flags["is_listed"] = flags["is_listed"] or rng.random() < 0.25
                team = self._home_team_for(region, city, kind == "soe")
                actor = rng.choice(team.members)
                investor = lead_services.investor_create(
                    actor=actor,
                    name=name,
                    name_en=name_en,
                    credit_code=code,
                    region=region,
                    province_or_country=province,
                    city=city,
                    industry=industry,
                    website=(
                        f"https://www{len(self.investors) + 1}.example.com"
                        if rng.random() < 0.4
                        else ""
                    ),
                    **flags,
                )
                self.investors.append(investor)
                self.investor_short[investor.pk] = short
                self.home_team[investor.pk] = team
                contacts.append((investor, actor))
        # Contacts have no service: entered by the registering officer, one context each.
        by_actor: dict[int, list[InvestorContact]] = defaultdict(list)
        actors: dict[int, Officer] = {}
        for investor, actor in contacts:
            actors[actor.pk] = actor
            for i in range(rng.choice((1, 1, 2))):
                full_name, pinyin = N.person_name(rng)
                by_actor[actor.pk].append(
                    InvestorContact(
                        investor=investor,
                        name=full_name,
                        title=rng.choice(N.CONTACT_TITLES),
                        phone=self.phone(),
                        email=f"{pinyin}@example.com" if rng.random() < 0.5 else "",
                        wechat=f"wx_{pinyin}{rng.randint(10, 99)}" if rng.random() < 0.4 else "",
                        is_primary=i == 0,
                    )
                )
        for actor_pk, rows in by_actor.items():
            with audited(actors[actor_pk], "seed_demo: 登记客商联系人"):
                InvestorContact.objects.bulk_create(rows)

    def _events(self) -> None:
        days_ago = (200, 420, 330, 260, 150, 75)
        for (name, city, venue, organiser, days), ago in zip(
            N.PROMOTION_EVENTS, days_ago, strict=True
        ):
            team = self.teams[organiser]
            starts = self.today - timedelta(days=ago)
            with audited(team.head, "seed_demo: 登记招商活动"):
                event = PromotionEvent.objects.create(
                    name=name,
                    city=city,
                    venue=venue,
                    starts_on=starts,
                    ends_on=starts + timedelta(days=days - 1),
                    organizer=team.unit,
                    description=f"{organiser}主办，市领导出席并推介{N.HOME_CITY}投资环境。",
                )
            self.event_team[event.pk] = team
            self.events.append(event)

    # -- planning ----------------------------------------------------------------------

    def _amounts(self, investor: Investor) -> tuple[Decimal, Decimal]:
        """Estimated investment (万元) and, for foreign capital, FDI (万美元)."""
        rng = self.rng
        big = investor.is_fortune_global_500 or investor.is_central_soe
        roll = rng.random() - (0.2 if big else 0)
        if roll < 0.25:
            amount = rng.randint(100, 1500) * 100  # 1亿–15亿
        elif roll < 0.8:
            amount = rng.randint(20, 199) * 50  # 1000万–1亿
        else:
            amount = rng.randint(4, 19) * 50  # under 1000万
        fdi = 0
        if investor.region != Region.DOMESTIC:
            fdi = int(amount / 7.1 * rng.uniform(0.5, 1.0) / 10) * 10
        return Decimal(amount), Decimal(fdi)

    def _project_plan(self, stage: str, amount: Decimal, contract: date | None) -> ProjectPlan:
        """Milestones of one project, backwards from today (or forwards from a fixed signing)."""
        rng = self.rng
        gap = lambda lo, hi: timedelta(days=rng.randint(lo, hi))  # noqa: E731
        actual: dict[str, date] = {}
        if contract is None:
            if stage == Stage.PRODUCING:
                actual[Stage.PRODUCING] = self.days_ago(5, 240)
                actual[Stage.COMPLETED] = actual[Stage.PRODUCING] - gap(20, 120)
                actual[Stage.GROUNDBREAKING] = actual[Stage.COMPLETED] - gap(150, 330)
            elif stage == Stage.COMPLETED:
                actual[Stage.COMPLETED] = self.days_ago(5, 200)
                actual[Stage.GROUNDBREAKING] = actual[Stage.COMPLETED] - gap(150, 360)
            elif stage == Stage.GROUNDBREAKING:
                actual[Stage.GROUNDBREAKING] = self.days_ago(5, 300)
            if Stage.GROUNDBREAKING in actual:
                contract = actual[Stage.GROUNDBREAKING] - gap(20, 150)
            else:
                contract = self.days_ago(3, 320)
        else:
            # Signed on a fixed day: reach whatever stage the calendar allows since.
            groundbreaking = contract + gap(40, 110)
            if groundbreaking <= self.today:
                actual[Stage.GROUNDBREAKING] = groundbreaking
            stage = Stage.GROUNDBREAKING if actual else Stage.SIGNED
        gb_planned = contract + gap(30, 150)
        if Stage.GROUNDBREAKING in actual and rng.random() < 0.6:
            # Most broke ground close to the plan; a few were late (节点逾期 later on).
            gb_planned = max(contract, actual[Stage.GROUNDBREAKING] - gap(-20, 45))
        completed_planned = gb_planned + gap(180, 420)
        producing_planned = completed_planned + gap(30, 90)
        total = max(_pct(amount, 0.8, 1.25, rng), Decimal("100"))
        return ProjectPlan(
            stage=stage,
            contract_date=contract,
            total=total,
            groundbreaking_planned=gb_planned,
            completed_planned=completed_planned,
            producing_planned=producing_planned,
            actual=actual,
        )

    def _plan_leads(self) -> None:
        rng = self.rng
        statuses = [s for s, n in LEAD_STATUS_COUNTS.items() for _ in range(n)]
        rng.shuffle(statuses)
        # Every investor gets a lead; the big names get second and third ones.
        pool = list(self.investors)
        weights = [
            3 if (i.is_fortune_global_500 or i.is_central_soe or i.is_china_top_500) else 1
            for i in self.investors
        ]
        pool += rng.choices(self.investors, weights=weights, k=len(statuses) - len(pool))
        rng.shuffle(pool)
        stages = [s for s, n in PROJECT_STAGE_COUNTS.items() for _ in range(n)]
        rng.shuffle(stages)
        dept_budget = DEPARTMENT_LEADS
        departments = list(self.departments.values())
        branch_officers = [*self.teams["招商一局"].members, *self.teams["招商二局"].members]
        hk_event = self.events[0]
        signed_at_hk_event = 0
        team_of_unit = {team.unit.pk: team for team in self.teams.values()}
        # 防撞单: the unit holding an open lead on an investor. Leads are created in plan order,
        # each reaching its final status before the next, so an open one holds for good.
        holder: dict[int, int] = {}
        for status, investor in zip(statuses, pool, strict=True):
            team = self.home_team[investor.pk]
            if rng.random() < 0.12:
                # Another unit courts the same investor too, once nobody else holds it.
                team = rng.choice(list(self.teams.values()))
            held = holder.get(investor.pk, team.unit.pk)
            if held != team.unit.pk and held in team_of_unit:
                team = team_of_unit[held]
            elif held != team.unit.pk:
                # Held by a department's lead: this lead goes to an investor nobody holds.
                candidates = rng.sample(self.investors, len(self.investors))
                investor = next(i for i in candidates if holder.get(i.pk) in (None, team.unit.pk))
            amount, fdi = self._amounts(investor)
            actor = rng.choice(team.officers) if rng.random() < 0.8 else team.head
            plan = LeadPlan(
                status=status,
                investor=investor,
                unit=team.unit,
                actor=actor,
                worker=actor,
                team=team.members,
                industry=investor.industry,
                amount=amount,
                fdi=fdi,
                chain_role=rng.choice(ChainRole.values),
            )
            unit, submitter = rng.choice(departments)
            if (
                status != LeadStatus.SIGNED
                and dept_budget
                and rng.random() < 0.1
                and holder.get(investor.pk) in (None, unit.pk)
            ):
                # 部门提供: a department submits it; a branch officer follows it up.
                dept_budget -= 1
                plan.unit, plan.actor = unit, submitter
                plan.worker = rng.choice(branch_officers)
                plan.team = [plan.worker]
                plan.channel = SourceChannel.DEPARTMENT
            else:
                plan.channel = self._channel_for(team)
            if status == LeadStatus.SIGNED:
                stage = stages.pop()
                if signed_at_hk_event < 3 and team.unit.name == "香港联络处":
                    # "奉化·香港投资合作推介会" signed three projects on the day.
                    signed_at_hk_event += 1
                    plan.channel = SourceChannel.STATIONED
                    plan.project = self._project_plan(stage, amount, hk_event.starts_on)
                    plan.project.signed_at = hk_event
                else:
                    plan.project = self._project_plan(stage, amount, None)
            self._plan_dates(plan)
            if plan.channel == SourceChannel.INTERMEDIARY:
                plan.intermediary = rng.choice(self.intermediaries)
            if status in OPEN_STATUSES:
                holder[investor.pk] = plan.unit.pk
            self.plans.append(plan)
        # The showcase: from the first site inspection to signing in 16 days.
        fast = next(
            p for p in self.plans if p.project is not None and p.project.stage == Stage.PRODUCING
        )
        assert fast.project is not None and fast.qualified_on is not None
        fast.first_inspection = fast.project.contract_date - timedelta(days=16)
        fast.negotiating_on = fast.first_inspection + timedelta(days=5)
        fast.qualified_on = min(fast.qualified_on, fast.first_inspection)
        fast.first_contact = min(fast.first_contact or fast.qualified_on, fast.qualified_on)

    def _channel_for(self, team: Team) -> str:
        weights = {
            SourceChannel.INVESTOR_REFERRAL: 18,
            SourceChannel.INTERMEDIARY: 14,
            SourceChannel.STATIONED: 30 if team.unit.kind == UnitKind.RESIDENT_OFFICE else 8,
            SourceChannel.EVENT: 12,
            SourceChannel.RESEARCH: 10 if team.unit.name == "高新区" else 4,
            SourceChannel.OTHER: 6,
        }
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _plan_dates(self, plan: LeadPlan) -> None:
        """Lifecycle dates in order, none in the future."""
        rng = self.rng
        gap = lambda lo, hi: timedelta(days=rng.randint(lo, hi))  # noqa: E731
        if plan.project is not None:
            contract = plan.project.contract_date
            plan.closed_on = contract
            plan.negotiating_on = contract - gap(7, 90)
            plan.qualified_on = plan.negotiating_on - gap(5, 60)
            plan.first_contact = plan.qualified_on - gap(0, 45)
            if plan.channel == SourceChannel.EVENT:
                fits = [e for e in self.events if e.starts_on <= plan.qualified_on]
                if fits:
                    plan.event = rng.choice(fits)
                    plan.first_contact = plan.event.starts_on
                else:
                    plan.channel = SourceChannel.STATIONED
            plan.first_inspection = self.between(plan.qualified_on, contract - timedelta(days=3))
            return
        if plan.channel == SourceChannel.EVENT:
            plan.event = rng.choice(self.events)
            start = plan.event.starts_on
        elif plan.status == LeadStatus.INFORMATION:
            start = self.days_ago(0, 200)
        else:
            start = self.days_ago(20, HISTORY_DAYS)
        plan.first_contact = start
        path = {
            LeadStatus.INFORMATION: [],
            LeadStatus.VALID: [LeadStatus.VALID],
            LeadStatus.NEGOTIATING: [LeadStatus.VALID, LeadStatus.NEGOTIATING],
        }
        if plan.status in (LeadStatus.DROPPED, LeadStatus.REJECTED):
            plan.closed_from = rng.choice(
                [LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.VALID, LeadStatus.NEGOTIATING]
            )
            steps = path[plan.closed_from]
        else:
            steps = path[plan.status]
        current = start
        for status in steps:
            current = self.clamp(current + gap(3, 45))
            if status == LeadStatus.VALID:
                plan.qualified_on = current
            else:
                plan.negotiating_on = current
        if plan.qualified_on is not None and rng.random() < 0.6:
            plan.first_inspection = self.between(
                plan.qualified_on, plan.negotiating_on or self.today
            )
        if plan.status in (LeadStatus.DROPPED, LeadStatus.REJECTED):
            plan.closed_on = self.clamp(current + gap(5, 90))
            if plan.first_inspection is not None:
                plan.first_inspection = min(plan.first_inspection, plan.closed_on)

    # -- leads and visits, through the services ----------------------------------------

    def _run_leads(self) -> None:
        rng = self.rng
        for plan in self.plans:
            actor, unit = plan.actor, None
            if not investors_visible_to(actor).filter(pk=plan.investor.pk).exists():
                # An officer registers a lead only on an investor they see (issue #13): a
                # department's or another unit's lead on an investor registered elsewhere is
                # registered for that unit by the chief, who names its 主办 below.
                actor, unit = self.chief, plan.unit
            fields = {
                "actor": actor,
                "unit": unit,
                "investor": plan.investor,
                "name": self._lead_name(plan),
                "industry": plan.industry,
                "source_channel": plan.channel,
                "chain_role": plan.chain_role,
                "estimated_amount": plan.amount,
                "estimated_fdi": plan.fdi,
                "description": self._lead_description(plan),
                "intermediary": plan.intermediary,
                "event": plan.event,
                "first_contact_on": plan.first_contact,
            }
            try:
                plan.lead = lead_services.lead_create(**fields)
            except DuplicateInUnit as exc:
                # The plan is another project of an investor the unit already follows: the
                # officer confirms it beside the lead named (decision 0013).
                plan.lead = lead_services.lead_create(**fields, confirm_duplicate=exc.extra["lead"])
            if plan.worker.pk != actor.pk:
                # The chief hands a department's lead to a bureau officer as 主办.
                lead_services.assignment_add(
                    actor=self.chief, officer=plan.worker, role=AssignmentRole.LEAD, lead=plan.lead
                )
            elif rng.random() < 0.3:
                helpers = [o for o in plan.team if o.pk != plan.actor.pk]
                head = next(o for o in plan.team if o.role == Role.UNIT_HEAD)
                lead_services.assignment_add(
                    actor=head,
                    officer=rng.choice(helpers),
                    role=AssignmentRole.ASSISTING,
                    lead=plan.lead,
                )
            if plan.intermediary is not None:
                self._introduce(plan)
            self._visits(plan)
            self._transitions(plan)
        self._visits_without_lead()
        self._flush_visits()
        for event in self.events:
            met = {p.investor.pk for p in self.plans if p.event is not None and p.event == event}
            met |= {i.pk for i in rng.sample(self.investors, 6)}
            with audited(self.event_team[event.pk].head, "seed_demo: 活动洽谈客商"):
                event.investors.add(*sorted(met))

    def _lead_name(self, plan: LeadPlan) -> str:
        rng = self.rng
        templates = (
            N.SERVICE_LEAD_NAME_TEMPLATES
            if plan.industry in N.SERVICE_INDUSTRIES
            else N.LEAD_NAME_TEMPLATES
        )
        return rng.choice(templates).format(
            short=self.investor_short[plan.investor.pk],
            product=rng.choice(N.PRODUCTS[plan.industry]),
            n=rng.choice((5, 10, 20, 50, 100)),
        )

    def _lead_description(self, plan: LeadPlan) -> str:
        text = f"拟总投资约{plan.amount:,.0f}万元"
        if plan.fdi:
            text += f"（其中外资约{plan.fdi:,.0f}万美元）"
        text += f"，产业链定位：{ChainRole(plan.chain_role).label}。"
        if plan.channel == SourceChannel.INVESTOR_REFERRAL:
            text += "由已落户企业引荐（以商引商）。"
        if plan.channel == SourceChannel.DEPARTMENT:
            text += f"{plan.unit.name}提供的项目信息。"
        return text

    def _introduce(self, plan: LeadPlan) -> None:
        assert plan.intermediary is not None and plan.first_contact is not None
        key = (plan.intermediary.pk, plan.investor.pk)
        if key in self.introduced:
            return
        self.introduced.add(key)
        with audited(plan.actor, "seed_demo: 登记引荐"):
            Introduction.objects.create(
                intermediary=plan.intermediary,
                investor=plan.investor,
                lead=plan.lead,
                introduced_on=plan.first_contact - timedelta(days=self.rng.randint(0, 14)),
                note="中介人引荐并陪同首次接洽。",
            )

    def _visit_text(self, kind: str, plan: LeadPlan, city: str) -> str:
        rng = self.rng
        return rng.choice(N.VISIT_SUMMARIES[kind]).format(
            city=city or N.HOME_CITY,
            investor=plan.investor.name,
            title=rng.choice(N.CONTACT_TITLES),
            park=rng.choice(("经济开发区", "高新区", "滨海新区")),
            product=rng.choice(N.PRODUCTS[plan.industry]),
            mu=rng.randint(30, 300),
        )

    def _visit_city(self, kind: str, plan: LeadPlan, actor: Officer) -> str:
        if kind in (VisitKind.RECEPTION, VisitKind.INSPECTION):
            return N.HOME_CITY
        if kind == VisitKind.CALL:
            return ""
        if kind == VisitKind.NEGOTIATION and self.rng.random() < 0.6:
            return N.HOME_CITY
        if kind == VisitKind.EVENT and plan.event is not None:
            return plan.event.city
        unit_city = actor.unit.city if actor.unit else ""
        return unit_city or plan.investor.city or N.HOME_CITY

    def _visits(self, plan: LeadPlan) -> None:
        rng = self.rng
        lo, hi = VISITS_PER_STATUS[plan.status]
        count = rng.randint(lo, hi)
        start = plan.first_contact
        assert start is not None
        end = plan.closed_on or self.today
        schedule: list[tuple[date, str, PromotionEvent | None]] = []
        if plan.event is not None:
            schedule.append((start, VisitKind.EVENT, plan.event))
        else:
            first = rng.choice(
                (VisitKind.VISIT, VisitKind.VISIT, VisitKind.RECEPTION, VisitKind.CALL)
            )
            schedule.append((start, first, None))
        if plan.first_inspection is not None:
            schedule.append((plan.first_inspection, VisitKind.INSPECTION, None))
        signed_at = plan.project.signed_at if plan.project else None
        if signed_at is not None:
            schedule.append((signed_at.starts_on, VisitKind.EVENT, signed_at))
        while len(schedule) < count:
            day = self.between(start, end)
            if plan.negotiating_on and day >= plan.negotiating_on:
                kinds = [VisitKind.NEGOTIATION, VisitKind.NEGOTIATION, VisitKind.CALL]
            else:
                kinds = [VisitKind.VISIT, VisitKind.VISIT, VisitKind.CALL, VisitKind.RECEPTION]
            if plan.first_inspection is not None and day > plan.first_inspection:
                # Later inspections are fine; none may precede the recorded first one.
                kinds.append(VisitKind.INSPECTION)
            schedule.append((day, rng.choice(kinds), None))
        schedule.sort(key=lambda row: row[0])
        worker = plan.worker
        team = [o for o in plan.team if o.pk != worker.pk]
        is_open = plan.status in OPEN_STATUSES
        for index, (day, kind, event) in enumerate(schedule):
            last_open = is_open and index == len(schedule) - 1
            # The 主办 logs most visits, and always an open lead's latest one (its follow-up).
            actor = worker if last_open or rng.random() < 0.65 or not team else rng.choice(team)
            companions = rng.sample(team, k=min(len(team), rng.randint(0, 2)))
            if kind in (VisitKind.RECEPTION, VisitKind.NEGOTIATION) and rng.random() < 0.3:
                companions.append(rng.choice(self.leaders))
            if actor.pk != worker.pk and rng.random() < 0.5:
                companions.append(worker)
            companions = [o for o in companions if o.pk != actor.pk]
            next_step, due = "", None
            if last_open:
                next_step, due = self._open_next_step(day, worker)
            elif rng.random() < 0.6:
                # Only the latest visit of an open lead carries a due date: visits have no
                # "done" flag, so a due date on an earlier one would read as overdue forever.
                next_step = rng.choice(N.NEXT_STEPS)
            self._log_visit(
                actor=actor,
                kind=kind,
                visited_on=day,
                investor=plan.investor,
                lead=plan.lead,
                officers=companions,
                city=self._visit_city(kind, plan, actor),
                summary=self._visit_text(kind, plan, actor.unit.city if actor.unit else ""),
                next_step=next_step,
                next_step_due=due,
                event=event,
            )

    def _log_visit(
        self,
        *,
        actor: Officer,
        kind: str,
        visited_on: date,
        investor: Investor,
        summary: str,
        lead: Lead | None = None,
        officers: list[Officer] | None = None,
        city: str = "",
        next_step: str = "",
        next_step_due: date | None = None,
        event: PromotionEvent | None = None,
    ) -> None:
        """Queue a visit with what visit_log would write; :meth:`_flush_visits` inserts them.

        visit_log costs ~10 round trips a visit (lock, scope check, insert, officers, activity
        refresh): for 3,000 visits that alone was most of a minute. The same rows, checked by
        the same rules, are inserted in bulk under each officer's own history context.
        """
        if visited_on > self.today or (next_step_due is not None and next_step_due < visited_on):
            raise ValueError(f"visit dates out of order: {visited_on} / {next_step_due}")
        if next_step_due is not None and not next_step:
            raise ValueError("a due date needs a next step")
        visit = Visit(
            kind=kind,
            visited_on=visited_on,
            investor=investor,
            lead=lead,
            event=event,
            unit=actor.unit,
            created_by=actor,
            city=city,
            summary=summary,
            next_step=next_step,
            next_step_due=next_step_due,
        )
        present = sorted({actor.pk, *(o.pk for o in officers or ())})
        self.pending_visits.append((actor, visit, present))

    def _flush_visits(self) -> None:
        """Insert the queued visits and refresh their leads' activity dates as visit_log does."""
        by_actor: dict[int, list[tuple[Visit, list[int]]]] = defaultdict(list)
        actors: dict[int, Officer] = {}
        for actor, visit, present in self.pending_visits:
            actors[actor.pk] = actor
            by_actor[actor.pk].append((visit, present))
        through = Visit.officers.through
        links = []
        for actor_pk, rows in by_actor.items():
            with audited(actors[actor_pk], "visit_log"):
                Visit.objects.bulk_create([visit for visit, _ in rows], batch_size=500)
            links += [
                through(visit_id=visit.pk, officer_id=officer_id)
                for visit, present in rows
                for officer_id in present
            ]
        through.objects.bulk_create(links, batch_size=2000)
        lead_ids = sorted({v.lead_id for _, v, _ in self.pending_visits if v.lead_id})
        self.pending_visits.clear()
        # Same figures as leads.services._refresh_lead_activity, for every lead at once.
        with audited(self.admin, "seed_demo: 按走访记录刷新跟进日期"), connection.cursor() as cur:
            cur.execute(
                """
                UPDATE leads_lead AS l
                   SET first_contact_on = LEAST(l.first_contact_on, v.first_on),
                       first_inspection_on = v.first_inspection,
                       last_activity_on = GREATEST(l.last_activity_on, v.last_on),
                       updated_at = now()
                  FROM (SELECT lead_id,
                               min(visited_on) AS first_on,
                               max(visited_on) AS last_on,
                               min(visited_on) FILTER (WHERE kind = %s) AS first_inspection
                          FROM leads_visit
                         WHERE lead_id = ANY(%s)
                         GROUP BY lead_id) AS v
                 WHERE v.lead_id = l.id
                """,
                [VisitKind.INSPECTION, lead_ids],
            )

    def _open_next_step(self, day: date, worker: Officer) -> tuple[str, date]:
        """The pending follow-up of an open lead: some due today, some overdue, most ahead."""
        rng = self.rng
        step = rng.choice(N.NEXT_STEPS)
        if self.due_today_given[worker.pk] < 1 or rng.random() < 0.08:
            # Everyone who follows leads finds at least one follow-up due today.
            self.due_today_given[worker.pk] += 1
            return step, self.today
        if day < self.today and rng.random() < 0.35:
            return step, self.between(day, self.today - timedelta(days=1))
        return step, self.today + timedelta(days=rng.randint(1, 30))

    def _transitions(self, plan: LeadPlan) -> None:
        rng = self.rng
        lead = plan.lead
        assert lead is not None
        worker = plan.worker
        closed = plan.status in (LeadStatus.DROPPED, LeadStatus.REJECTED)
        reached = plan.closed_from if closed else plan.status
        if reached in (LeadStatus.VALID, LeadStatus.NEGOTIATING, LeadStatus.SIGNED):
            lead = lead_services.lead_transition(
                lead=lead,
                actor=worker,
                to_status=LeadStatus.VALID,
                on_date=plan.qualified_on,
                note="核实投资主体和投资意向，确认为有效信息。",
            )
        if reached in (LeadStatus.NEGOTIATING, LeadStatus.SIGNED):
            lead = lead_services.lead_transition(
                lead=lead,
                actor=worker,
                to_status=LeadStatus.NEGOTIATING,
                on_date=plan.negotiating_on,
                note="双方进入实质性洽谈。",
            )
        if plan.status == LeadStatus.DROPPED:
            lead = lead_services.lead_transition(
                lead=lead,
                actor=worker,
                to_status=LeadStatus.DROPPED,
                reason=rng.choice(N.DROP_REASONS),
                on_date=plan.closed_on,
            )
        elif plan.status == LeadStatus.REJECTED:
            reason = rng.choice(RejectReason.values)
            lead = lead_services.lead_transition(
                lead=lead,
                actor=worker,
                to_status=LeadStatus.REJECTED,
                reject_reason=reason,
                note=REJECT_NOTES[RejectReason(reason)],
                on_date=plan.closed_on,
            )
        plan.lead = lead
        if plan.status == LeadStatus.SIGNED:
            self._sign(plan)

    def _visits_without_lead(self) -> None:
        """Care visits to settled investors (走访已落户企业)."""
        rng = self.rng
        settled = [
            p for p in self.plans if p.project is not None and p.project.stage != Stage.SIGNED
        ]
        for plan in rng.sample(settled, k=min(len(settled), 60)):
            assert plan.project is not None
            for _ in range(rng.randint(1, 3)):
                self._log_visit(
                    actor=plan.worker,
                    kind=VisitKind.VISIT,
                    visited_on=self.between(plan.project.contract_date, self.today),
                    investor=plan.investor,
                    city=N.HOME_CITY,
                    summary=f"走访已落户企业{plan.investor.name}，了解生产经营情况和增资扩产意向。",
                )

    # -- projects, through the services ------------------------------------------------

    def _park(self, plan: LeadPlan) -> tuple[str, str]:
        rng = self.rng
        if plan.unit.name in ZONE_PARKS:
            return ZONE_PARKS[plan.unit.name]
        if plan.industry == Industry.CHEMICALS:
            return ParkKind.CHEMICAL_PARK, "滨海化工园区"
        kind = rng.choices(
            [
                ParkKind.ECONOMIC_ZONE,
                ParkKind.HIGH_TECH_ZONE,
                ParkKind.INDUSTRIAL_AREA,
                ParkKind.OTHER,
            ],
            weights=[50, 30, 15, 5],
        )[0]
        if kind == ParkKind.INDUSTRIAL_AREA:
            return kind, f"{rng.choice(TOWNS)}工业小区"
        if kind == ParkKind.OTHER:
            return kind, "滨海新区"
        return next(v for v in ZONE_PARKS.values() if v[0] == kind)

    def _sign(self, plan: LeadPlan) -> None:
        rng = self.rng
        pp = plan.project
        assert pp is not None and plan.lead is not None
        park_kind, park_name = self._park(plan)
        if plan.industry in N.SERVICE_INDUSTRIES:
            land = Decimal(rng.randint(0, 15))
        else:
            land = (pp.total / Decimal(rng.randint(250, 600))).quantize(Decimal("0.1"))
        pp.project = project_services.project_sign_lead(
            lead=plan.lead,
            actor=plan.worker,
            contract_date=pp.contract_date,
            total_investment=pp.total,
            registered_capital=_pct(pp.total, 0.2, 0.5, rng),
            contracted_fdi=_pct(plan.fdi, 0.8, 1.1, rng),
            land_area=land,
            park_kind=park_kind,
            park_name=park_name,
            groundbreaking_planned=pp.groundbreaking_planned,
            completed_planned=pp.completed_planned,
            producing_planned=pp.producing_planned,
        )

    def _run_projects(self) -> None:
        rng = self.rng
        signed = [p for p in self.plans if p.project is not None]
        for plan in signed:
            pp = plan.project
            assert pp is not None and pp.project is not None
            project = pp.project
            for stage in (Stage.GROUNDBREAKING, Stage.COMPLETED, Stage.PRODUCING):
                if stage not in pp.actual:
                    break
                project, _event = project_services.project_advance(
                    project=project,
                    actor=plan.worker,
                    to_stage=stage,
                    actual_date=pp.actual[stage],
                    note=STAGE_NOTES[stage],
                    evidence=demo_stage_evidence(stage),
                )
            pp.project = project
            if project.total_investment >= HUNDRED_MILLION:
                # 四个一: every key project has a named leader (挂钩领导).
                project_services.project_assignment_add(
                    actor=self.chief,
                    officer=rng.choice(self.leaders),
                    role=AssignmentRole.LEADER,
                    project=project,
                )
        # Some projects not yet under way had their groundbreaking rescheduled, with a reason.
        behind = [p for p in signed if p.signed_project.stage == Stage.SIGNED]
        for plan in rng.sample(behind, k=min(6, len(behind))):
            assert plan.project is not None
            project = plan.signed_project
            shift = timedelta(days=rng.randint(30, 90))
            assert project.groundbreaking_planned and project.completed_planned
            assert project.producing_planned
            plan.project.project = project_services.project_set_plan(
                project=project,
                actor=plan.worker,
                reason="受用地指标影响，开工节点顺延。",
                groundbreaking_planned=project.groundbreaking_planned + shift,
                completed_planned=project.completed_planned + shift,
                producing_planned=project.producing_planned + shift,
            )
        self._progress(signed)
        built = [p for p in signed if p.signed_project.stage in (Stage.COMPLETED, Stage.PRODUCING)]
        for plan in rng.sample(built, k=min(5, len(built))):
            project = plan.signed_project
            project_services.project_record_increment(
                project=project,
                actor=plan.worker,
                increased_on=self.between(project.contract_date, self.today),
                amount=_pct(project.total_investment, 0.2, 0.4, rng),
                contracted_fdi=_pct(project.contracted_fdi, 0.2, 0.4, rng),
                note="追加投资建设二期生产线（增资）。",
            )
        self._milestones_after_signing(signed)
        for plan in signed:
            project = plan.signed_project
            if project.stage != Stage.PRODUCING:
                continue
            project.refresh_from_db()
            output = _pct(project.total_investment, 0.8, 2.5, rng)
            project_services.project_update_figures(
                project=project,
                actor=plan.worker,
                reason="投产后首个完整年度统计数据。",
                annual_output_value=output,
                annual_tax=(output * Decimal("0.06")).quantize(Decimal("1")),
                jobs=int(project.total_investment / Decimal(rng.randint(50, 200))) + 20,
            )

    def _milestones_after_signing(self, signed: list[LeadPlan]) -> None:
        """注册 / 供地 / 入统 / 入规 for some projects, planned and actual, with a correction.

        A random stream of its own: the rest of the demo stays as it was before (issue #20).
        Most projects register soon after signing; industrial ones get land; producing ones
        enter the statistics (入统) and some become 规上 (入规); one 入统 date is corrected by
        the unit head with a reason, and one project still waits for a planned 入统.
        """
        rng = random.Random(f"milestones-{len(signed)}")

        def between(start: date, end: date) -> date:
            return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))

        corrected = False
        for index, plan in enumerate(signed):
            project = plan.signed_project
            contract = project.contract_date
            if contract >= self.today:
                continue
            worker = plan.worker
            span = (self.today - contract).days
            planned = {
                Milestone.REGISTERED: contract + timedelta(days=30),
                Milestone.LAND_GRANTED: contract + timedelta(days=90),
            }
            if project.stage in (Stage.COMPLETED, Stage.PRODUCING):
                planned[Milestone.IN_STATISTICS] = contract + timedelta(days=rng.randint(200, 500))
                planned[Milestone.ABOVE_SIZE] = planned[Milestone.IN_STATISTICS] + timedelta(
                    days=365
                )
            project = project_services.project_set_plan(
                project=project,
                actor=worker,
                reason="排定签约后节点（注册、供地、入统、入规）。",
                groundbreaking_planned=project.groundbreaking_planned,
                completed_planned=project.completed_planned,
                producing_planned=project.producing_planned,
                milestones_planned=planned,
            )
            if rng.random() < 0.8 and span >= 10:
                project, _event = project_services.project_milestone_record(
                    project=project,
                    actor=worker,
                    milestone=Milestone.REGISTERED,
                    actual_date=contract + timedelta(days=rng.randint(5, min(60, span))),
                    credit_code=N.credit_code("330283", 90_000_000 + index),
                    note="项目公司完成工商注册。",
                )
            if project.stage != Stage.SIGNED and project.groundbreaking_actual:
                project, _event = project_services.project_milestone_record(
                    project=project,
                    actor=worker,
                    milestone=Milestone.LAND_GRANTED,
                    actual_date=between(contract, project.groundbreaking_actual),
                    note="签订国有建设用地使用权出让合同。",
                )
            started = project.producing_actual
            if started is None or rng.random() < 0.3:
                continue
            stats = between(started, self.clamp(started + timedelta(days=120)))
            project, _event = project_services.project_milestone_record(
                project=project,
                actor=worker,
                milestone=Milestone.IN_STATISTICS,
                actual_date=stats,
                note="纳入统计部门名录库。",
            )
            if not corrected and stats > started:
                corrected = True
                project, _event = project_services.project_milestone_correct(
                    project=project,
                    actor=self.chief,
                    milestone=Milestone.IN_STATISTICS,
                    actual_date=started,
                    reason="以统计局入库通知书日期为准。",
                )
                stats = started
            if rng.random() < 0.5:
                project_services.project_milestone_record(
                    project=project,
                    actor=worker,
                    milestone=Milestone.ABOVE_SIZE,
                    actual_date=between(stats, self.today),
                    note="年主营业务收入超过 2000 万元，纳入规上工业企业。",
                )

    def _progress(self, signed: list[LeadPlan]) -> None:
        """Monthly investment progress (月度投资进度), at most the last twelve months."""
        rng = self.rng
        share = {
            Stage.SIGNED: (0.0, 0.08),
            Stage.GROUNDBREAKING: (0.15, 0.6),
            Stage.COMPLETED: (0.7, 0.95),
            Stage.PRODUCING: (0.85, 1.0),
        }
        this_month = self.today.replace(day=1)
        for plan in signed:
            project = plan.signed_project
            month = max(project.contract_date.replace(day=1), _add_months(this_month, -12))
            months = []
            while month < this_month:  # a month is reported once it is over
                months.append(month)
                month = _add_months(month, 1)
            if not months or (project.stage == Stage.SIGNED and rng.random() < 0.5):
                continue
            lo, hi = share[project.stage]
            final = _pct(project.total_investment, lo, hi, rng)
            fdi_final = _pct(project.contracted_fdi, 0.3, 0.9, rng)
            figures = []
            for i, month in enumerate(months, start=1):
                part = Decimal(i) / Decimal(len(months))
                fixed = (final * part).quantize(Decimal("1"))
                figures.append(
                    {
                        "month": month,
                        "agreed_investment": project.total_investment,
                        "paid_in": (fixed * Decimal("1.1")).quantize(Decimal("1")),
                        "fixed_asset_investment": fixed,
                        "arrived_fdi": (fdi_final * part).quantize(Decimal("1")),
                    }
                )
            # Earlier months in bulk (the service would lock and re-aggregate each one); the
            # latest month through progress_record, which sets the project's running figures.
            with audited(plan.worker, "progress_record"):
                InvestmentProgress.objects.bulk_create(
                    [
                        InvestmentProgress(project=project, reported_by=plan.worker, **row)
                        for row in figures[:-1]
                    ]
                )
            project_services.progress_record(project=project, actor=plan.worker, **figures[-1])

    def _problems(self) -> None:
        """Problems (马上办): resolved, in progress, asked twice (两问终结), open and overdue."""
        rng = self.rng
        owners = {
            ProblemKind.LAND_QUOTA: "市发改委",
            ProblemKind.POWER: "市工信局",
            ProblemKind.LABOUR: "市商务局",
            ProblemKind.FINANCING: "市商务局",
            ProblemKind.PLANNING_APPROVAL: "市发改委",
            ProblemKind.LAND_APPROVAL: "市发改委",
            ProblemKind.EIA_APPROVAL: "市发改委",
            ProblemKind.CONSTRUCTION_PERMIT: "经济开发区",
            ProblemKind.OTHER: "市科技局",
        }
        candidates = [
            p
            for p in self.plans
            if p.project is not None and p.signed_project.stage != Stage.PRODUCING
        ]
        chosen = rng.sample(candidates, k=min(PROBLEMS, len(candidates)))
        for index, plan in enumerate(chosen):
            project = plan.signed_project
            worker = plan.worker
            kind = rng.choice(ProblemKind.values)
            owner_name = owners[ProblemKind(kind)]
            owner = (
                self.departments[owner_name][0]
                if owner_name in self.departments
                else self.teams[owner_name].unit
            )
            earliest = max(project.contract_date, self.today - timedelta(days=240))
            raised_on = self.between(earliest, self.today)
            due_on = raised_on + timedelta(days=rng.randint(5, 30))
            problem = project_services.problem_raise(
                project=project,
                actor=worker,
                kind=kind,
                title=rng.choice(N.PROBLEM_TITLES[kind]).format(n=rng.randint(20, 300)),
                owner_unit=owner,
                due_on=due_on,
                description="企业反映，需相关部门协调解决。",
                investor_contact=N.person_name(rng)[0],
                raised_on=raised_on,
            )
            outcome = index % 5  # 0, 1: resolved; 2: in progress; 3: asked twice; 4: open
            if outcome == 3 and raised_on < self.today:
                problem = project_services.problem_ask_again(
                    problem=problem,
                    actor=worker,
                    note="企业再次反映，按两问终结制升级督办。",
                    asked_on=self.between(raised_on + timedelta(days=1), self.today),
                )
            if outcome != 4:
                problem = project_services.problem_start(
                    problem=problem, actor=worker, note="已转承办单位办理。"
                )
            if outcome in (0, 1) or (outcome == 3 and index % 2 == 0):
                asked = problem.second_asked_on or raised_on
                # The owner unit closes it — the officer who raised it may not (issue #13).
                project_services.problem_resolve(
                    problem=problem,
                    actor=(
                        self.departments[owner_name][1]
                        if owner_name in self.departments
                        else self.chief
                    ),
                    resolution=rng.choice(N.RESOLUTIONS),
                    resolved_on=self.between(asked, min(self.today, due_on + timedelta(days=10))),
                )

    def _rewards(self) -> None:
        """Rewards (重奖中介人) for the projects an intermediary brought, through the services.

        The lead's officer proposes (拟奖励); the head of the project's unit approves and pays,
        or the chief where the head proposed it or the unit has none: nobody decides their own
        proposal. Every reward gets its status events, as in production.
        """
        statuses = [RewardStatus.PAID, RewardStatus.APPROVED, RewardStatus.PROPOSED]
        brought = [p for p in self.plans if p.project is not None and p.intermediary is not None]
        for i, plan in enumerate(brought):
            assert plan.intermediary is not None
            project = plan.signed_project
            status = statuses[i % 3]
            amount = min(Decimal("200"), project.total_investment * Decimal("0.002"))
            proposer = plan.worker
            if not units_visible_to(proposer).filter(pk=project.unit_id).exists():
                proposer = self._unit_head(project.unit) or self.chief
            reward = lead_services.intermediary_reward_propose(
                actor=proposer,
                intermediary=plan.intermediary,
                project=project,
                amount=max(amount, Decimal("1")).quantize(Decimal("0.01")),
                note="按到位资金比例计奖。",
            )
            if status == RewardStatus.PROPOSED:
                continue
            head = self._unit_head(project.unit)
            decider = head if head is not None and head.pk != proposer.pk else self.chief
            if decider.pk == proposer.pk:
                decider = self.deputies[0]
            reward = lead_services.intermediary_reward_approve(
                reward=reward, actor=decider, reason="项目已签约，同意按比例奖励。"
            )
            if status == RewardStatus.PAID:
                lead_services.intermediary_reward_pay(
                    reward=reward, actor=decider, reason="奖励资金已拨付。"
                )

    def _unit_head(self, unit: Unit) -> Officer | None:
        return (
            Officer.objects.filter(unit=unit, role=Role.UNIT_HEAD, is_active=True)
            .order_by("pk")
            .first()
        )

    # -- targets -----------------------------------------------------------------------

    def _targets(self) -> None:
        """This year's targets (目标任务): bureau → units → officers, all through target_set."""
        rng = self.rng
        year = self.today.year
        totals: Counter[str] = Counter()
        for team in self.teams.values():
            foreign_desk = (
                team.unit.kind == UnitKind.RESIDENT_OFFICE or team.unit.name == "招商二局"
            )
            signed = rng.randint(6, 14)
            values = {
                TargetMetric.SIGNED_COUNT: signed,
                TargetMetric.SIGNED_AMOUNT: signed * rng.randint(5, 15) * 1000,
                TargetMetric.KEY_PROJECT_COUNT: rng.randint(1, 4),
                TargetMetric.GROUNDBREAKING_COUNT: rng.randint(4, 10),
                TargetMetric.FDI_ARRIVED: rng.randint(5, 30) * 100
                if foreign_desk
                else rng.randint(2, 10) * 100,
                TargetMetric.VALID_LEAD_COUNT: rng.randint(20, 50),
            }
            for metric, value in values.items():
                officer_services.target_set(
                    actor=self.chief,
                    year=year,
                    metric=metric,
                    value=value,
                    unit=team.unit,
                    reason="年初下达目标任务",
                )
                totals[metric] += value
                # 分解到人: the head splits the unit's figure among its officers.
                shares = _split(value, len(team.officers), rng)
                for officer, share in zip(team.officers, shares, strict=True):
                    officer_services.target_set(
                        actor=team.head,
                        year=year,
                        metric=metric,
                        value=share,
                        officer=officer,
                        reason="目标任务分解到人",
                    )
        for metric in TargetMetric.values:
            officer_services.target_set(
                actor=self.chief,
                year=year,
                metric=metric,
                value=(totals[metric] * Decimal("1.1")).quantize(Decimal("1")),
                unit=self.bureau,
                reason="市政府下达年度目标任务",
            )
        for unit, _submitter in self.departments.values():
            # 每月每个单位都要提供一条有效信息: twelve valid leads a year from each department.
            officer_services.target_set(
                actor=self.chief,
                year=year,
                metric=TargetMetric.VALID_LEAD_COUNT,
                value=12,
                unit=unit,
                reason="机关部门每月提供一条有效信息",
            )


def build_demo(*, seed: int = 2026) -> bool:
    """Build the demo bureau in one transaction; False if it was already there.

    One transaction: an interrupted run leaves nothing half-built. The advisory lock makes a
    second concurrent run wait, then find the bureau and stop.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('promo.seed_demo'))")
        if demo_exists():
            return False
        demo = DemoBureau(seed=seed)
        demo.build()
        _publish_reports(demo)
    return True


def _publish_reports(demo: DemoBureau) -> None:
    """Last month's bulletin, published by the chief, and the last ten-day report: what a
    chief opens first on a bureau that has been running."""
    from promo.reports.choices import BulletinKind
    from promo.reports.services import (
        bulletin_generate,
        bulletin_publish,
        previous_month_start,
        previous_ten_day_start,
    )

    monthly = bulletin_generate(
        kind=BulletinKind.MONTHLY, period_start=previous_month_start(today())
    )
    bulletin_publish(bulletin=monthly, actor=demo.chief)
    bulletin_generate(kind=BulletinKind.TEN_DAY, period_start=previous_ten_day_start(today()))
