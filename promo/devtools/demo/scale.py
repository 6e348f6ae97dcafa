"""Benchmark bureaus (基准数据): county or province volumes, bulk-loaded with PostgreSQL COPY.

A separate org tree (root "省投资促进局(基准)" or "县投资促进局(基准)") sits beside the demo
bureau. Rows are generated in Python and streamed into ``COPY … FROM STDIN``; services are not
called (minutes, not hours), so every CHECK constraint is satisfied by construction here — and
PostgreSQL still enforces them, with every foreign key.

History: django-pghistory's insert triggers would double every row into the event tables.
``pgtrigger.ignore()`` works by prepending ``set_config('pgtrigger.ignore', …, true)`` to each
statement Django executes; COPY through ``cursor.copy_expert`` bypasses Django's execute
wrappers, but the setting is *transaction-local*, so one ordinary statement executed inside the
``ignore`` block before each COPY covers the COPY too (``_arm_ignore``). ``ScaleBureau`` checks
that no history row was written, so a change in pgtrigger cannot silently flood the event
tables. (``ALTER TABLE … DISABLE TRIGGER`` would also work but takes an ACCESS EXCLUSIVE lock
and needs table ownership; it is not needed.)
"""

from __future__ import annotations

import io
import itertools
import json
import random
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pgtrigger
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model

from leads.choices import ChainRole, LeadStatus, RejectReason, SourceChannel, VisitKind
from leads.normalize import core_name, normalize_name, search_text
from officers.choices import AssignmentRole, Role, TargetMetric, UnitKind
from projects.choices import ParkKind, ProblemKind, ProblemStatus, Stage
from projects.models import size_class_for
from promo.core.choices import Industry, Region
from promo.core.services import today

from . import DEMO_PASSWORD
from . import names as N

# Province volumes; a county is a tenth. ``factor`` scales either further down (tests).
PROVINCE = {
    "officers": 2_000,
    "investors": 100_000,
    "leads": 300_000,
    "visits": 2_000_000,
    "projects": 60_000,
    "groups": 11,  # prefecture-level bureaus under the province
}
SCALES = {"province": 1.0, "county": 0.1}
# The share of signed projects with an investment agreement (issue #20): 48,000 agreements at
# province scale (five commitments and two promises each), a tenth at county scale.
AGREEMENT_SHARE = 0.8
ROOTS = {
    "province": ("省投资促进局(基准)", "省基准", "prov"),
    "county": ("县投资促进局(基准)", "县基准", "cnty"),
}

# Lead statuses; the signed share is projects / leads (20 %), the rest in these proportions.
OPEN_AND_CLOSED_SHARES = {
    LeadStatus.INFORMATION: 0.18,
    LeadStatus.VALID: 0.20,
    LeadStatus.NEGOTIATING: 0.14,
    LeadStatus.DROPPED: 0.17,
    LeadStatus.REJECTED: 0.11,
}
STAGE_SHARES = {
    Stage.SIGNED: 0.30,
    Stage.GROUNDBREAKING: 0.30,
    Stage.COMPLETED: 0.17,
    Stage.PRODUCING: 0.23,
}
VISIT_RANGES = {
    LeadStatus.INFORMATION: (1, 3),
    LeadStatus.VALID: (3, 6),
    LeadStatus.NEGOTIATING: (5, 10),
    LeadStatus.SIGNED: (6, 12),
    LeadStatus.DROPPED: (2, 5),
    LeadStatus.REJECTED: (1, 3),
}
REGION_WEIGHTS = {
    "domestic": 60,
    "soe": 3,
    Region.HONG_KONG: 10,
    Region.JAPAN: 7,
    Region.KOREA: 5,
    Region.TAIWAN: 3,
    Region.SINGAPORE_ASEAN: 2,
    Region.EUROPE: 6,
    Region.NORTH_AMERICA: 4,
}
HISTORY_DAYS = 540
WORKING_UNITS = (
    ("招商一局", UnitKind.BRANCH, ""),
    ("招商二局", UnitKind.BRANCH, ""),
    ("招商三局", UnitKind.BRANCH, ""),
    ("招商四局", UnitKind.BRANCH, ""),
    ("上海办事处", UnitKind.RESIDENT_OFFICE, "上海"),
    ("深圳办事处", UnitKind.RESIDENT_OFFICE, "深圳"),
    ("北京办事处", UnitKind.RESIDENT_OFFICE, "北京"),
    ("香港联络处", UnitKind.RESIDENT_OFFICE, "香港"),
    ("经济开发区", UnitKind.ZONE, ""),
    ("高新区", UnitKind.ZONE, ""),
)
DEPARTMENTS = ("发改委", "商务局", "科技局", "工信局")
VISIT_KINDS = list(VisitKind.values)
K_VISIT, K_RECEPTION, K_INSPECTION, K_NEGOTIATION, K_CALL, K_EVENT = (
    VISIT_KINDS.index(k)
    for k in (
        VisitKind.VISIT,
        VisitKind.RECEPTION,
        VisitKind.INSPECTION,
        VisitKind.NEGOTIATION,
        VisitKind.CALL,
        VisitKind.EVENT,
    )
)

# The tracked models whose pghistory insert triggers the load skips.
TRACKED = (
    "officers.Unit",
    "officers.Officer",
    "officers.Assignment",
    "officers.Target",
    "leads.Investor",
    "leads.Intermediary",
    "leads.PromotionEvent",
    "leads.Lead",
    "leads.Visit",
    "projects.Project",
    "projects.InvestmentProgress",
    "agreements.Agreement",
    "agreements.Term",
    "agreements.Measurement",
    "agreements.Promise",
    "projects.Problem",
)

