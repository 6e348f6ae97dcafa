"""The classification table of the permission matrix: every page route and every API operation.

Each route of the URLconf (``WEB``, keyed by its route as ``django.urls`` spells it) and each
operation of the OpenAPI schema (``API``, keyed by method and schema path) has one or more
``Case``: the method, the records it is tried on (world attributes: one of unit A's and one of
unit B's), how to build the request, and who is expected to be allowed. That last part is a
function of the caller and the record built from the *same* named predicates
(``officers/permissions.py``) and visibility selectors (``*_visible_to``) the services call —
never a hand-written yes/no per role — so the matrix checks that every interface enforces
exactly what the predicates say. ``ADMIN`` holds a few representative cases of the admin
site, which is classified as a group (``admin/…``).

A route or an operation missing here fails ``test_every_route_and_operation_is_classified``:
a new endpoint cannot ship unclassified.

Rules that hold for every API case (not repeated per entry): a read-only API client's
write is refused (``ApiClientAccessPermission``), and the caller of a token is the token's
officer (officer A for both clients of the world).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from leads.choices import REFERRAL_CHANNELS, LeadStatus
from leads.selectors import (
    assist_requests_visible_to,
    claims_visible_to,
    intermediaries_visible_to,
    investors_visible_to,
    leads_visible_to,
    promotion_events_visible_to,
    visits_visible_to,
)
from officers import permissions as P
from officers.choices import AssignmentRole
from officers.models import Assignment
from officers.selectors import (
    breakdown_officers,
    breakdown_units_for,
    org_officers_visible_to,
    org_units_visible_to,
    sessions_visible_to,
    targets_visible_to,
    units_visible_to,
)
from projects.models import MilestoneEvidence, Project, StageEvidence
from projects.selectors import (
    investor_pages_visible_to,
    problems_visible_to,
    projects_visible_to,
    service_visits_visible_to,
)
from promo.agreements.models import IncentiveRequest, Measurement
from promo.agreements.selectors import agreements_visible_to
from promo.api.clients import api_clients_visible_to
from promo.campaigns.selectors import campaigns_visible_to
from promo.core.services import today
from promo.imports.selectors import batches_visible_to, export_jobs_visible_to
from promo.reports.models import AlertNotice
from promo.reports.selectors import bulletins_visible_to, notices_for
from promo.workspace.selectors import calendar_feeds_visible_to
from tests.factories import PASSWORD


class Outcome(enum.Enum):
    ALLOW = "allow"  # served (a read) or written (a write)
    DENY = "deny"  # refused (401, 403, 404, 405 or the sign-in page) and nothing written
    RULE = "rule"  # allowed in, then refused by a business rule (400, 409, a message): no write
    NOOP = "noop"  # served, nothing to write (setting the language while signed out…)


ALLOW, DENY, RULE, NOOP = Outcome.ALLOW, Outcome.DENY, Outcome.RULE, Outcome.NOOP


@dataclass
class Ctx:
    """One case: the world, who calls (``actor`` None when not signed in), on which record."""

    world: Any
    persona: Any
    actor: Any
    record: Any
    api: bool


Check = Callable[[Ctx], bool]
Expect = Callable[[Ctx], Outcome]


@dataclass(frozen=True)
class Case:
    method: str
    expect: Expect
    records: tuple[str | None, ...] = (None,)
    # URL keyword arguments besides the record's ``pk``/``id`` (values or callables of world
    # and record); ``query``: a query string for reads.
    kwargs: dict[str, Any] = field(default_factory=dict)
    query: str = ""
    # The body: a dict, or a callable of (world, record) returning one.
    data: Any = None
    multipart: bool = False
    # Statuses that also mean "refused" for this case, besides 401/403/404/405 and the sign-in
    # page: 200 for a page that answers with the form and its error (a hidden record is no
    # valid choice), 400 for an API field naming a hidden record, 302 for a refusal shown as
    # a message on the next page, 409 for the upsert's generic conflict.
    refused_with: frozenset[int] = frozenset()
    fresh_client: bool = False  # the case changes the session itself (sign-out, password…)
    # Tables a read may write (a read receipt), named so that no other read writes anything;
    # for a write refused or without effect, a side record it may leave (a sign-out's session).
    read_receipts: frozenset[str] = frozenset()
    label: str = ""


# --- checks built from the predicates and the selectors ------------------------------------


def signed_in(c: Ctx) -> bool:
    return c.actor is not None


def sees(selector: Callable[[Any], Any], of: Callable[[Any], Any] | None = None) -> Check:
    """The record (or ``of(record)``) is in ``selector(actor)``: the same selector the
    service locks through (``lock_visible``) and the page reads through."""

    def check(c: Ctx) -> bool:
        if c.actor is None:
            return False
        target = of(c.record) if of else c.record
        return c.world.visible(selector, c.actor, target)

    check.__name__ = f"sees({selector.__name__})"
    return check


def may(predicate: Callable[..., bool], **kwargs: Any) -> Check:
    """A predicate of officers/permissions.py on (actor, record)."""

    def check(c: Ctx) -> bool:
        if c.actor is None:
            return False
        extra = {k: v(c) if callable(v) else v for k, v in kwargs.items()}
        return bool(predicate(c.actor, c.record, **extra))

    return check


def may_officer(predicate: Callable[[Any], bool]) -> Check:
    """A predicate of officers/permissions.py on the actor alone."""
    return lambda c: c.actor is not None and bool(predicate(c.actor))


works = may_officer(P.may_work_records)
holds_records = may_officer(P.may_hold_records)


def allow_if(*checks: Check, rule: Check | None = None) -> Expect:
    """ALLOW when every check holds (RULE if then ``rule`` holds: a business rule refuses),
    else DENY."""

    def expect(c: Ctx) -> Outcome:
        if not all(check(c) for check in checks):
            return DENY
        return RULE if rule is not None and rule(c) else ALLOW

    return expect


def shown_if(*checks: Check) -> Expect:
    """NOOP (served, nothing written: a reveal shows and announces, the audit trail records
    it) when every check holds, else DENY (refused, nothing written or announced)."""

    def expect(c: Ctx) -> Outcome:
        return NOOP if all(check(c) for check in checks) else DENY

    return expect


def always(outcome: Outcome) -> Expect:
    return lambda c: outcome


def signed_in_else(outcome: Outcome, otherwise: Outcome = DENY) -> Expect:
    return lambda c: outcome if c.actor is not None else otherwise


def has_second_factor_else(otherwise: Outcome) -> Expect:
    """ALLOW for a caller who must use a second factor (``must_use_two_factor``: the matrix's
    sign-in gave them a device), ``otherwise`` for other signed-in callers, DENY signed out."""

    def expect(c: Ctx) -> Outcome:
        if c.actor is None:
            return DENY
        return ALLOW if P.must_use_two_factor(c.actor) else otherwise

    return expect


def not_token(c: Ctx) -> bool:
    """API clients are managed from a browser session: a token cannot mint or revoke tokens."""
    return not c.persona.is_token


def investor_of(record: Any) -> Any:
    return record.investor


def may_keep_contact(c: Ctx) -> bool:
    """A contact is kept by whoever may keep its investor's contacts."""
    return c.actor is not None and P.may_edit_investor_contacts(c.actor, c.record.investor)


