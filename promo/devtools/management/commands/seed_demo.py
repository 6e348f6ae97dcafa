"""``manage.py seed_demo``: load the demo bureau, or a large benchmark bureau.

    seed_demo                      # the demo bureau (市投资促进局), through the services
    seed_demo --scale county       # ~1/10 of province, bulk-loaded with COPY
    seed_demo --scale province     # 2,000 officers, 300k leads, 2M visits, 60k projects

Every run is idempotent: a bureau that is already loaded is reported, not duplicated.
"""

from __future__ import annotations

import argparse
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from promo.devtools.demo import ADMIN_URL, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Load demo data (演示数据): the demo bureau, or a county/province benchmark bureau."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=["demo", "county", "province"],
            default="demo",
            help="demo: a believable bureau built through the services (default); "
            "county / province: bulk volumes for benchmarks.",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed (same seed, same data)."
        )
        # Tests build a tiny benchmark bureau: a fraction of the chosen scale's volumes.
        parser.add_argument("--factor", type=float, default=None, help=argparse.SUPPRESS)
        parser.add_argument(
            "--force",
            action="store_true",
            help="load demo data although DEBUG is off (a production-like server).",
        )

    def handle(
        self, *args, scale: str, seed: int, factor: float | None, force: bool = False, **options
    ):
        if not (settings.DEBUG or settings.TESTING or force):
            # Issue #16: the demo bureau's accounts share one published password; on a
            # production server they would be a way in.
            raise CommandError(
                "seed_demo 只用于开发和演示：DEBUG 已关闭（生产环境），演示账号的密码是公开的。"
                "确需加载请加 --force。 / seed_demo is for development and demonstrations: "
                "DEBUG is off (production) and the demo accounts' password is public. "
                "Add --force if you really mean it."
            )
        started = time.monotonic()
        if scale == "demo":
            if factor is not None:
                raise CommandError("--factor applies to --scale county|province only.")
            self._demo(seed)
        else:
            self._scale(scale, seed, factor)
        self._agreement_states()
        self.stdout.write(f"用时 elapsed: {time.monotonic() - started:.1f} s")

    def _agreement_states(self) -> None:
        """What the nightly refresh does (decision 0020), so the first read counts stored rows."""
        from promo.agreements.selectors import refresh_states

        stored = refresh_states()
        if stored:
            self.stdout.write(f"协议履约状态 agreement states computed: {stored:,}")

    def _demo(self, seed: int) -> None:
        from promo.devtools.demo.bureau import BUREAU_NAME, build_demo

        if build_demo(seed=seed):
            self.stdout.write(
                self.style.SUCCESS(f"演示数据已生成 demo bureau「{BUREAU_NAME}」loaded.")
            )
            self._counts()
        else:
            self.stdout.write(f"演示数据已存在 demo bureau「{BUREAU_NAME}」is already loaded.")
        self._logins()

    def _scale(self, scale: str, seed: int, factor: float | None) -> None:
        from promo.devtools.demo.scale import ScaleBureau

        loader = ScaleBureau(scale=scale, seed=seed, factor=factor, log=self.stdout.write)
        counts = loader.load()
        if counts is None:
            self.stdout.write(f"基准数据已存在「{loader.root_name}」is already loaded.")
            return
        self.stdout.write(self.style.SUCCESS(f"基准数据已生成「{loader.root_name}」loaded:"))
        for table, rows in counts.items():
            self.stdout.write(f"  {table:<32} {rows:>12,}")

    def _counts(self) -> None:
        from leads.models import Intermediary, Investor, Lead, PromotionEvent, Visit
        from officers.models import Officer, Target, Unit
        from projects.models import InvestmentProgress, Problem, Project
        from promo.devtools.demo.bureau import BUREAU_NAME

        root = Unit.objects.get(name=BUREAU_NAME)
        units = Unit.objects.filter(path__startswith=root.path)
        rows = [
            ("单位 units", units.count()),
            ("干部 officers", Officer.objects.filter(unit__in=units).count()),
            ("客商 investors", Investor.objects.filter(unit__in=units).count()),
            ("中介人 intermediaries", Intermediary.objects.filter(unit__in=units).count()),
            ("招商活动 events", PromotionEvent.objects.filter(organizer__in=units).count()),
            ("项目信息 leads", Lead.objects.filter(unit__in=units).count()),
            ("走访 visits", Visit.objects.filter(unit__in=units).count()),
            ("项目 projects", Project.objects.filter(unit__in=units).count()),
            (
                "月度进度 progress",
                InvestmentProgress.objects.filter(project__unit__in=units).count(),
            ),
            ("项目问题 problems", Problem.objects.filter(project__unit__in=units).count()),
            (
                "目标 targets",
                Target.objects.filter(unit__in=units).count()
                + Target.objects.filter(officer__unit__in=units).count(),
            ),
        ]
        for label, count in rows:
            self.stdout.write(f"  {label:<24} {count:>8,}")

    def _logins(self) -> None:
        from promo.devtools.demo.bureau import demo_logins

        self.stdout.write("")
        self.stdout.write(f"登录 Sign in at {ADMIN_URL}  —  密码 password: {DEMO_PASSWORD}")
        for who, username, name in demo_logins():
            self.stdout.write(f"  {who:<28} {username:<20} {name}")
        # Issue #16: no second factor is pre-set for the demo (its secret would be as public
        # as the password); the chief and the administrators enrol at their first sign-in.
        self.stdout.write(
            "  局领导和管理员首次登录时须启用双因素认证（手机身份验证器应用扫码）；"
            "the chief and administrators enrol an authenticator app at their first sign-in."
        )