# The scope triggers of a new lead, visit, attendee or assignment move the versions of the records it
# brings to someone (leads/scope_triggers.py): a bulk-loaded bureau is new to everyone, and
# those updates would write history rows.
SCOPE_INSERT_TRIGGERS = (
    "leads.Lead:scope_born",
    "leads.Visit:scope_born",
    "leads.VisitAttendance:scope_joined",
    "officers.Assignment:scope_joined",
)

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _cell(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def _line(*values: object) -> str:
    return "\t".join(map(_cell, values)) + "\n"


class _LineStream(io.RawIOBase):
    """A readable file that COPY pulls from, filled lazily from an iterator of text lines."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._buf = b""
        self._pos = 0
        self.rows = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._pos >= len(self._buf):
            batch = list(itertools.islice(self._lines, 5000))
            if not batch:
                return b""
            self.rows += len(batch)
            self._buf = "".join(batch).encode()
            self._pos = 0
        end = len(self._buf) if size is None or size < 0 else self._pos + size
        chunk = self._buf[self._pos : end]
        self._pos += len(chunk)
        return chunk


@dataclass
class Volumes:
    officers: int
    investors: int
    leads: int
    visits: int
    projects: int
    groups: int


def volumes_for(scale: str, factor: float | None) -> Volumes:
    mult = SCALES[scale] * (factor if factor is not None else 1.0)
    leads = max(30, round(PROVINCE["leads"] * mult))
    return Volumes(
        officers=max(40, round(PROVINCE["officers"] * mult)),
        investors=max(10, round(PROVINCE["investors"] * mult)),
        leads=leads,
        visits=max(leads, round(PROVINCE["visits"] * mult)),
        projects=max(6, round(PROVINCE["projects"] * mult)),
        groups=max(1, round(PROVINCE["groups"] * mult)),
    )


@dataclass
class UnitRow:
    id: int
    name: str
    kind: str
    parent_id: int | None
    path: str
    city: str = ""
    group: int = 0


class ScaleBureau:
    """Bulk-loads one benchmark bureau; :meth:`load` returns row counts, or None if loaded."""

    def __init__(
        self,
        *,
        scale: str,
        seed: int = 2026,
        factor: float | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.scale = scale
        self.factor = factor
        self.rng = random.Random(seed * 1_000_003 + len(scale))
        self.log = log
        self.volumes = volumes_for(scale, factor)
        root, prefix, key = ROOTS[scale]
        if factor is not None:
            # A fractional build never takes the name of the real benchmark bureau.
            root, prefix, key = f"{root}×{factor:g}", f"{prefix}×{factor:g}", f"{key}x{factor:g}"
        self.root_name, self.prefix, self.key = root, prefix, key
        self.today = today()
        self.T = self.today.toordinal()
        self.counts: dict[str, int] = {}
        self._dates: dict[int, str] = {}

    # -- helpers -----------------------------------------------------------------------

    def day(self, ordinal: int) -> str:
        text = self._dates.get(ordinal)
        if text is None:
            text = self._dates[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def ts(self, ordinal: int, hour: int = 9) -> str:
        return f"{self.day(ordinal)} {hour:02d}:00:00+08"

    def _arm_ignore(self, cursor) -> None:
        # Executed through Django's cursor, so pgtrigger prepends its transaction-local
        # set_config('pgtrigger.ignore', …): the COPY that follows runs under it.
        cursor.execute("SELECT 1")

    def _reserve(self, cursor, model: type[Model], n: int) -> int:
        """Reserve ``n`` consecutive ids of ``model``; returns the first.

        The table lock (reads still allowed) keeps concurrent inserts from taking ids inside
        the block between nextval and setval; it is held to the end of the transaction.
        """
        table = model._meta.db_table
        cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            "nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
            [table, table, n],
        )
        return cursor.fetchone()[0] - n + 1

    def _copy(self, cursor, model: type[Model], fields: list[str], lines: Iterable[str]) -> int:
        started = time.monotonic()
        meta = model._meta
        columns = [meta.get_field(name).column for name in fields]
        # Columns added to the model since this loader was written get their default, so a
        # new field with a default does not break the benchmark; one without fails loudly.
        extras = []
        for f in meta.concrete_fields:
            if f.column in columns or f.primary_key:
                continue
            if f.has_default():
                columns.append(f.column)
                default = f.get_default()
                extras.append(json.dumps(default) if isinstance(default, dict | list) else default)
            elif not f.null:
                raise RuntimeError(f"{meta.db_table}.{f.column}: no value in the bulk load")
        if extras:
            suffix = "\t" + "\t".join(_cell(value) for value in extras) + "\n"
            lines = (line[:-1] + suffix for line in lines)
        stream = _LineStream(lines)
        self._arm_ignore(cursor)
        column_list = ", ".join(f'"{column}"' for column in columns)
        cursor.copy_expert(f'COPY "{meta.db_table}" ({column_list}) FROM STDIN', stream, 1 << 20)
        self.counts[meta.db_table] = self.counts.get(meta.db_table, 0) + stream.rows
        self.log(
            f"  {meta.db_table:<32} {stream.rows:>12,} rows  {time.monotonic() - started:6.1f} s"
        )
        return stream.rows

    # -- entry point -------------------------------------------------------------------

    def load(self) -> dict[str, int] | None:
        from officers.models import Unit

        started = time.monotonic()
        uris = [*(f"{label}:insert_insert" for label in TRACKED), *SCOPE_INSERT_TRIGGERS]
        with transaction.atomic(), pgtrigger.ignore(*uris), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('promo.seed_demo'))")
            if Unit.objects.filter(name=self.root_name).exists():
                return None
            v = self.volumes
            self.log(
                f"基准数据 {self.root_name}: {v.officers:,} officers, {v.investors:,} investors, "
                f"{v.leads:,} leads, ~{v.visits:,} visits, {v.projects:,} projects"
            )
            history_before = self._history_rows(cursor)
            for step in (
                self._units,
                self._officers,
                self._intermediaries_and_events,
                self._investors,
                self._plan_leads,
                self._leads,
                self._visits,
                self._projects,
                self._agreements,
                self._targets,
            ):
                step_started = time.monotonic()
                step(cursor)
                self.log(f"  · {step.__name__.strip('_')} {time.monotonic() - step_started:.1f} s")
            if self._history_rows(cursor) != history_before:
                raise RuntimeError(
                    "History triggers fired during the bulk load: pgtrigger.ignore no longer "
                    "covers COPY; disable the insert_insert triggers instead."
                )
            analyze_started = time.monotonic()
            for table in sorted(self.counts):
                cursor.execute(f'ANALYZE "{table}"')
            self.log(f"  ANALYZE {time.monotonic() - analyze_started:.1f} s")
            commit_started = time.monotonic()
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: every row's check runs here.
        self.log(
            f"  COMMIT (deferred foreign-key checks) {time.monotonic() - commit_started:.1f} s"
        )
        self.log(f"  total {time.monotonic() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            self.log(f"  database size {cursor.fetchone()[0]}")
        return self.counts

    def _history_rows(self, cursor) -> int:
        """Rows in the event tables of the tracked models (estimates would not do)."""
        total = 0
        for label in ("leads.Lead", "leads.Visit", "projects.Project", "officers.Officer"):
            event_model = apps.get_model(label + "Event")
            cursor.execute(f'SELECT count(*) FROM "{event_model._meta.db_table}"')
            total += cursor.fetchone()[0]
        return total

    # -- org tree and people -----------------------------------------------------------

    def _units(self, cursor) -> None:
        from officers.models import Unit

        v = self.volumes
        per_group = 1 + len(WORKING_UNITS) + len(DEPARTMENTS) if v.groups > 1 else 0
        n = 1 + (per_group * v.groups if v.groups > 1 else len(WORKING_UNITS) + len(DEPARTMENTS))
        next_id = itertools.count(self._reserve(cursor, Unit, n))
        root_id = next(next_id)
        root = UnitRow(root_id, self.root_name, UnitKind.BUREAU, None, f"/{root_id}/")
        units = [root]
        for g in range(v.groups):
            parent = root
            label = self.prefix
            if v.groups > 1:
                gid = next(next_id)
                label = f"{self.prefix}{g + 1}号市"
                parent = UnitRow(gid, f"{label}投资促进局", UnitKind.BUREAU, root_id, "", group=g)
                parent.path = f"{root.path}{gid}/"
                units.append(parent)
            for name, kind, city in WORKING_UNITS:
                uid = next(next_id)
                units.append(
                    UnitRow(
                        uid, f"{label}·{name}", kind, parent.id, f"{parent.path}{uid}/", city, g
                    )
                )
            for name in DEPARTMENTS:
                uid = next(next_id)
                units.append(
                    UnitRow(
                        uid,
                        f"{label}·{name}",
                        UnitKind.DEPARTMENT,
                        parent.id,
                        f"{parent.path}{uid}/",
                        group=g,
                    )
                )
        self.units = units
        self.root = root
        self.working = [
            u for u in units if u.kind in (UnitKind.BRANCH, UnitKind.RESIDENT_OFFICE, UnitKind.ZONE)
        ]
        self.departments = [u for u in units if u.kind == UnitKind.DEPARTMENT]
        self.departments_of: dict[int, list[UnitRow]] = {}
        for unit in self.departments:
            self.departments_of.setdefault(unit.group, []).append(unit)
        self.group_bureaus = [u for u in units if u.kind == UnitKind.BUREAU and u is not root]
        self._copy(
            cursor,
            Unit,
            ["id", "name", "short_name", "kind", "parent", "path", "city", "is_active"],
            (_line(u.id, u.name, "", u.kind, u.parent_id, u.path, u.city, True) for u in units),
        )

    def _officers(self, cursor) -> None:
        from officers.models import Officer

        rng = self.rng
        v = self.volumes
        password = make_password(DEMO_PASSWORD)  # benchmark accounts can sign in too
        chiefs = [self.root, *self.group_bureaus]
        fixed = len(chiefs) + len(self.departments)
        per_unit = [2] * len(self.working)  # a head and at least one officer
        for i in range(max(0, v.officers - fixed - 2 * len(self.working))):
            per_unit[i % len(self.working)] += 1
        total = fixed + sum(per_unit)
        next_id = itertools.count(self._reserve(cursor, Officer, total))
        rows: list[tuple] = []  # (id, unit, role, title)
        self.chief_of: dict[int, int] = {}  # group -> chief officer id
        for unit in chiefs:
            oid = next(next_id)
            rows.append((oid, unit, Role.CHIEF, "局长"))
            self.chief_of[unit.group if unit is not self.root else -1] = oid
        self.team: dict[int, list[int]] = {}  # unit id -> [head, officers…]
        self.head_of: dict[int, int] = {}
        for unit, count in zip(self.working, per_unit, strict=True):
            members = []
            for i in range(count):
                oid = next(next_id)
                role, title = (Role.UNIT_HEAD, "负责人") if i == 0 else (Role.OFFICER, "招商专员")
                rows.append((oid, unit, role, title))
                members.append(oid)
            self.team[unit.id] = members
            self.head_of[unit.id] = members[0]
        self.submitter_of: dict[int, int] = {}
        for unit in self.departments:
            oid = next(next_id)
            rows.append((oid, unit, Role.DEPARTMENT_SUBMITTER, "信息员"))
            self.submitter_of[unit.id] = oid
        self.officer_unit = {oid: unit.id for oid, unit, _role, _title in rows}
        joined = self.ts(self.T - HISTORY_DAYS - 200)

        def lines() -> Iterator[str]:
            for oid, unit, role, title in rows:
                name, _pinyin = N.person_name(rng)
                staff = role != Role.DEPARTMENT_SUBMITTER
                yield _line(
                    oid,
                    password,
                    None,
                    False,
                    f"b-{self.key}-{oid}",
                    "",
                    "",
                    "",
                    staff,
                    True,
                    joined,
                    name,
                    unit.id,
                    role,
                    title,
                    "",
                    True,
                    "zh-hans",
                )

        self._copy(
            cursor,
            Officer,
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "full_name",
                "unit",
                "role",
                "title",
                "phone",
                "is_full_time",
                "language",
            ],
            lines(),
        )

    def _intermediaries_and_events(self, cursor) -> None:
        from leads.models import Intermediary, PromotionEvent

        rng = self.rng
        groups = max(1, self.volumes.groups)
        per_group = 5
        first = self._reserve(cursor, Intermediary, per_group * groups)
        self.intermediaries_of: dict[int, list[int]] = {}
        rows = []
        for g in range(groups):
            units = [u for u in self.working if u.group == g]
            ids = list(range(first + g * per_group, first + (g + 1) * per_group))
            self.intermediaries_of[g] = ids
            for iid in ids:
                name, kind, org = N.INTERMEDIARIES[(iid - first) % len(N.INTERMEDIARIES)]
                ts = self.ts(self.T - HISTORY_DAYS)
                rows.append(
                    _line(iid, ts, ts, "", "", name, kind, org, "", "", "", rng.choice(units).id)
                )
        self._copy(
            cursor,
            Intermediary,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "name",
                "kind",
                "organization",
                "phone",
                "email",
                "notes",
                "unit",
            ],
            rows,
        )
        first = self._reserve(cursor, PromotionEvent, len(N.PROMOTION_EVENTS) * groups)
        self.events_of: dict[int, list[tuple[int, int, str]]] = {}  # group -> (id, day, city)
        rows = []
        eid = itertools.count(first)
        for g in range(groups):
            units = {u.name.split("·")[-1]: u for u in self.working if u.group == g}
            self.events_of[g] = []
            for name, city, venue, organiser, days in N.PROMOTION_EVENTS:
                event_id = next(eid)
                starts = self.T - rng.randint(30, HISTORY_DAYS)
                self.events_of[g].append((event_id, starts, city))
                ts = self.ts(starts - 20)
                rows.append(
                    _line(
                        event_id,
                        ts,
                        ts,
                        "",
                        "",
                        f"{name}({self.prefix}{g + 1})",
                        city,
                        venue,
                        self.day(starts),
                        self.day(starts + days - 1),
                        units[organiser].id,
                        "",
                    )
                )
        self._copy(
            cursor,
            PromotionEvent,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "name",
                "city",
                "venue",
                "starts_on",
                "ends_on",
                "organizer",
                "description",
            ],
            rows,
        )

    # -- investors ---------------------------------------------------------------------

    def _investors(self, cursor) -> None:
        from leads.models import Investor

        rng = self.rng
        n = self.volumes.investors
        # Names must not meet anyone registered in the duplicate check (客商查重): same
        # normalised name (Chinese or English) or same core name without the place.
        cursor.execute(
            "SELECT normalized_name, normalized_name_en, core_name, credit_code FROM leads_investor"
        )
        taken: set[str] = set()
        cores: set[str] = set()
        codes: set[str] = set()
        for name, name_en, core, code in cursor.fetchall():
            taken.add(name)
            cores.add(core)
            if name_en:
                taken.add(name_en)
            if code:
                codes.add(code)
        # Credit-code serials: demo below 5e7; county, province and test builds apart above it.
        serial = {"province": 60_000_000, "county": 50_000_000}[self.scale]
        if self.factor is not None:
            serial += 5_000_000
        industries = [i for i in Industry.values if i != Industry.OTHER]
        kinds = list(REGION_WEIGHTS)
        weights = list(REGION_WEIGHTS.values())
        first = self._reserve(cursor, Investor, n)
        self.inv_unit = array("l", [0]) * n
        self.inv_industry: list[str] = [""] * n
        self.inv_short: list[str] = [""] * n
        self.inv_foreign = bytearray(n)
        self.inv_first = first
        home_for_region = self._home_units_by_region()
        created = self.ts(self.T - HISTORY_DAYS - 100)
        rows = []
        for i in range(n):
            kind = rng.choices(kinds, weights)[0]
            industry = rng.choice(industries)
            name_en = ""
            code = ""
            while True:
                a, b = rng.sample(N.BRAND_CHARS, 2)
                word = rng.choice(N.INDUSTRY_WORDS[industry])
                if kind == "domestic":
                    city, province, division = rng.choice(N.DOMESTIC_CITIES)
                    name = f"{city}{a}{b}{word}{rng.choice(N.DOMESTIC_SUFFIXES)}"
                    short, region = f"{a}{b}", Region.DOMESTIC
                elif kind == "soe":
                    name, short = f"中国{a}{b}{word}集团有限公司", f"中{a}{b}"
                    city, province, division, region = "北京", "北京", "110108", Region.DOMESTIC
                else:
                    style = N.FOREIGN_STYLES[kind]
                    brand, brand_en = rng.choice(style.brands)
                    province = rng.choice(style.countries)
                    city = rng.choice(style.cities)
                    name = style.cn_pattern.format(country=province, brand=brand + a + b, word=word)
                    tag = "".join(rng.choice("ABCDEFGHKLMNPRSTVWXZ") for _ in range(3))
                    name_en = style.en_pattern.format(
                        brand=f"{brand_en} {tag}", word=N.INDUSTRY_WORDS_EN[industry]
                    )
                    short, region = brand + a + b, kind
                norm = normalize_name(name)
                norm_en = normalize_name(name_en)
                core = core_name(norm)
                if norm not in taken and core not in cores and norm_en not in taken:
                    taken.add(norm)
                    cores.add(core)
                    if norm_en:
                        taken.add(norm_en)
                    break
            if region == Region.DOMESTIC:
                while not code or code in codes:
                    serial += 1
                    code = N.credit_code(division, serial)
                codes.add(code)
            unit = rng.choice(home_for_region[region if kind != "soe" else "soe"])
            self.inv_unit[i] = unit.id
            self.inv_industry[i] = industry
            self.inv_short[i] = short
            self.inv_foreign[i] = region != Region.DOMESTIC
            soe = kind == "soe"
            rows.append(
                _line(
                    first + i,
                    created,
                    created,
                    "",
                    "",
                    name,
                    name_en,
                    norm,
                    norm_en,
                    core,
                    code,
                    "company",
                    region,
                    province,
                    city,
                    industry,
                    (soe and rng.random() < 0.5)
                    or (kind not in ("domestic", "soe") and rng.random() < 0.1),
                    soe or (kind == "domestic" and rng.random() < 0.1),
                    soe,
                    rng.random() < 0.2,
                    "",
                    "",
                    unit.id,
                    rng.choice(self.team[unit.id]),
                    search_text(name, name_en=name_en, credit_code=code),
                )
            )
        self._copy(
            cursor,
            Investor,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "name",
                "name_en",
                "normalized_name",
                "normalized_name_en",
                "core_name",
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
                "created_by",
                "search_text",
            ],
            rows,
        )

    def _home_units_by_region(self) -> dict[str, list[UnitRow]]:
        by_name: dict[str, list[UnitRow]] = {}
        for unit in self.working:
            by_name.setdefault(unit.name.split("·")[-1], []).append(unit)
        domestic = [u for u in self.working if u.kind != UnitKind.RESIDENT_OFFICE]
        domestic += by_name["上海办事处"] + by_name["深圳办事处"] + by_name["北京办事处"]
        jpkr = by_name["招商一局"] + by_name["招商二局"]
        west = by_name["招商三局"] + by_name["招商四局"]
        return {
            Region.DOMESTIC: domestic,
            "soe": by_name["北京办事处"],
            Region.HONG_KONG: by_name["香港联络处"],
            Region.MACAU: by_name["香港联络处"],
            Region.TAIWAN: jpkr,
            Region.JAPAN: jpkr,
            Region.KOREA: jpkr,
            Region.SINGAPORE_ASEAN: west,
            Region.EUROPE: west,
            Region.NORTH_AMERICA: west,
        }

    # -- leads -------------------------------------------------------------------------

    def _plan_leads(self, _cursor=None) -> None:
        """Decide every lead's status, dates and visit schedule; visits come from the plan."""
        started = time.monotonic()
        rng = self.rng
        v = self.volumes
        T = self.T
        n = v.leads
        signed_n = min(v.projects, n)
        statuses = [LeadStatus.SIGNED] * signed_n
        rest = n - signed_n
        shares = list(OPEN_AND_CLOSED_SHARES.items())
        for status, share in shares:
            statuses += [status] * round(rest * share / sum(s for _, s in shares))
        statuses = (statuses + [LeadStatus.INFORMATION] * n)[:n]
        rng.shuffle(statuses)
        stage_list = list(STAGE_SHARES)
        stage_weights = list(STAGE_SHARES.values())
        mean = sum((lo + hi) / 2 * (statuses.count(s) / n) for s, (lo, hi) in VISIT_RANGES.items())
        visit_scale = (v.visits / n) / mean
        unit_group = {u.id: u.group for u in self.units}
        branches = {}
        for unit in self.working:
            if unit.kind == UnitKind.BRANCH:
                branches.setdefault(unit.group, []).extend(self.team[unit.id])
        channels = [
            SourceChannel.INVESTOR_REFERRAL,
            SourceChannel.INTERMEDIARY,
            SourceChannel.STATIONED,
            SourceChannel.EVENT,
            SourceChannel.RESEARCH,
            SourceChannel.OTHER,
        ]
        channel_weights = [18, 14, 22, 12, 6, 6]
        chain_roles = list(ChainRole.values)
        self.leads: list[tuple] = []
        # The visit schedule of every lead, flat: day ordinals and kind indexes.
        self.v_day = array("l")
        self.v_kind = array("b")
        gap = rng.randint
        # 防撞单, as lead_create enforces it: while a unit holds an open lead on an investor,
        # no other unit registers one. Open leads hold for good (the data is a final state).
        holder = array("l", [0]) * v.investors
        departments = {d.id for d in self.departments}
        for status in statuses:
            inv = rng.randrange(v.investors)
            unit_id = self.inv_unit[inv]
            if rng.random() < 0.12:
                unit_id = rng.choice(self.working).id
            while holder[inv] in departments and holder[inv] != unit_id:
                inv = rng.randrange(v.investors)  # a department's lead holds it: another one
            if holder[inv] and holder[inv] != unit_id:
                unit_id = holder[inv]
            group = unit_group[unit_id]
            team = self.team[unit_id]
            creator = team[0] if rng.random() < 0.15 else rng.choice(team[1:])
            worker = creator
            channel = rng.choices(channels, channel_weights)[0]
            dept = rng.choice(self.departments_of[group])
            if status != LeadStatus.SIGNED and rng.random() < 0.03 and holder[inv] in (0, dept.id):
                # 部门提供: a department submits it, a branch officer follows it (主办).
                unit_id, creator = dept.id, self.submitter_of[dept.id]
                worker = rng.choice(branches[group])
                team = [worker]
                channel = SourceChannel.DEPARTMENT
            event_id = intermediary_id = None
            if channel == SourceChannel.INTERMEDIARY:
                intermediary_id = rng.choice(self.intermediaries_of[group])
            roll = rng.random()
            if roll < 0.25:
                amount = gap(100, 1500) * 100
            elif roll < 0.8:
                amount = gap(20, 199) * 50
            else:
                amount = gap(4, 19) * 50
            fdi = (
                int(amount / 7.1 * rng.uniform(0.5, 1.0) / 10) * 10 if self.inv_foreign[inv] else 0
            )
            qualified = negotiating = closed = inspection = None
            stage = None
            actual: dict[str, int] = {}
            closed_from = ""
            if status == LeadStatus.SIGNED:
                stage = rng.choices(stage_list, stage_weights)[0]
                if stage == Stage.PRODUCING:
                    actual[Stage.PRODUCING] = T - gap(5, 240)
                    actual[Stage.COMPLETED] = actual[Stage.PRODUCING] - gap(20, 120)
                    actual[Stage.GROUNDBREAKING] = actual[Stage.COMPLETED] - gap(150, 330)
                elif stage == Stage.COMPLETED:
                    actual[Stage.COMPLETED] = T - gap(5, 200)
                    actual[Stage.GROUNDBREAKING] = actual[Stage.COMPLETED] - gap(150, 360)
                elif stage == Stage.GROUNDBREAKING:
                    actual[Stage.GROUNDBREAKING] = T - gap(5, 300)
                if Stage.GROUNDBREAKING in actual:
                    closed = actual[Stage.GROUNDBREAKING] - gap(20, 150)
                else:
                    closed = T - gap(3, 320)
                negotiating = closed - gap(7, 90)
                qualified = negotiating - gap(5, 60)
                start = qualified - gap(0, 45)
                if channel == SourceChannel.EVENT:
                    fits = [e for e in self.events_of[group] if e[1] <= qualified]
                    if fits:
                        event_id, start, _city = rng.choice(fits)
                    else:
                        channel = SourceChannel.STATIONED
                inspection = qualified + gap(0, max(0, closed - 3 - qualified))
            else:
                if channel == SourceChannel.EVENT:
                    event_id, start, _city = rng.choice(self.events_of[group])
                elif status == LeadStatus.INFORMATION:
                    start = T - gap(0, 200)
                else:
                    start = T - gap(20, HISTORY_DAYS)
                reached = status
                if status in (LeadStatus.DROPPED, LeadStatus.REJECTED):
                    closed_from = rng.choice(
                        (
                            LeadStatus.INFORMATION,
                            LeadStatus.VALID,
                            LeadStatus.VALID,
                            LeadStatus.NEGOTIATING,
                        )
                    )
                    reached = closed_from
                current = start
                if reached in (LeadStatus.VALID, LeadStatus.NEGOTIATING):
                    current = qualified = min(T, current + gap(3, 45))
                if reached == LeadStatus.NEGOTIATING:
                    current = negotiating = min(T, current + gap(3, 45))
                if qualified is not None and rng.random() < 0.6:
                    end = negotiating or T
                    inspection = qualified + gap(0, max(0, end - qualified))
                if status in (LeadStatus.DROPPED, LeadStatus.REJECTED):
                    closed = min(T, current + gap(5, 90))
                    if inspection is not None:
                        inspection = min(inspection, closed)
            # Visit schedule: first contact, the first inspection, then spread to the end.
            lo, hi = VISIT_RANGES[status]
            count = max(1, round(rng.uniform(lo, hi) * visit_scale))
            end = closed if closed is not None else T
            first_index = len(self.v_day)
            self.v_day.append(start)
            self.v_kind.append(
                K_EVENT if event_id else rng.choice((K_VISIT, K_VISIT, K_RECEPTION, K_CALL))
            )
            if inspection is not None:
                self.v_day.append(inspection)
                self.v_kind.append(K_INSPECTION)
            span = max(0, end - start)
            for _ in range(count - (len(self.v_day) - first_index)):
                d = start + gap(0, span)
                if negotiating is not None and d >= negotiating:
                    k = rng.choice((K_NEGOTIATION, K_NEGOTIATION, K_CALL))
                else:
                    k = rng.choice((K_VISIT, K_VISIT, K_CALL, K_RECEPTION))
                if inspection is not None and d > inspection and rng.random() < 0.15:
                    k = K_INSPECTION
                self.v_day.append(d)
                self.v_kind.append(k)
            last_visit = max(self.v_day[first_index:])
            if status in (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING):
                holder[inv] = unit_id
            self.leads.append(
                (
                    status,
                    inv,
                    unit_id,
                    creator,
                    worker,
                    tuple(team),
                    amount,
                    fdi,
                    channel,
                    rng.choice(chain_roles),
                    event_id,
                    intermediary_id,
                    start,
                    qualified,
                    negotiating,
                    closed,
                    closed_from,
                    inspection,
                    last_visit,
                    stage,
                    actual,
                    first_index,
                    len(self.v_day) - first_index,
                )
            )
        self.log(
            f"  planned {n:,} leads, {len(self.v_day):,} visits  {time.monotonic() - started:6.1f} s"
        )

    def _leads(self, cursor) -> None:
        from leads.models import Lead, LeadStatusEvent
        from officers.models import Assignment

        rng = self.rng
        self.lead_first = first = self._reserve(cursor, Lead, len(self.leads))
        products = N.PRODUCTS
        reject_reasons = list(RejectReason.values)

        def lead_lines() -> Iterator[str]:
            for i, row in enumerate(self.leads):
                (
                    status,
                    inv,
                    unit_id,
                    creator,
                    _worker,
                    _team,
                    amount,
                    fdi,
                    channel,
                    chain,
                    event_id,
                    intermediary_id,
                    start,
                    qualified,
                    negotiating,
                    closed,
                    _closed_from,
                    inspection,
                    last_visit,
                    _stage,
                    _actual,
                    _vi,
                    _vn,
                ) = row
                industry = self.inv_industry[inv]
                name = f"{self.inv_short[inv]}{rng.choice(products[industry])}项目"
                changed = closed or negotiating or qualified or start
                yield _line(
                    first + i,
                    self.ts(start),
                    self.ts(max(changed, last_visit), 17),
                    "",
                    "",
                    name,
                    self.inv_first + inv,
                    unit_id,
                    creator,
                    industry,
                    chain,
                    amount,
                    fdi,
                    channel,
                    intermediary_id,
                    event_id,
                    f"拟总投资约{amount}万元。",
                    status,
                    self.ts(changed, 17),
                    rng.choice(N.DROP_REASONS) if status == LeadStatus.DROPPED else "",
                    rng.choice(reject_reasons) if status == LeadStatus.REJECTED else "",
                    None if qualified is None else self.day(qualified),
                    None if negotiating is None else self.day(negotiating),
                    self.day(closed) if status == LeadStatus.SIGNED else None,
                    self.day(closed)
                    if status in (LeadStatus.DROPPED, LeadStatus.REJECTED)
                    else None,
                    self.day(start),
                    None if inspection is None else self.day(inspection),
                    self.day(last_visit),
                    search_text(name),
                )

        self._copy(
            cursor,
            Lead,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
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
                "search_text",
            ],
            lead_lines(),
        )

        def event_lines() -> Iterator[str]:
            for i, row in enumerate(self.leads):
                status, creator, worker = row[0], row[3], row[4]
                start, qualified, negotiating, closed = row[12:16]
                lead_id = first + i
                yield f"{lead_id}\t{creator}\t\t{LeadStatus.INFORMATION}\t\t\t{self.ts(start)}\n"
                previous = LeadStatus.INFORMATION
                for to, day in (
                    (LeadStatus.VALID, qualified),
                    (LeadStatus.NEGOTIATING, negotiating),
                ):
                    if day is not None:
                        yield f"{lead_id}\t{worker}\t{previous}\t{to}\t\t\t{self.ts(day, 17)}\n"
                        previous = to
                if closed is not None:
                    reason = ""
                    if status == LeadStatus.DROPPED:
                        reason = "投资方战略调整，项目暂缓"
                    elif status == LeadStatus.REJECTED:
                        reason = "未通过项目准入评审"
                    yield f"{lead_id}\t{worker}\t{previous}\t{status}\t{reason}\t\t{self.ts(closed, 17)}\n"

        self._copy(
            cursor,
            LeadStatusEvent,
            ["lead", "actor", "from_status", "to_status", "reason", "note", "created_at"],
            event_lines(),
        )

        def assignment_lines() -> Iterator[str]:
            for i, row in enumerate(self.leads):
                creator, worker, team = row[3], row[4], row[5]
                lead_id = first + i
                when = self.ts(row[12])
                by = creator if creator == worker else self.chief_of.get(-1)
                yield f"{worker}\t{lead_id}\t\\N\t{AssignmentRole.LEAD}\t{by}\t{when}\n"
                if len(team) > 1 and rng.random() < 0.2:
                    helper = rng.choice([o for o in team if o != worker])
                    yield f"{helper}\t{lead_id}\t\\N\t{AssignmentRole.ASSISTING}\t{team[0]}\t{when}\n"

        self._copy(
            cursor,
            Assignment,
            ["officer", "lead", "project", "role", "assigned_by", "created_at"],
            assignment_lines(),
        )

    # -- visits ------------------------------------------------------------------------

    def _visits(self, cursor) -> None:
        from leads.models import Visit

        rng = self.rng
        T = self.T
        total = len(self.v_day)
        first = self._reserve(cursor, Visit, total)
        kinds = VISIT_KINDS
        summaries = {
            k: [
                text.format(
                    city=N.HOME_CITY,
                    investor="企业",
                    title=title,
                    park=park,
                    product=product,
                    mu=mu,
                )
                for text in N.VISIT_SUMMARIES[kinds[k]]
                for title, park, product, mu in (
                    ("董事长", "经济开发区", "智能制造", 80),
                    ("总经理", "高新区", "新材料", 150),
                    ("投资总监", "经济开发区", "新能源", 60),
                )
            ]
            for k in range(len(kinds))
        }
        for texts in summaries.values():
            assert all(t == t.translate(_ESCAPES) for t in texts)
        unit_city = {u.id: u.city for u in self.units}
        events_by_id = {e[0]: e for es in self.events_of.values() for e in es}
        links = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        open_statuses = (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING)
        next_steps = N.NEXT_STEPS
        home = N.HOME_CITY

        def lines() -> Iterator[str]:
            vid = first
            for i, row in enumerate(self.leads):
                status, inv, worker, team, event_id = row[0], row[1], row[4], row[5], row[10]
                vi, vn = row[21], row[22]
                lead_id = self.lead_first + i
                investor_id = self.inv_first + inv
                is_open = status in open_statuses
                days = sorted(zip(self.v_day[vi : vi + vn], self.v_kind[vi : vi + vn], strict=True))
                others = [o for o in team if o != worker]
                last = len(days) - 1
                for j, (d, k) in enumerate(days):
                    last_open = is_open and j == last
                    if last_open or not others or rng.random() < 0.65:
                        actor = worker
                    else:
                        actor = rng.choice(others)
                    present = {actor}
                    if others and rng.random() < 0.5:
                        present.add(rng.choice(others))
                    if actor != worker and rng.random() < 0.5:
                        present.add(worker)
                    step, due = "", NULL
                    if last_open:
                        step = rng.choice(next_steps)
                        r = rng.random()
                        if r < 0.08:
                            due = self.day(T)
                        elif r < 0.4 and d < T:
                            due = self.day(d + rng.randint(0, T - d - 1))
                        else:
                            due = self.day(T + rng.randint(1, 30))
                    elif rng.random() < 0.6:
                        # As in the demo: only an open lead's latest visit has a due date.
                        step = rng.choice(next_steps)
                    ev = NULL
                    if k == K_EVENT and event_id:
                        ev = str(event_id)
                        city = events_by_id[event_id][2]
                    elif k in (K_RECEPTION, K_INSPECTION) or k == K_NEGOTIATION:
                        city = home
                    elif k == K_CALL:
                        city = ""
                    else:
                        city = unit_city[self.officer_unit[actor]] or home
                    ts = self.ts(d, 18)
                    yield (
                        f"{vid}\t{ts}\t{ts}\t\t\t{kinds[k]}\t{self.day(d)}\t{investor_id}\t"
                        f"{lead_id}\t{ev}\t{self.officer_unit[actor]}\t{actor}\t{city}\t"
                        f"{rng.choice(summaries[k])}\t{step}\t{due}\n"
                    )
                    links.write("".join(f"{vid}\t{o}\n" for o in present))
                    vid += 1

        self._copy(
            cursor,
            Visit,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "kind",
                "visited_on",
                "investor",
                "lead",
                "event",
                "unit",
                "created_by",
                "city",
                "summary",
                "next_step",
                "next_step_due",
            ],
            lines(),
        )
        links.seek(0)
        through = Visit.officers.through
        self._copy(cursor, through, ["visit", "officer"], links)
        links.close()
        del self.v_day, self.v_kind

    # -- projects ----------------------------------------------------------------------

    def _projects(self, cursor) -> None:
        from officers.models import Assignment
        from projects.models import (
            InvestmentProgress,
            Problem,
            ProblemAction,
            Project,
            ProjectStageEvent,
        )

        rng = self.rng
        T = self.T
        signed = [(i, row) for i, row in enumerate(self.leads) if row[0] == LeadStatus.SIGNED]
        first = self._reserve(cursor, Project, len(signed)) if signed else 0
        parks = [
            (ParkKind.ECONOMIC_ZONE, "经济开发区"),
            (ParkKind.HIGH_TECH_ZONE, "高新区"),
            (ParkKind.INDUSTRIAL_AREA, "工业小区"),
        ]
        projects = []  # (project id, row, total, stage, actual, contract, planned, fdi, invested)
        this_month = date.fromordinal(T).replace(day=1)
        progress_rows: list[str] = []
        for n, (_i, row) in enumerate(signed):
            amount, fdi, closed, stage, actual = row[6], row[7], row[15], row[19], row[20]
            pid = first + n
            total = Decimal(max(100, round(amount * rng.uniform(0.8, 1.25))))
            gb_planned = closed + rng.randint(30, 150)
            if Stage.GROUNDBREAKING in actual and rng.random() < 0.6:
                gb_planned = max(closed, actual[Stage.GROUNDBREAKING] - rng.randint(-20, 45))
            completed_planned = gb_planned + rng.randint(180, 420)
            producing_planned = completed_planned + rng.randint(30, 90)
            contracted_fdi = Decimal(round(fdi * rng.uniform(0.8, 1.1)))
            invested = Decimal(0)
            arrived = Decimal(0)
            if stage != Stage.SIGNED:
                # Progress (月度投资进度) for up to the last six full months.
                lo, hi = {
                    Stage.GROUNDBREAKING: (0.15, 0.6),
                    Stage.COMPLETED: (0.7, 0.95),
                    Stage.PRODUCING: (0.85, 1.0),
                }[stage]
                final = total * Decimal(str(round(rng.uniform(lo, hi), 3)))
                fdi_final = contracted_fdi * Decimal(str(round(rng.uniform(0.3, 0.9), 2)))
                contract_month = date.fromordinal(closed).replace(day=1)
                months = []
                month = this_month
                for _ in range(6):
                    month = (month - timedelta(days=1)).replace(day=1)
                    if month < contract_month:
                        break
                    months.append(month)
                months.reverse()
                for m_index, month in enumerate(months, start=1):
                    part = Decimal(m_index) / Decimal(len(months))
                    fixed = (final * part).quantize(Decimal("1"))
                    arrived = (fdi_final * part).quantize(Decimal("1"))
                    invested = fixed
                    progress_rows.append(
                        _line(
                            pid,
                            month.isoformat(),
                            total,
                            (fixed * Decimal("1.1")).quantize(Decimal("1")),
                            fixed,
                            arrived,
                            "",
                            row[4],
                            self.ts(month.toordinal() + 40),
                        )
                    )
            projects.append(
                (
                    pid,
                    row,
                    total,
                    stage,
                    actual,
                    closed,
                    (gb_planned, completed_planned, producing_planned),
                    contracted_fdi,
                    invested,
                    arrived,
                )
            )

        self.signed_projects = projects  # the agreements step signs an agreement on them

        def project_lines() -> Iterator[str]:
            for (
                pid,
                row,
                total,
                stage,
                actual,
                closed,
                planned,
                cfdi,
                invested,
                arrived,
            ) in projects:
                lead_index = pid - first
                i = signed[lead_index][0]
                inv, unit_id, worker = row[1], row[2], row[4]
                industry = self.inv_industry[inv]
                park_kind, park_name = rng.choice(parks)
                latest = max([closed, *actual.values()])
                producing = stage == Stage.PRODUCING
                output = (
                    (total * Decimal(str(round(rng.uniform(0.8, 2.5), 2)))).quantize(Decimal("1"))
                    if producing
                    else Decimal(0)
                )
                gb, comp, prod = (
                    actual.get(s) for s in (Stage.GROUNDBREAKING, Stage.COMPLETED, Stage.PRODUCING)
                )
                name = f"{self.inv_short[inv]}{rng.choice(N.PRODUCTS[industry])}项目"
                yield _line(
                    pid,
                    self.ts(closed, 16),
                    self.ts(latest, 16),
                    "",
                    "",
                    name,
                    self.lead_first + i,
                    self.inv_first + inv,
                    unit_id,
                    worker,
                    industry,
                    park_kind,
                    park_name,
                    "",
                    self.day(closed),
                    total,
                    total,
                    (total * Decimal("0.3")).quantize(Decimal("1")),
                    cfdi,
                    arrived,
                    (total / Decimal(rng.randint(250, 600))).quantize(Decimal("0.1")),
                    invested,
                    size_class_for(total),
                    stage,
                    self.ts(latest, 16),
                    self.day(planned[0]),
                    None if gb is None else self.day(gb),
                    self.day(planned[1]),
                    None if comp is None else self.day(comp),
                    self.day(planned[2]),
                    None if prod is None else self.day(prod),
                    output,
                    (output * Decimal("0.06")).quantize(Decimal("1")),
                    int(total / Decimal(rng.randint(50, 200))) + 20 if producing else 0,
                    search_text(name),
                )

        self._copy(
            cursor,
            Project,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
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
                "size_class",
                "stage",
                "stage_changed_at",
                "groundbreaking_planned",
                "groundbreaking_actual",
                "completed_planned",
                "completed_actual",
                "producing_planned",
                "producing_actual",
                "annual_output_value",
                "annual_tax",
                "jobs",
                "search_text",
            ],
            project_lines(),
        )

        def stage_lines() -> Iterator[str]:
            for pid, row, _total, _stage, actual, closed, *_rest in projects:
                worker = row[4]
                yield f"{pid}\t{worker}\t\t{Stage.SIGNED}\t{self.day(closed)}\t\t{self.ts(closed, 16)}\n"
                previous = Stage.SIGNED
                for to in (Stage.GROUNDBREAKING, Stage.COMPLETED, Stage.PRODUCING):
                    if to not in actual:
                        break
                    d = actual[to]
                    yield f"{pid}\t{worker}\t{previous}\t{to}\t{self.day(d)}\t\t{self.ts(d, 16)}\n"
                    previous = to

        self._copy(
            cursor,
            ProjectStageEvent,
            ["project", "actor", "from_stage", "to_stage", "actual_date", "note", "created_at"],
            stage_lines(),
        )

        def assignment_lines() -> Iterator[str]:
            for pid, row, total, *_rest in projects:
                worker, unit_id = row[4], row[2]
                when = self.ts(row[15], 16)
                yield f"{worker}\t\\N\t{pid}\t{AssignmentRole.LEAD}\t{worker}\t{when}\n"
                if total >= Decimal(10000):
                    group = self._unit_by_id(unit_id).group
                    leader = self.chief_of.get(group, self.chief_of[-1])
                    yield f"{leader}\t\\N\t{pid}\t{AssignmentRole.LEADER}\t{self.chief_of[-1]}\t{when}\n"

        self._copy(
            cursor,
            Assignment,
            ["officer", "lead", "project", "role", "assigned_by", "created_at"],
            assignment_lines(),
        )
        self._copy(
            cursor,
            InvestmentProgress,
            [
                "project",
                "month",
                "agreed_investment",
                "paid_in",
                "fixed_asset_investment",
                "arrived_fdi",
                "note",
                "reported_by",
                "updated_at",
            ],
            progress_rows,
        )
        # Problems (马上办) on about 3 % of the projects not yet producing.
        open_projects = [p for p in projects if p[3] != Stage.PRODUCING]
        chosen = (
            rng.sample(open_projects, k=max(1, len(open_projects) * 3 // 100))
            if open_projects
            else []
        )
        problem_first = self._reserve(cursor, Problem, len(chosen)) if chosen else 0
        problem_rows, action_rows = [], []
        owners = self.departments
        kinds = list(ProblemKind.values)
        for n, (pid, row, *_rest) in enumerate(chosen):
            problem_id = problem_first + n
            worker, unit_id, contract = row[4], row[2], row[15]
            raised = max(contract, T - 240) + rng.randint(0, max(0, T - max(contract, T - 240)))
            due = raised + rng.randint(5, 30)
            kind = rng.choice(kinds)
            group = self._unit_by_id(unit_id).group
            owner = rng.choice([u for u in owners if u.group == group])
            roll = rng.random()
            status = (
                ProblemStatus.RESOLVED
                if roll < 0.4
                else ProblemStatus.IN_PROGRESS
                if roll < 0.6
                else ProblemStatus.OPEN
            )
            asked_twice = raised < T and rng.random() < 0.2
            second = raised + rng.randint(1, T - raised) if asked_twice else None
            resolved = None
            if status == ProblemStatus.RESOLVED:
                since = second or raised
                resolved = since + rng.randint(0, max(0, min(T, due + 10) - since))
            title = rng.choice(N.PROBLEM_TITLES[kind]).format(n=rng.randint(20, 300))
            problem_rows.append(
                _line(
                    problem_id,
                    self.ts(raised),
                    self.ts(resolved or second or raised, 17),
                    "",
                    "",
                    pid,
                    kind,
                    title,
                    "",
                    worker,
                    self.day(raised),
                    "",
                    owner.id,
                    worker,
                    self.day(due),
                    status,
                    2 if asked_twice else 1,
                    None if second is None else self.day(second),
                    None if second is None else self.ts(second, 10),
                    None if resolved is None else self.day(resolved),
                    rng.choice(N.RESOLUTIONS) if resolved is not None else "",
                )
            )
            action_rows.append(
                _line(problem_id, worker, "raised", "", ProblemStatus.OPEN, "", self.ts(raised))
            )
            current = ProblemStatus.OPEN
            if status != ProblemStatus.OPEN:
                action_rows.append(
                    _line(
                        problem_id,
                        worker,
                        "started",
                        current,
                        ProblemStatus.IN_PROGRESS,
                        "",
                        self.ts(raised, 11),
                    )
                )
                current = ProblemStatus.IN_PROGRESS
            if second is not None:
                action_rows.append(
                    _line(
                        problem_id, worker, "asked_again", current, current, "", self.ts(second, 10)
                    )
                )
            if resolved is not None:
                action_rows.append(
                    _line(
                        problem_id,
                        worker,
                        "resolved",
                        current,
                        ProblemStatus.RESOLVED,
                        "",
                        self.ts(resolved, 17),
                    )
                )
        self._copy(
            cursor,
            Problem,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
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
            ],
            problem_rows,
        )
        self._copy(
            cursor,
            ProblemAction,
            ["problem", "actor", "action", "from_status", "to_status", "note", "created_at"],
            action_rows,
        )

    def _agreements(self, cursor) -> None:
        """Investment agreements (投资协议, issue #20) on ``AGREEMENT_SHARE`` of the projects —
        proportional to them at either scale —, each with the investor's commitments (dates
        from the project's plan, amounts from its figures), verified measurements up to today
        in the proportions a project's stage gives, and the bureau's promises: land handed
        over, an incentive tranche paid, withheld, clawed back or not yet due."""
        from promo.agreements.choices import Metric, Payment, PromiseKind
        from promo.agreements.models import Agreement, Measurement, Promise, Term

        rng = self.rng
        T = self.T
        chosen = [p for p in self.signed_projects if rng.random() < AGREEMENT_SHARE]
        first_agreement = self._reserve(cursor, Agreement, len(chosen)) if chosen else 0
        verifier = self.chief_of[-1]
        agreements, terms, measurements, promises = [], [], [], []
        reach_of: dict[int, tuple[float, int, int]] = {}  # agreement -> (reach, keeper, signed)
        for n, (pid, row, total, stage, _actual, closed, planned, *_rest) in enumerate(chosen):
            aid = first_agreement + n
            worker, unit_id = row[4], row[2]
            when = self.ts(closed, 17)
            if worker == verifier:  # nobody verifies their own figure (a CHECK constraint)
                worker = next(v for v in self.chief_of.values() if v != verifier)
            agreements.append(
                _line(
                    aid,
                    when,
                    when,
                    "",
                    "",
                    pid,
                    "main",
                    f"投资协议-{pid}",
                    self.day(closed),
                    "",
                    "pro_rata",
                    worker,
                )
            )
            land = (total / Decimal(rng.randint(250, 600))).quantize(Decimal("0.01")) or Decimal(1)
            producing_due = planned[2]
            plan = [
                (Metric.START_BY, Decimal(0), planned[0], None),
                (Metric.PRODUCE_BY, Decimal(0), producing_due, None),
                (Metric.TOTAL_INVESTMENT, total, producing_due, total),
                (Metric.LAND, land, closed + 90, land),
                (
                    Metric.ANNUAL_TAX,
                    (total * Decimal("0.05")).quantize(Decimal("1")),
                    producing_due + 365,
                    (total * Decimal("0.05")).quantize(Decimal("1")),
                ),
            ]
            # How far a project's figures have come: by its stage, with a spread.
            reach = {
                Stage.SIGNED: 0.1,
                Stage.GROUNDBREAKING: 0.5,
                Stage.COMPLETED: 0.85,
                Stage.PRODUCING: 1.05,
            }[stage] * rng.uniform(0.6, 1.2)
            for metric, target, due, full in plan:
                terms.append((aid, metric, target, due, full))
            promises.append((aid, unit_id, PromiseKind.LAND_DELIVERY, closed + 60, Decimal(0)))
            promises.append(
                (
                    aid,
                    unit_id,
                    PromiseKind.INCENTIVE,
                    closed + 365,
                    (total * Decimal("0.03")).quantize(Decimal("1")),
                )
            )
            reach_of[aid] = (reach, worker, closed)
        self._copy(
            cursor,
            Agreement,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "project",
                "kind",
                "title",
                "signed_on",
                "parties",
                "clawback_rule",
                "created_by",
            ],
            agreements,
        )
        first_term = self._reserve(cursor, Term, len(terms)) if terms else 0
        term_lines = []
        for n, (aid, metric, target, due, full) in enumerate(terms):
            tid = first_term + n
            reach, worker, closed = reach_of[aid]
            when = self.ts(closed, 17)
            term_lines.append(
                _line(tid, when, when, "", "", aid, metric, target, self.day(due), "")
            )
            if full is None or T <= closed + 30:
                continue
            # Up to three verified readings, spread between the signing and today, rising
            # toward the share of the target the project's stage has reached.
            count = rng.randint(0, 3)
            days = sorted(rng.sample(range(closed + 30, T + 1), min(count, T - closed - 29)))
            for k, day_ in enumerate(days, start=1):
                value = (full * Decimal(str(round(reach * k / len(days), 3)))).quantize(
                    Decimal("1")
                )
                measurements.append(
                    _line(
                        tid,
                        self.day(day_),
                        value,
                        "统计局",
                        worker,
                        self.ts(day_, 10),
                        verifier,
                        self.ts(day_, 15),
                    )
                )
        self._copy(
            cursor,
            Term,
            [
                "id",
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "agreement",
                "metric",
                "target",
                "due_on",
                "waived_reason",
            ],
            term_lines,
        )
        self._copy(
            cursor,
            Measurement,
            [
                "term",
                "measured_on",
                "value",
                "source",
                "recorded_by",
                "recorded_at",
                "verified_by",
                "verified_at",
            ],
            measurements,
        )
        promise_lines = []
        for aid, unit_id, kind, due, amount in promises:
            _reach, _worker, closed = reach_of[aid]
            when = self.ts(closed, 17)
            delivered = None
            payment, paid, clawed = Payment.UNPAID, Decimal(0), Decimal(0)
            roll = rng.random()
            if kind == PromiseKind.LAND_DELIVERY:
                if roll < 0.8:
                    delivered = due + rng.randint(-20, 40)
                description = "交付净地"
            else:
                description = "固定资产投资奖补"
                if roll < 0.45:
                    payment, paid, delivered = Payment.PAID, amount, due + rng.randint(-30, 30)
                elif roll < 0.55:
                    payment = Payment.WITHHELD
                elif roll < 0.6:
                    payment, paid, delivered = Payment.CLAWED_BACK, amount, due - 10
                    clawed = (amount * Decimal("0.4")).quantize(Decimal("1"))
            if delivered is not None and delivered > T:
                delivered, payment, paid, clawed = None, Payment.UNPAID, Decimal(0), Decimal(0)
            promise_lines.append(
                _line(
                    when,
                    when,
                    "",
                    "",
                    aid,
                    kind,
                    description,
                    unit_id,
                    self.day(due),
                    None if delivered is None else self.day(delivered),
                    amount,
                    payment,
                    paid,
                    clawed,
                )
            )
        self._copy(
            cursor,
            Promise,
            [
                "created_at",
                "updated_at",
                "source_system",
                "external_id",
                "agreement",
                "kind",
                "description",
                "owner_unit",
                "due_on",
                "delivered_on",
                "amount",
                "payment",
                "paid_amount",
                "clawed_back_amount",
            ],
            promise_lines,
        )

    def _unit_by_id(self, unit_id: int) -> UnitRow:
        if not hasattr(self, "_units_by_id"):
            self._units_by_id = {u.id: u for u in self.units}
        return self._units_by_id[unit_id]

    # -- targets -----------------------------------------------------------------------

    def _targets(self, cursor) -> None:
        from officers.models import Target

        rng = self.rng
        year = self.today.year
        setter = self.chief_of[-1]
        now = self.ts(date(year, 1, 15).toordinal())
        rows = []
        for unit in [self.root, *self.group_bureaus, *self.working]:
            scale = 8 if unit.kind == UnitKind.BUREAU else 1
            for metric in TargetMetric.values:
                value = {
                    TargetMetric.SIGNED_COUNT: rng.randint(6, 14),
                    TargetMetric.SIGNED_AMOUNT: rng.randint(50, 150) * 1000,
                    TargetMetric.KEY_PROJECT_COUNT: rng.randint(1, 4),
                    TargetMetric.GROUNDBREAKING_COUNT: rng.randint(4, 10),
                    TargetMetric.FDI_ARRIVED: rng.randint(2, 30) * 100,
                    TargetMetric.VALID_LEAD_COUNT: rng.randint(20, 50),
                }[TargetMetric(metric)] * scale
                rows.append(f"{year}\t{unit.id}\t\\N\t{metric}\t{value}\t{setter}\t{now}\n")
            if unit.kind != UnitKind.BUREAU:
                head = self.head_of[unit.id]
                for officer in self.team[unit.id][1:]:
                    for metric in TargetMetric.values:
                        value = (
                            rng.randint(1, 5)
                            if metric != TargetMetric.SIGNED_AMOUNT
                            else rng.randint(5, 20) * 1000
                        )
                        rows.append(f"{year}\t\\N\t{officer}\t{metric}\t{value}\t{head}\t{now}\n")
        for unit in self.departments:
            rows.append(
                f"{year}\t{unit.id}\t\\N\t{TargetMetric.VALID_LEAD_COUNT}\t12\t{setter}\t{now}\n"
            )
        self._copy(
            cursor,
            Target,
            ["year", "unit", "officer", "metric", "value", "set_by", "updated_at"],
            rows,
        )