def project_of_evidence(record: Any) -> Any:
    return record.stage_event.project


def project_of_agreement(record: Any) -> Any:
    return record.project


def keeps_agreement(project_of: Callable[[Any], Any]) -> Check:
    return lambda c: c.actor is not None and P.may_keep_agreement(c.actor, project_of(c.record))


def verifies_measurement(c: Ctx) -> bool:
    measurement = Measurement.objects.get(term__agreement=c.record)
    return c.actor is not None and P.may_verify_measurement(c.actor, c.record.project, measurement)


def waives_term(c: Ctx) -> bool:
    return c.actor is not None and P.may_waive_term(c.actor, c.record.project)


def decides_incentive(c: Ctx) -> bool:
    request = IncentiveRequest.objects.get(promise__agreement=c.record)
    return c.actor is not None and P.may_decide_incentive(c.actor, c.record.project, request)


def assigned(c: Ctx) -> bool:
    return Assignment.objects.filter(lead=c.record, officer=c.actor).exists()


def not_signable(c: Ctx) -> bool:
    """Only a lead in negotiation is signed (the department's is still 信息)."""
    return not c.record.can_transition_to(LeadStatus.SIGNED)


# --- records and payloads ------------------------------------------------------------------

# Unit A's, unit B's and, where a department user has any, the department's (…_d).
LEADS = ("lead_a", "lead_b", "lead_d")
PROJECTS = ("project_a", "project_b")
AGREEMENTS = ("agreement_a", "agreement_b")
PROBLEMS = ("problem_a", "problem_b", "problem_d")
INVESTORS = ("investor_a", "investor_b", "investor_d")
FREE_INVESTORS = ("free_investor_a", "free_investor_b", "free_investor_d")
CONTACTS = ("contact_a", "contact_b")
CLAIMS = ("claim_a", "claim_b")
ASSISTS = ("assist_a", "assist_b")
BATCHES = ("batch_a", "batch_b")
EXPORTS = ("export_a", "export_b")
UNITS = ("unit_a", "unit_b")
BULLETINS = ("bulletin_draft", "bulletin_published")
CAMPAIGNS = ("campaign_a", "campaign_b")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def day(offset: int = 0) -> str:
    return (today() + timedelta(days=offset)).isoformat()


def month_start() -> str:
    return today().replace(day=1).isoformat()


def fresh_project(record: Any) -> Project:
    return Project.objects.get(pk=record.pk)


def colleague_of(w: Any, record: Any) -> Any:
    """An officer of the record's unit who is not on it yet (a 协办 to bring in)."""
    return w.teammate_a if record.unit_id == w.unit_a.pk else w.assistant_b


SIGN_FORM = {
    "name": "矩阵签约项目",
    "contract_date": "{today}",
    "total_investment": "8000",
    "registered_capital": "0",
    "contracted_fdi": "0",
    "land_area": "0",
    "park_kind": "economic_zone",
}


def sign_form(w: Any, r: Any) -> dict:
    return {**SIGN_FORM, "contract_date": day()}


def plan_form(w: Any, r: Any) -> dict:
    project = fresh_project(r)
    return {
        "updated_at": project.updated_at.isoformat(),
        "groundbreaking_planned": day(30),
        "completed_planned": day(300),
        "producing_planned": day(400),
        "reason": "矩阵调整",
    }


def figures_form(w: Any, r: Any) -> dict:
    project = fresh_project(r)
    return {
        "updated_at": project.updated_at.isoformat(),
        "signed_investment": "13000",
        "registered_capital": "0",
        "contracted_fdi": "0",
        "land_area": "0",
        "annual_output_value": "0",
        "annual_tax": "0",
        "jobs": "10",
        "reason": "矩阵更正",
    }


PROGRESS = {"agreed_investment": "100", "paid_in": "50", "fixed_asset_investment": "40"}


def progress_form(w: Any, r: Any) -> dict:
    return {**PROGRESS, "arrived_fdi": "0", "month": month_start()}


def problem_form(w: Any, r: Any) -> dict:
    return {"kind": "power", "title": "矩阵新问题", "owner_unit": r.unit_id, "due_on": day(5)}


def service_visit_form(w: Any, r: Any) -> dict:
    return {"visited_on": day(), "satisfaction": "4", "employment": "120",
            "has_expansion_plan": "no"}  # fmt: skip


def not_producing(c: Ctx) -> bool:
    """An envoy is named, and service visits logged, only once a project produces (投产)."""
    return c.record.stage != "producing"


def evidence_form(w: Any, r: Any) -> dict:
    event = r.stage_events.get()
    return {
        f"ev{event.pk}-kind": "business_licence",
        f"ev{event.pk}-file": SimpleUploadedFile("矩阵证明.pdf", PDF),
    }


def advance_form(w: Any, r: Any) -> dict:
    """开工 with a permit, which the bureau's default rule accepts (a fresh file each call)."""
    return {
        "actual_date": day(),
        "note": "矩阵开工",
        "evidence_kind": "construction_permit",
        "evidence": SimpleUploadedFile("矩阵施工许可证.pdf", PDF),
    }


def milestone_form(w: Any, r: Any) -> dict:
    # The world records 供地 on its projects; 入统 is still open to record.
    return {"milestone": "in_statistics", "actual_date": day()}


def milestone_fix_form(w: Any, r: Any) -> dict:
    return {"milestone": "land_granted", "actual_date": day(-1), "reason": "矩阵更正"}


def milestone_event_of(w: Any, r: Any) -> int:
    return r.milestone_events.get().pk


def milestone_evidence_form(w: Any, r: Any) -> dict:
    event = r.milestone_events.get()
    return {
        f"mev{event.pk}-kind": "land_contract",
        f"mev{event.pk}-file": SimpleUploadedFile("矩阵供地补充.pdf", PDF),
    }


def milestone_evidence_selector(officer: Any) -> Any:
    return MilestoneEvidence.objects.filter(
        milestone_event__project__in=projects_visible_to(officer)
    )


def stage_event_of(w: Any, r: Any) -> int:
    return r.stage_events.get().pk


def visit_form(w: Any, r: Any) -> dict:
    return {"kind": "visit", "visited_on": day(), "investor": r.pk, "summary": "矩阵洽谈"}


def lead_form(w: Any, r: Any) -> dict:
    return {
        "investor": r.pk,
        "name": "矩阵新项目信息",
        "industry": "electronics",
        "chain_role": "none",
        "source_channel": "stationed",
        "estimated_amount": "100",
        "estimated_fdi": "0",
        "first_contact_on": day(),
    }


def upload_form(w: Any, r: Any) -> dict:
    from tests.imports.files import xlsx

    data = xlsx([["项目名称", "投资方", "总投资(万元)"], ["矩阵上传项目", "某公司", "100"]])
    return {"kind": "leads", "unit": r.pk, "file": SimpleUploadedFile("矩阵.xlsx", data)}


def breakdown_form(w: Any, r: Any) -> dict:
    people = breakdown_officers(r)
    return {"year": str(today().year), **{f"p{p.pk}": "3" for p in people}}


def has_unread_notices(c: Ctx) -> bool:
    return notices_for(c.actor).filter(read_at__isnull=True).exists()


def notified_of(c: Ctx) -> bool:
    """alert_acknowledge's rule: a chief, or an officer the alert's notices went to."""
    return (
        c.actor.sees_whole_bureau
        or AlertNotice.objects.filter(alert=c.record, recipient=c.actor).exists()
    )


def evidence_selector(officer: Any) -> Any:
    return StageEvidence.objects.filter(stage_event__project__in=projects_visible_to(officer))


def stops_own_live_feed(c: Ctx) -> Outcome:
    """Stopping a calendar feed address stops the caller's own live one, if they have one."""
    if c.actor is None:
        return DENY
    live = calendar_feeds_visible_to(c.actor).filter(revoked_at__isnull=True).exists()
    return ALLOW if live else NOOP


FORM_ERROR = frozenset({200})  # the page answers with the form and its error
FIELD_ERROR = frozenset({400})  # the API names the field that points at a hidden record
MESSAGE = frozenset({302})  # refused with a message on the next page


# --- the pages -------------------------------------------------------------------------------

signed_in_read = Case("GET", signed_in_else(ALLOW))

WEB: dict[str, list[Case]] = {
    # Probes and the API's own pages.
    "healthz": [Case("GET", always(ALLOW))],
    "readyz": [Case("GET", always(ALLOW))],
    "i18n/setlang/": [
        Case("POST", always(NOOP), data={"language": "zh-hans", "next": "/"}, fresh_client=True)
    ],
    # The schema and its viewer need a signed-in officer or an API token (drf-spectacular's
    # SERVE_PERMISSIONS: IsAuthenticated, issue #16).
    "api/schema/": [Case("GET", signed_in_else(ALLOW), query="?format=json")],
    "api/docs/": [Case("GET", signed_in_else(ALLOW))],
    "api/": [Case("GET", always(DENY))],  # any unknown API path: the API's 404
    # Accounts: one's own session, password and language.
    "": [signed_in_read],
    # The header's search box: any signed-in officer; what it lists is filtered by the
    # selectors (tests/web/test_search.py proves an outsider finds nothing of another unit).
    "search/": [Case("GET", signed_in_else(ALLOW), query="?q=huawei")],
    # Whether one's own form was saved (a draft asks before it is put back): a key another
    # officer used answers as unknown (tests/web/test_double_submit.py).
    "submissions/<uuid:key>/": [
        Case("GET", signed_in_else(ALLOW), kwargs={"key": "00000000-0000-0000-0000-000000000000"})
    ],
    # The phone app's service worker and manifest (离线登记走访): public files about no record,
    # served from the root so the worker's scope covers /visits/new/ (tests/web/test_offline.py).
    "sw.js": [Case("GET", always(ALLOW))],
    "manifest.webmanifest": [Case("GET", always(ALLOW))],
    "login/": [
        Case("GET", always(ALLOW)),
        Case("POST", always(NOOP), data={"username": "", "password": ""}, fresh_client=True),
    ],
    # Signing out ends the session's row (officers.OfficerSession): its record, not a change.
    "logout/": [
        Case(
            "POST",
            always(NOOP),
            fresh_client=True,
            read_receipts=frozenset({"officers_officersession"}),
        )
    ],
    "password/": [
        signed_in_read,
        Case(
            "POST",
            signed_in_else(ALLOW),
            data={
                "old_password": PASSWORD,
                "new_password1": "Matrix-new-Pass-2026",
                "new_password2": "Matrix-new-Pass-2026",
            },
            fresh_client=True,
        ),
    ],
    "language/": [
        Case("POST", signed_in_else(ALLOW, NOOP), data={"language": "en"}, fresh_client=True)
    ],
    # 日程 (issue #15): one's own calendar; the feed address is made, replaced and stopped by
    # its officer alone (calendar_feeds_visible_to: one's own rows), from a session.
    "calendar/": [signed_in_read],
    "calendar/feed/": [Case("POST", signed_in_else(ALLOW))],
    # Officer A has a live address in the world; anyone else has nothing to stop.
    "calendar/feed/revoke/": [Case("POST", stops_own_live_feed)],
    # The feed: no session, the token in the address is the credential. Officer A's token
    # serves A's calendar to whoever holds it (the session, if any, plays no part; reading it
    # stamps last_used_at); an unknown token is a bare 404 for everyone.
    "calendar/feed/<slug:token>.ics": [
        Case(
            "GET",
            always(ALLOW),
            kwargs={"token": lambda w, r: w.feed_token_a},
            read_receipts=frozenset({"workspace_calendarfeed"}),
            label="officer A's token",
        ),
        Case("GET", always(DENY), kwargs={"token": "A" * 43}, label="unknown token"),
    ],
    # One's own sign-ins (登录会话): listed and ended by their officer alone.
    "sessions/": [signed_in_read],
    "sessions/<int:pk>/end/": [
        Case(
            "POST",
            allow_if(sees(sessions_visible_to)),
            records=("officer_session_a", "officer_session_b"),
        )
    ],
    # Second factor (双因素认证): one's own, from a session. The matrix's callers passed it
    # (tests/conftest.py signs them in verified; those who must use one hold a test device).
    # A POST with a wrong code: a verified session is sent back to the page (nothing written).
    "account/two-factor/": [
        signed_in_read,
        Case("POST", signed_in_else(NOOP), data={"code": "000000"}),
    ],
    # The enrolment page writes nothing (the secret waits in the session); a wrong first code
    # (and, for a caller replacing a device, a wrong current code: django-otp counts the
    # failure on the device) enrols nothing.
    "account/two-factor/enrol/": [
        signed_in_read,
        Case(
            "POST",
            signed_in_else(RULE),
            data={"code": "000000", "current_code": "000000"},
            read_receipts=frozenset({"otp_totp_totpdevice"}),
        ),
    ],
    # New recovery codes: for a caller with a device (those who must use one hold one here);
    # the others have none to renew.
    "account/two-factor/recovery-codes/": [Case("POST", has_second_factor_else(NOOP))],
    # Removing one's own: refused to those who must use one, a wrong code for the others.
    "account/two-factor/remove/": [Case("POST", signed_in_else(NOOP), data={"code": "000000"})],
    # A security administrator resets another officer's (their sessions end with it).
    "account/two-factor/reset/<int:pk>/": [
        Case(
            method,
            allow_if(sees(org_officers_visible_to), may(P.may_reset_two_factor)),
            records=("teammate_a", "officer_b"),
        )
        for method in ("GET", "POST")
    ],
    # Sign-in lockouts (登录锁定): seen and cleared by the security administrator (三员分立);
    # the counters live in Redis, so a clearing writes nothing to the database.
    "account/lockouts/": [
        Case("GET", allow_if(may_officer(P.may_clear_lockouts))),
        Case(
            "POST",
            lambda c: NOOP if c.actor is not None and P.may_clear_lockouts(c.actor) else DENY,
            data={"username": "m_nobody"},
        ),
    ],
    # Leads.
    "visits/new/": [
        signed_in_read,
        Case(
            "POST",
            allow_if(works, sees(investors_visible_to)),
            records=INVESTORS,
            data=visit_form,
            refused_with=FORM_ERROR,
        ),
    ],
    "investors/search/": [Case("GET", signed_in_else(ALLOW), query="?q=矩阵")],
    # The investor's page (projects.views_investors): what investors_visible_to shows and the
    # investors of visible projects; its contacts are kept by may_edit_investor_contacts.
    "investors/<int:pk>/": [
        Case("GET", allow_if(sees(investor_pages_visible_to)), records=INVESTORS)
    ],
    "investors/<int:pk>/contacts/new/": [
        Case(
            "POST",
            allow_if(sees(investor_pages_visible_to), may(P.may_edit_investor_contacts)),
            records=INVESTORS,
            data={"new-name": "矩阵新联系人", "new-phone": "021-5555 0000"},
        )
    ],
    "contacts/<int:pk>/edit/": [
        Case(
            "POST",
            allow_if(sees(investor_pages_visible_to, investor_of), may_keep_contact),
            records=CONTACTS,
            data=lambda w, r: {f"c{r.pk}-name": "矩阵改名联系人"},
        )
    ],
    "contacts/<int:pk>/remove/": [
        Case(
            "POST",
            allow_if(sees(investor_pages_visible_to, investor_of), may_keep_contact),
            records=CONTACTS,
        )
    ],
    # Personal data in full (issue #16): a recorded reveal, for those with a need.
    "contacts/<int:pk>/reveal/": [
        Case(
            "POST",
            shown_if(
                sees(investor_pages_visible_to, investor_of),
                may(P.may_reveal_contact_details),
            ),
            records=CONTACTS,
            data={"reason": "矩阵回访"},
        )
    ],
    "intermediaries/<int:pk>/reveal/": [
        Case(
            "POST",
            shown_if(sees(intermediaries_visible_to), may(P.may_reveal_intermediary_details)),
            records=("intermediary_a", "intermediary_b"),
            data={"reason": "矩阵回访"},
        )
    ],
    "leads/": [signed_in_read],
    "leads/visits/": [signed_in_read],
    "leads/investors/visiting/": [signed_in_read],
    "leads/new/": [
        signed_in_read,
        Case(
            "POST",
            allow_if(sees(investors_visible_to)),
            records=FREE_INVESTORS,
            data=lead_form,
            refused_with=FORM_ERROR,
        ),
    ],
    "leads/<int:pk>/": [Case("GET", allow_if(sees(leads_visible_to)), records=LEADS)],
    "leads/<int:pk>/assist/": [
        Case(
            "POST",
            allow_if(works, sees(investors_visible_to, investor_of), rule=assigned),
            records=LEADS,
            refused_with=MESSAGE,
        )
    ],
    "leads/<int:pk>/claim/": [
        Case("GET", allow_if(sees(investors_visible_to, investor_of)), records=LEADS),
        Case(
            "POST",
            allow_if(
                works,
                sees(investors_visible_to, investor_of),
                rule=lambda c: c.actor.unit_id == c.record.unit_id,
            ),
            records=LEADS,
            data=lambda w, r: {f"claim{r.pk}-reason": "矩阵撞单"},
            refused_with=FORM_ERROR,
        ),
    ],
    # 反馈引荐人 (issue #20): the lead's own people; a lead without a referrer is refused by
    # the rule (a message on the lead's page), nothing written.
    "leads/<int:pk>/feedback/": [
        Case(
            "POST",
            allow_if(
                works,
                sees(leads_visible_to),
                may(P.may_give_referrer_feedback),
                rule=lambda c: (
                    c.record.intermediary_id is None
                    and c.record.source_channel not in REFERRAL_CHANNELS
                ),
            ),
            records=LEADS,
            data={"feedback-note": "矩阵反馈"},
            refused_with=frozenset({302}),
        )
    ],
    # Opening the list marks the 主办's notices of requests to join as read.
    "claims/": [
        Case(
            "GET",
            signed_in_else(ALLOW),
            read_receipts=frozenset({"leads_leadassistrequest", "leads_leadassistrequestevent"}),
        )
    ],
    "claims/<int:pk>/decide/": [
        Case(
            "POST",
            allow_if(sees(claims_visible_to), may(P.may_decide_claim)),
            records=CLAIMS,
            data=lambda w, r: {f"c{r.pk}-outcome": "refuse"},
        )
    ],
    "claims/<int:pk>/withdraw/": [
        Case(
            "POST",
            allow_if(sees(claims_visible_to), lambda c: c.record.claimant_id == c.actor.pk),
            records=CLAIMS,
        )
    ],
    "assist-requests/<int:pk>/decide/": [
        Case(
            "POST",
            allow_if(sees(assist_requests_visible_to), may(P.may_decide_assist_request)),
            records=ASSISTS,
            data={"approve": "1"},
        )
    ],
    "leads/<int:pk>/<slug:action>/": [
        Case(
            "POST",
            allow_if(works, sees(leads_visible_to), may(P.may_change_lead_status)),
            records=LEADS,
            kwargs={"action": "drop"},
            data={"drop-reason": "矩阵放弃"},
        )
    ],
    # Projects (signing a lead is served by the projects app).
    "leads/<int:pk>/sign/": [
        Case("GET", allow_if(sees(leads_visible_to), may(P.may_sign_lead)), records=LEADS),
        Case(
            "POST",
            allow_if(works, sees(leads_visible_to), may(P.may_sign_lead), rule=not_signable),
            records=LEADS,
            data=sign_form,
        ),
    ],
    "projects/": [signed_in_read],
    "projects/board/": [signed_in_read],
    "projects/<int:pk>/": [Case("GET", allow_if(sees(projects_visible_to)), records=PROJECTS)],
    "projects/<int:pk>/advance/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_advance_project)),
            records=PROJECTS,
            data=advance_form,
            multipart=True,
        )
    ],
    "projects/<int:pk>/milestones/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_advance_project)),
            records=PROJECTS,
            data=milestone_form,
            multipart=True,
        )
    ],
    "projects/<int:pk>/milestones/correct/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_correct_milestone)),
            records=PROJECTS,
            data=milestone_fix_form,
            multipart=True,
        )
    ],
    "projects/<int:pk>/plan/": [
        Case("POST", allow_if(works, sees(projects_visible_to)), records=PROJECTS, data=plan_form)
    ],
    "projects/<int:pk>/figures/": [
        Case(
            "POST", allow_if(works, sees(projects_visible_to)), records=PROJECTS, data=figures_form
        )
    ],
    "projects/<int:pk>/progress/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            data=progress_form,
        )
    ],
    "projects/<int:pk>/problems/new/": [
        Case("GET", allow_if(sees(projects_visible_to)), records=PROJECTS),
        Case("POST", allow_if(sees(projects_visible_to)), records=PROJECTS, data=problem_form),
    ],
    # Aftercare (亲商服务): the matrix's projects are not producing, so an allowed write is
    # refused by the rule (an envoy and visits come once a project produces) and writes nothing.
    "projects/<int:pk>/aftercare/": [
        Case("GET", allow_if(sees(projects_visible_to)), records=PROJECTS)
    ],
    "projects/<int:pk>/aftercare/envoy/": [
        Case(
            "POST",
            allow_if(sees(projects_visible_to), may(P.may_name_envoy), rule=not_producing),
            records=PROJECTS,
            data={"service_envoy": "", "green_card": "on"},
        )
    ],
    "projects/<int:pk>/aftercare/visits/new/": [
        Case(
            "GET",
            allow_if(sees(projects_visible_to), may(P.may_log_service_visit)),
            records=PROJECTS,
        ),
        Case(
            "POST",
            allow_if(sees(projects_visible_to), may(P.may_log_service_visit), rule=not_producing),
            records=PROJECTS,
            data=service_visit_form,
        ),
    ],
    "projects/<int:pk>/stages/<int:event_id>/evidence/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            kwargs={"event_id": stage_event_of},
            data=evidence_form,
            multipart=True,
        )
    ],
    "evidence/<int:pk>/": [
        Case("GET", allow_if(sees(evidence_selector)), records=("evidence_a", "evidence_b"))
    ],
    "projects/<int:pk>/milestones/<int:event_id>/evidence/": [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            kwargs={"event_id": milestone_event_of},
            data=milestone_evidence_form,
            multipart=True,
        )
    ],
    "milestone-evidence/<int:pk>/": [
        Case(
            "GET",
            allow_if(sees(milestone_evidence_selector)),
            records=("milestone_evidence_a", "milestone_evidence_b"),
        )
    ],
    "problems/<int:pk>/": [Case("GET", allow_if(sees(problems_visible_to)), records=PROBLEMS)],
    "problems/<int:pk>/<slug:action>/": [
        Case(
            "POST",
            allow_if(sees(problems_visible_to)),
            records=PROBLEMS,
            kwargs={"action": "start"},
            label="start",
        ),
        Case(
            "POST",
            allow_if(sees(problems_visible_to)),
            records=PROBLEMS,
            kwargs={"action": "ask"},
            data={"note": "企业再次反映"},
            label="ask",
        ),
        Case(
            "POST",
            allow_if(sees(problems_visible_to), may(P.may_resolve_problem)),
            records=PROBLEMS,
            kwargs={"action": "resolve"},
            data=lambda w, r: {"resolution": "已协调供电", "resolved_on": day()},
            label="resolve",
        ),
    ],
    # Imports and exports.
    "imports/": [signed_in_read],
    "imports/new/": [
        signed_in_read,
        Case(
            "POST",
            allow_if(sees(units_visible_to)),
            records=UNITS,
            data=upload_form,
            multipart=True,
            refused_with=FORM_ERROR,
        ),
    ],
    "imports/<int:pk>/": [Case("GET", allow_if(sees(batches_visible_to)), records=BATCHES)],
    "imports/<int:pk>/progress/": [
        Case("GET", allow_if(sees(batches_visible_to)), records=BATCHES)
    ],
    "imports/<int:pk>/confirm/": [
        Case(
            "POST",
            allow_if(sees(batches_visible_to), lambda c: c.record.uploaded_by_id == c.actor.pk),
            records=BATCHES,
            refused_with=MESSAGE,
        )
    ],
    "imports/<int:pk>/mapping/": [
        Case(
            "POST",
            allow_if(sees(batches_visible_to), lambda c: c.record.uploaded_by_id == c.actor.pk),
            records=BATCHES,
            data={"col_0": "name", "col_1": "investor", "col_2": "estimated_amount"},
            refused_with=MESSAGE,
        )
    ],
    # A blank ledger to fill in: no record in it, any officer's.
    "imports/template/<str:kind>.xlsx": [
        Case("GET", signed_in_else(ALLOW), kwargs={"kind": "leads"})
    ],
    "imports/export/<str:what>.<str:fmt>": [
        Case("GET", signed_in_else(ALLOW), kwargs={"what": what, "fmt": "csv"}, label=what)
        for what in ("leads", "projects", "visits", "agreement_terms")
    ],
    # Export jobs and their files: their requester's alone (a chief's included).
    "imports/exports/": [signed_in_read],
    **{
        f"imports/exports/<int:pk>/{tail}": [
            Case("GET", allow_if(sees(export_jobs_visible_to)), records=EXPORTS)
        ]
        for tail in ("", "progress/", "download/")
    },
    # The cockpit and the target breakdown.
    "dashboard/": [Case("GET", allow_if(may_officer(P.may_read_cockpit)))],
    "operations/": [Case("GET", allow_if(may_officer(P.may_read_operations)))],
    # The audit trail (安全审计): the audit administrator alone reads and exports it.
    "audit/": [Case("GET", allow_if(may_officer(P.may_read_audit_trail)))],
    "audit/export.<str:fmt>": [
        Case("GET", allow_if(may_officer(P.may_read_audit_trail)), kwargs={"fmt": fmt}, label=fmt)
        for fmt in ("xlsx", "csv")
    ],
    "dashboard/export/<slug:table>.xlsx": [
        Case("GET", allow_if(may_officer(P.may_read_cockpit)), kwargs={"table": "figures"})
    ],
    "dashboard/targets/": [
        Case("GET", allow_if(lambda c: signed_in(c) and breakdown_units_for(c.actor).exists()))
    ],
    "dashboard/targets/<int:unit_id>/<slug:metric>/": [
        Case(
            method,
            allow_if(sees(breakdown_units_for)),
            records=UNITS,
            kwargs={"unit_id": lambda w, r: r.pk, "metric": "signed_count"},
            data=breakdown_form if method == "POST" else None,
        )
        for method in ("GET", "POST")
    ],
    # Reports: notices, alerts, bulletins.
    "reports/notices/": [signed_in_read],
    "reports/notices/read-all/": [
        Case(
            "POST",
            lambda c: DENY if c.actor is None else (ALLOW if has_unread_notices(c) else NOOP),
        )
    ],
    # A system notice (系统通知) of nobody in this world: marking it read is refused to everyone.
    "reports/system-notices/<int:pk>/read/": [Case("POST", always(DENY), kwargs={"pk": 987654321})],
    "reports/notices/<int:pk>/read/": [
        Case(
            "POST",
            allow_if(signed_in, lambda c: c.record.recipient_id == c.actor.pk),
            records=("notice_a", "notice_b"),
        )
    ],
    "reports/alerts/<int:pk>/acknowledge/": [
        Case("POST", allow_if(signed_in, notified_of), records=("alert_a", "alert_b"))
    ],
    # 协议履约分析: every signed-in officer, over the agreements he sees (issue #20).
    "reports/agreements/": [signed_in_read],
    "reports/bulletins/": [Case("GET", allow_if(may_officer(P.may_read_bulletins)))],
    "reports/bulletins/<int:pk>/": [
        Case("GET", allow_if(sees(bulletins_visible_to)), records=BULLETINS)
    ],
    "reports/bulletins/<int:pk>/xlsx/": [
        Case("GET", allow_if(sees(bulletins_visible_to)), records=BULLETINS)
    ],
    "reports/bulletins/<int:pk>/docx/": [
        Case("GET", allow_if(sees(bulletins_visible_to)), records=BULLETINS)
    ],
    "reports/bulletins/<int:pk>/pdf/": [
        Case("GET", allow_if(sees(bulletins_visible_to)), records=BULLETINS)
    ],
    # The confirmation page (GET), then the POST that carries the explicit confirmation; a
    # POST without it publishes nothing (issue 17).
    "reports/bulletins/<int:pk>/publish/": [
        Case(
            "GET",
            allow_if(
                sees(bulletins_visible_to),
                may_officer(P.may_publish_bulletin),
                rule=lambda c: c.record.status == "published",
            ),
            records=BULLETINS,
        ),
        Case(
            "POST",
            allow_if(
                sees(bulletins_visible_to),
                may_officer(P.may_publish_bulletin),
                rule=lambda c: c.record.status == "published",
            ),
            records=BULLETINS,
            data={"confirm": "yes"},
            refused_with=MESSAGE,
        ),
        Case(
            "POST",
            allow_if(
                sees(bulletins_visible_to),
                may_officer(P.may_publish_bulletin),
                rule=lambda c: True,
            ),
            records=BULLETINS,
            refused_with=MESSAGE,
            label="without the confirmation",
        ),
    ],
    # Campaigns.
    # The agreement ledger (投资协议履约): seen with its project; the keeping, the verifying,
    # the waiver and the four-eyes decision each ask their own predicate.
    "agreements/": [signed_in_read],
    "agreements/promises/": [signed_in_read],
    "agreements/terms/": [signed_in_read],
    "agreements/new/<int:project_pk>/": [
        Case(
            "GET",
            allow_if(sees(projects_visible_to), keeps_agreement(lambda r: r)),
            records=PROJECTS,
            kwargs={"project_pk": lambda w, r: r.pk},
        ),
        Case(
            "POST",
            allow_if(sees(projects_visible_to), keeps_agreement(lambda r: r)),
            records=PROJECTS,
            kwargs={"project_pk": lambda w, r: r.pk},
            data=lambda w, r: {
                "kind": "supplement",
                "title": "矩阵补充协议",
                "signed_on": day(),
                "clawback_rule": "pro_rata",
            },
        ),
    ],
    "agreements/<int:pk>/": [
        Case("GET", allow_if(sees(agreements_visible_to)), records=AGREEMENTS)
    ],
    "agreements/<int:pk>/<slug:action>/": [
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), keeps_agreement(project_of_agreement)),
            records=AGREEMENTS,
            kwargs={"action": "term"},
            data=lambda w, r: {"metric": "jobs", "target": "20", "due_on": day()},
            label="term",
        ),
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), keeps_agreement(project_of_agreement)),
            records=AGREEMENTS,
            kwargs={"action": "talk"},
            data=lambda w, r: {"note": "矩阵约谈", "decision": "限期整改"},
            label="talk",
        ),
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), verifies_measurement),
            records=AGREEMENTS,
            kwargs={"action": "verify"},
            data=lambda w, r: {"measurement": Measurement.objects.get(term__agreement=r).pk},
            label="verify",
        ),
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), waives_term),
            records=AGREEMENTS,
            kwargs={"action": "waive"},
            data=lambda w, r: {"term": r.terms.get().pk, "reason": "矩阵豁免"},
            label="waive",
        ),
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), decides_incentive),
            records=AGREEMENTS,
            kwargs={"action": "decide"},
            data=lambda w, r: {
                "request": IncentiveRequest.objects.get(promise__agreement=r).pk,
                "approve": "1",
            },
            label="decide",
        ),
    ],
    "campaigns/": [signed_in_read],
    "campaigns/<int:pk>/": [Case("GET", allow_if(sees(campaigns_visible_to)), records=CAMPAIGNS)],
    "campaigns/<int:pk>/export.xlsx": [
        Case("GET", allow_if(sees(campaigns_visible_to)), records=CAMPAIGNS)
    ],
    "campaigns/<int:pk>/screen/": [
        Case("GET", allow_if(sees(campaigns_visible_to)), records=CAMPAIGNS)
    ],
}


# --- the API ---------------------------------------------------------------------------------

api_list = Case("GET", signed_in_else(ALLOW))


def api_read(selector: Callable[[Any], Any], records: tuple[str, ...]) -> Case:
    return Case("GET", allow_if(sees(selector)), records=records)


def lead_body(w: Any, r: Any) -> dict:
    return {
        "investor": r.pk,
        "name": "矩阵接口项目信息",
        "industry": "electronics",
        "source_channel": "stationed",
    }


def investor_body(w: Any, r: Any) -> dict:
    return {"name": "矩阵接口新客商有限公司", "industry": "electronics", "confirm_distinct": True}


def assignment_body(role: str) -> Callable[[Any, Any], dict]:
    return lambda w, r: {"officer": colleague_of(w, r).pk, "role": role}


def assignee(c: Ctx) -> Any:
    return colleague_of(c.world, c.record)


def has_lead_officer(c: Ctx) -> bool:
    """A 主办 is named already: a second one is refused by a rule (one per record)."""
    return P.lead_officer_id(c.record) is not None


API: dict[tuple[str, str], list[Case]] = {
    # Officers: units, officers, targets, API clients.
    ("get", "/api/v1/units/"): [api_list],
    ("get", "/api/v1/units/deleted/"): [api_list],
    # The org tree: the system and security administrators see every unit and account.
    ("get", "/api/v1/units/{id}/"): [api_read(org_units_visible_to, UNITS)],
    ("get", "/api/v1/officers/"): [api_list],
    ("get", "/api/v1/officers/{id}/"): [
        api_read(org_officers_visible_to, ("officer_a", "officer_b"))
    ],
    ("get", "/api/v1/targets/"): [api_list],
    ("get", "/api/v1/targets/deleted/"): [api_list],
    ("get", "/api/v1/targets/{id}/"): [api_read(targets_visible_to, ("target_a", "target_b"))],
    ("get", "/api/v1/api-clients/"): [Case("GET", allow_if(signed_in, not_token))],
    ("post", "/api/v1/api-clients/"): [
        Case(
            "POST",
            allow_if(signed_in, not_token, lambda c: P.may_manage_api_clients(c.actor)),
            data=lambda w, r: {"name": "矩阵新系统", "officer": w.officer_a.pk, "access": "read"},
            refused_with=FIELD_ERROR,  # an officer the caller does not see is no valid choice
        )
    ],
    ("get", "/api/v1/api-clients/{id}/"): [
        Case("GET", allow_if(not_token, sees(api_clients_visible_to)), records=("api_client_ro",))
    ],
    ("post", "/api/v1/api-clients/{id}/revoke/"): [
        Case(
            "POST",
            allow_if(not_token, sees(api_clients_visible_to)),
            records=("api_client_ro",),
        )
    ],
    ("post", "/api/v1/api-clients/{id}/rotate/"): [
        Case(
            "POST",
            allow_if(not_token, sees(api_clients_visible_to)),
            records=("api_client_ro",),
        )
    ],
    # Leads: investors, intermediaries, promotion events, leads, visits.
    ("get", "/api/v1/investors/"): [api_list],
    ("get", "/api/v1/investors/deleted/"): [api_list],
    # Anyone signed in registers an investor, but an administrator (三员分立).
    ("post", "/api/v1/investors/"): [Case("POST", allow_if(holds_records), data=investor_body)],
    ("get", "/api/v1/investors/{id}/"): [api_read(investors_visible_to, INVESTORS)],
    ("patch", "/api/v1/investors/{id}/"): [
        Case(
            "PATCH",
            allow_if(sees(investors_visible_to)),
            records=INVESTORS,
            data={"notes": "矩阵备注"},
        )
    ],
    ("post", "/api/v1/investors/bulk-upsert/"): [
        Case(
            "POST",
            allow_if(holds_records),
            data={
                "rows": [
                    {
                        "source_system": "matrix",
                        "external_id": "new-1",
                        "name": "矩阵批量客商有限公司",
                        "industry": "electronics",
                        "confirm_distinct": True,
                    }
                ]
            },
        )
    ],
    ("put", "/api/v1/investors/by-external-id/{source_system}/{external_id}/"): [
        # The existing key of unit A's or B's investor: updated when the caller sees it, else
        # the generic conflict (never "another unit holds this key": an existence oracle).
        Case(
            "PUT",
            allow_if(sees(investors_visible_to)),
            records=INVESTORS,
            kwargs={"source_system": "matrix", "external_id": lambda w, r: r.external_id},
            data=lambda w, r: {"name": r.name, "industry": "electronics", "notes": "矩阵更新"},
            refused_with=frozenset({409}),
        )
    ],
    ("get", "/api/v1/intermediaries/"): [api_list],
    ("get", "/api/v1/intermediaries/deleted/"): [api_list],
    ("get", "/api/v1/intermediaries/{id}/"): [
        api_read(intermediaries_visible_to, ("intermediary_a", "intermediary_b"))
    ],
    ("get", "/api/v1/promotion-events/"): [api_list],
    ("get", "/api/v1/promotion-events/deleted/"): [api_list],
    ("get", "/api/v1/promotion-events/{id}/"): [
        api_read(promotion_events_visible_to, ("event_a", "event_b"))
    ],
    ("get", "/api/v1/leads/"): [api_list],
    ("get", "/api/v1/leads/deleted/"): [api_list],
    ("post", "/api/v1/leads/"): [
        Case(
            "POST",
            allow_if(sees(investors_visible_to)),
            records=FREE_INVESTORS,
            data=lead_body,
            refused_with=FIELD_ERROR,
        )
    ],
    ("get", "/api/v1/leads/{id}/"): [api_read(leads_visible_to, LEADS)],
    ("post", "/api/v1/leads/{id}/assignments/"): [
        Case(
            "POST",
            allow_if(
                sees(leads_visible_to),
                may(P.may_assign, role=AssignmentRole.ASSISTING, assignee=assignee),
            ),
            records=LEADS,
            data=assignment_body(AssignmentRole.ASSISTING),
            label="协办",
        ),
        Case(
            "POST",
            allow_if(
                sees(leads_visible_to),
                may(P.may_assign, role=AssignmentRole.LEAD, assignee=assignee),
                rule=has_lead_officer,
            ),
            records=LEADS,
            data=assignment_body(AssignmentRole.LEAD),
            label="主办",
        ),
    ],
    # Asking to join as 协办 files a request only: by the name the duplicate check found
    # (a lead the caller does not see), or without one on a lead whose investor they see.
    ("post", "/api/v1/leads/{id}/assist-request/"): [
        Case(
            "POST",
            allow_if(works, rule=assigned),
            records=LEADS,
            data=lambda w, r: {"name": r.investor.name},
            label="by name",
        ),
        Case(
            "POST",
            allow_if(works, sees(investors_visible_to, investor_of), rule=assigned),
            records=LEADS,
            label="without a name",
        ),
    ],
    ("post", "/api/v1/leads/{id}/sign/"): [
        Case(
            "POST",
            allow_if(works, sees(leads_visible_to), may(P.may_sign_lead), rule=not_signable),
            records=LEADS,
            data=lambda w, r: {"contract_date": day(), "total_investment": "8000"},
        )
    ],
    ("post", "/api/v1/leads/{id}/transition/"): [
        Case(
            "POST",
            allow_if(works, sees(leads_visible_to), may(P.may_change_lead_status)),
            records=LEADS,
            data={"to_status": "dropped", "reason": "矩阵放弃"},
        )
    ],
    ("get", "/api/v1/visits/"): [api_list],
    ("get", "/api/v1/visits/deleted/"): [api_list],
    ("post", "/api/v1/visits/"): [
        Case(
            "POST",
            allow_if(works, sees(investors_visible_to)),
            records=INVESTORS,
            data=visit_form,
            refused_with=FIELD_ERROR,
        )
    ],
    ("get", "/api/v1/visits/{id}/"): [api_read(visits_visible_to, ("visit_a", "visit_b"))],
    # Projects and problems.
    ("get", "/api/v1/projects/"): [api_list],
    ("get", "/api/v1/projects/deleted/"): [api_list],
    ("post", "/api/v1/projects/"): [
        Case(
            "POST",
            allow_if(works, sees(investors_visible_to)),
            records=FREE_INVESTORS,
            data=lambda w, r: {
                "investor": r.pk,
                "name": "矩阵直接登记项目",
                "industry": "electronics",
                "contract_date": day(),
                "total_investment": "5000",
            },
            refused_with=FIELD_ERROR,
        )
    ],
    ("get", "/api/v1/projects/{id}/"): [api_read(projects_visible_to, PROJECTS)],
    ("post", "/api/v1/projects/{id}/advance/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_advance_project)),
            records=PROJECTS,
            data=lambda w, r: {**advance_form(w, r), "to_stage": "groundbreaking"},
            multipart=True,
        )
    ],
    ("post", "/api/v1/projects/{id}/milestone/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_advance_project)),
            records=PROJECTS,
            data={"milestone": "in_statistics", "actual_date": "{today}"},
        )
    ],
    ("post", "/api/v1/projects/{id}/milestone-correction/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to), may(P.may_correct_milestone)),
            records=PROJECTS,
            data=lambda w, r: {
                "milestone": "land_granted",
                "actual_date": day(-1),
                "reason": "矩阵",
            },
        )
    ],
    ("post", "/api/v1/projects/{id}/assignments/"): [
        Case(
            "POST",
            allow_if(
                sees(projects_visible_to),
                may(P.may_assign, role=AssignmentRole.LEADER, assignee=assignee),
            ),
            records=PROJECTS,
            data=assignment_body(AssignmentRole.LEADER),
            label="挂钩领导",
        ),
        Case(
            "POST",
            allow_if(
                sees(projects_visible_to),
                may(P.may_assign, role=AssignmentRole.ASSISTING, assignee=assignee),
            ),
            records=PROJECTS,
            data=assignment_body(AssignmentRole.ASSISTING),
            label="协办",
        ),
    ],
    ("post", "/api/v1/projects/{id}/figures/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            data={"reason": "矩阵更正", "signed_investment": "13000"},
        )
    ],
    ("post", "/api/v1/projects/{id}/increments/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            data={"increased_on": "{today}", "amount": "500"},
        )
    ],
    ("post", "/api/v1/projects/{id}/plan/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            data=lambda w, r: {
                "reason": "矩阵调整",
                "groundbreaking_planned": day(30),
                "completed_planned": day(300),
                "producing_planned": day(400),
            },
        )
    ],
    ("get", "/api/v1/projects/{id}/progress/"): [api_read(projects_visible_to, PROJECTS)],
    ("post", "/api/v1/projects/{id}/progress/"): [
        Case(
            "POST",
            allow_if(works, sees(projects_visible_to)),
            records=PROJECTS,
            data=lambda w, r: {**PROGRESS, "month": month_start()},
        )
    ],
    ("get", "/api/v1/problems/"): [api_list],
    ("get", "/api/v1/problems/deleted/"): [api_list],
    ("post", "/api/v1/problems/"): [
        Case(
            "POST",
            allow_if(sees(projects_visible_to)),
            records=PROJECTS,
            data=lambda w, r: {**problem_form(w, r), "project": r.pk},
            refused_with=FIELD_ERROR,
        )
    ],
    ("get", "/api/v1/problems/{id}/"): [api_read(problems_visible_to, PROBLEMS)],
    # Service visits (企业服务走访): read with the project; the matrix's projects do not
    # produce, so an allowed write is refused by the rule and writes nothing.
    ("get", "/api/v1/service-visits/"): [api_list],
    ("get", "/api/v1/service-visits/{id}/"): [
        api_read(service_visits_visible_to, ("service_visit_a", "service_visit_b"))
    ],
    ("post", "/api/v1/service-visits/"): [
        Case(
            "POST",
            allow_if(sees(projects_visible_to), may(P.may_log_service_visit), rule=not_producing),
            records=PROJECTS,
            data=lambda w, r: {
                **service_visit_form(w, r),
                "has_expansion_plan": False,
                "project": r.pk,
            },
            refused_with=FIELD_ERROR,
        )
    ],
    # Agreements (投资协议): read with the project; a figure written by who keeps the agreement.
    ("get", "/api/v1/agreements/"): [api_list],
    ("get", "/api/v1/agreements/{id}/"): [api_read(agreements_visible_to, AGREEMENTS)],
    ("post", "/api/v1/agreements/{id}/measurements/"): [
        Case(
            "POST",
            allow_if(sees(agreements_visible_to), keeps_agreement(project_of_agreement)),
            records=AGREEMENTS,
            data=lambda w, r: {
                "term": r.terms.get().pk,
                "measured_on": day(),
                "value": "60",
                "source": "矩阵统计数据",
            },
        )
    ],
    ("post", "/api/v1/problems/{id}/start/"): [
        Case("POST", allow_if(sees(problems_visible_to)), records=PROBLEMS, data={})
    ],
    ("post", "/api/v1/problems/{id}/ask-again/"): [
        Case("POST", allow_if(sees(problems_visible_to)), records=PROBLEMS, data={})
    ],
    ("post", "/api/v1/problems/{id}/resolve/"): [
        Case(
            "POST",
            allow_if(sees(problems_visible_to), may(P.may_resolve_problem)),
            records=PROBLEMS,
            data={"resolution": "已协调供电"},
        )
    ],
}


def expand_today(value: Any) -> Any:
    """``"{today}"`` in a literal body is today's date (the world is built today)."""
    if isinstance(value, dict):
        return {k: expand_today(v) for k, v in value.items()}
    if value == "{today}":
        return day()
    return value


# --- the admin site: a group, with representative cases ----------------------------------------


def staff(c: Ctx) -> bool:
    """The admin site lets in active staff officers (Django's ``AdminSite.has_permission``)."""
    return c.actor is not None and c.actor.is_active and c.actor.is_staff


TO_INDEX = frozenset({302})  # the admin answers a record outside the caller's scope so

ADMIN: dict[str, tuple[str, list[Case]]] = {
    "index": ("admin/", [Case("GET", allow_if(staff))]),
    "a lead's page": (
        "admin/leads/lead/<path:object_id>/change/",
        [
            Case(
                "GET", allow_if(staff, sees(leads_visible_to)), records=LEADS, refused_with=TO_INDEX
            )
        ],
    ),
    "adding a 协办 to a lead": (
        "admin/officers/assignment/add/",
        [
            Case(
                "POST",
                allow_if(
                    staff,
                    sees(leads_visible_to),
                    may(P.may_assign, role=AssignmentRole.ASSISTING, assignee=assignee),
                ),
                records=LEADS,
                data=lambda w, r: {
                    "officer": colleague_of(w, r).pk,
                    "role": AssignmentRole.ASSISTING,
                    "lead": r.pk,
                },
                refused_with=FORM_ERROR,
            )
        ],
    ),
    "a bulletin, draft or published": (
        "admin/reports/bulletin/<path:object_id>/change/",
        [
            Case(
                "GET",
                allow_if(
                    staff,
                    lambda c: c.record.status == "published" or P.may_read_draft_bulletin(c.actor),
                ),
                records=BULLETINS,
                refused_with=TO_INDEX,
            )
        ],
    ),
    "resetting another officer's password": (
        "admin/officers/officer/<id>/password/",
        [
            Case(
                method,
                allow_if(staff, sees(org_officers_visible_to), may(P.may_reset_password)),
                records=("teammate_a", "officer_b"),
                data={
                    "usable_password": "true",
                    "password1": "Matrix-reset-Pass-2026",
                    "password2": "Matrix-reset-Pass-2026",
                }
                if method == "POST"
                else None,
                # Django's view cycles the caller's session key on success.
                fresh_client=method == "POST",
            )
            for method in ("GET", "POST")
        ],
    ),
}
