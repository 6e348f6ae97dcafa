"""Who may *change* what: the named predicates every write asks ("may officer X verb record Y").

Who may *see* a record is decided by ``officers.selectors.scope_for`` and the
``*_visible_to`` selectors; these predicates decide, among what an officer sees, what they
may do to it. Services call them and refuse with ``PermissionDenied``; views, templates,
the admin and the API read the same functions to offer only the allowed actions, so no
interface mirrors a rule by hand.

Why here and not in ``promo/core/permissions.py``: the rules are about roles (局领导,
单位负责人, 主办) and the unit tree, which this app defines (``Role``, ``AssignmentRole``,
``scope_for``). ``promo.core`` imports no app, so it would have to repeat the role names as
bare strings and could not reach the scope; every app that writes (leads, projects, the
reporting apps, the API, the admin) already sits downstream of ``officers``. The records are
taken duck-typed (``unit_id``, ``assignments``, ``holder_unit_id``…), so this module imports
no model of leads or projects and the imports still point one way.

"Bureau-wide" means the officers who read the whole bureau's business records: a 局领导 (and a
superuser where ``PROMO_SUPERUSER_READS_BUSINESS`` allows it, never in production).

三员分立 (separation of duties, issue #16, docs/decisions/0019): the three administrators hold
disjoint powers and none reads a business record —

- the system administrator (系统管理员, ``is_system_admin``): units, accounts, org data, the
  operations page;
- the security administrator (安全管理员, ``is_security_admin``): roles and privileges, password
  and second-factor resets, API clients;
- the audit administrator (审计管理员, ``is_audit_admin``): the audit trail and security log.

The Django superuser installs promo: it holds the system and security administrators' powers
(someone must open the first accounts), reads business records only where the setting allows
it, and every request it makes is logged (``promo.accounts.security.SuperuserAuditMiddleware``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from .choices import ADMIN_ROLES, AssignmentRole, Role
from .selectors import scope_for


def is_bureau_wide(officer: Any) -> bool:
    """A 局领导 (or a superuser allowed to read business records): may decide for any unit.
    Not an administrator: the 三员 read no business record."""
    return bool(getattr(officer, "is_authenticated", False) and officer.sees_whole_bureau)


def is_head_of(officer: Any, unit_id: int | None) -> bool:
    """A 单位负责人 whose unit is ``unit_id`` or one of its parents (its sub-tree is theirs)."""
    if unit_id is None or getattr(officer, "role", None) != Role.UNIT_HEAD:
        return False
    unit_ids = scope_for(officer).unit_ids
    return unit_ids is not None and unit_id in unit_ids


def lead_officer_id(record: Any) -> int | None:
    """The 主办's officer id of a lead or project, or None.

    A record read for a list may carry it already as ``lead_officer_pk`` (the API's lists
    annotate it, so a page asks once, not once a row); otherwise one query.
    """
    if record is None or record.pk is None:
        return None
    if hasattr(record, "lead_officer_pk"):
        known: int | None = record.lead_officer_pk
        return known
    return (
        record.assignments.filter(role=AssignmentRole.LEAD)
        .values_list("officer_id", flat=True)
        .first()
    )


def is_lead_officer(officer: Any, record: Any) -> bool:
    """The officer is the record's 主办."""
    return officer.pk is not None and lead_officer_id(record) == officer.pk


def manages(officer: Any, record: Any) -> bool:
    """The holding unit's head or a 局领导: may decide for a lead or project of that unit."""
    return is_bureau_wide(officer) or is_head_of(officer, record.unit_id)


# --- leads and projects ----------------------------------------------------------------------


def may_advance_project(officer: Any, project: Any) -> bool:
    """Record a project's stage change (开工, 竣工, 投产): the 主办, the holding unit's head or a
    局领导 — a 协办 works on the project but does not report its milestones."""
    return manages(officer, project) or is_lead_officer(officer, project)


def may_correct_milestone(officer: Any, project: Any) -> bool:
    """Correct or withdraw a recorded milestone after signing (注册 / 供地 / 入统 / 入规): the
    holding unit's head or a 局领导. The date moves a counted figure (新入统 / 新入规), so the
    主办 who recorded it does not rewrite it alone."""
    return manages(officer, project)


def may_sign_lead(officer: Any, lead: Any) -> bool:
    """Sign a lead as a project (签约), where the signing credit is counted: the 主办, the
    holding unit's head or a 局领导."""
    return manages(officer, lead) or is_lead_officer(officer, lead)


# The one status whose change is signing (签约): ``leads.choices.LeadStatus.SIGNED``, named here
# as its value because officers sits below leads (the records are duck-typed, see above).
SIGNED = "signed"


def may_move_lead_to(officer: Any, lead: Any, to_status: str) -> bool:
    """Change a lead to ``to_status``: signing is ``may_sign_lead``'s to decide, any other
    change ``may_change_lead_status``'s. The lead page's buttons and the API's
    ``allowed_transitions`` ask this for each status the transition table allows."""
    if not may_work_records(officer):
        return False
    if to_status == SIGNED:
        return may_sign_lead(officer, lead)
    return may_change_lead_status(officer, lead)


def may_change_lead_status(officer: Any, lead: Any) -> bool:
    """Qualify, negotiate, drop or reject a lead: the holding unit's own people (the 主办, the
    colleagues of its unit and the heads above it) or a 局领导 — never a 协办 from another unit,
    who was let in to help, not to close the lead."""
    if manages(officer, lead) or is_lead_officer(officer, lead):
        return True
    unit_ids = scope_for(officer).unit_ids
    return (
        getattr(officer, "role", None) in (Role.OFFICER, Role.UNIT_HEAD)
        and unit_ids is not None
        and lead.unit_id in unit_ids
    )


def may_give_referrer_feedback(officer: Any, lead: Any) -> bool:
    """Record that the referrer of a lead was told how it stands (反馈引荐人): the people who
    answer for the lead (those who may change its status), not a 协办 from another unit."""
    return may_work_records(officer) and may_change_lead_status(officer, lead)


def may_assign(officer: Any, record: Any, *, role: str, assignee: Any) -> bool:
    """Put ``assignee`` on a lead or project as ``role``.

    - 挂钩领导: a 局领导 or the holding unit's head;
    - 主办 (credit): the unit's head or a 局领导, and never on oneself — the one who benefits
      cannot name himself (a second person does it);
    - 协办: those, or the record's 主办 bringing a colleague in.
    """
    if role == AssignmentRole.LEADER:
        return manages(officer, record)
    if role == AssignmentRole.LEAD:
        return manages(officer, record) and getattr(assignee, "pk", None) != officer.pk
    return manages(officer, record) or is_lead_officer(officer, record)


def may_decide_assist_request(officer: Any, request: Any) -> bool:
    """Approve or refuse a request to join a lead as 协办: the holding unit's head or a 局领导."""
    return request.status == "open" and (
        is_bureau_wide(officer) or is_head_of(officer, request.lead.unit_id)
    )


def may_decide_reward(officer: Any, reward: Any) -> bool:
    """Approve or pay an intermediary reward (中介奖励): a 局领导 or the head of the project's
    unit (or of a unit above it) — never whoever proposed it: nobody approves their own."""
    if reward.proposed_by_id is not None and reward.proposed_by_id == getattr(officer, "pk", None):
        return False
    if is_bureau_wide(officer):
        return True
    return is_head_of(officer, reward.project.unit_id)


def may_decide_assist_requests(officer: Any) -> bool:
    """Decide requests to join as 协办 at all (the home page asks before it looks for any):
    a 局领导 or a unit head — each request is then ``may_decide_assist_request``'s."""
    return is_bureau_wide(officer) or getattr(officer, "role", None) == Role.UNIT_HEAD


def may_decide_claims(officer: Any) -> bool:
    """Settle claims at all (the home page asks before it looks for any): a 局领导 or a unit
    head — each claim is then ``may_decide_claim``'s."""
    return is_bureau_wide(officer) or getattr(officer, "role", None) == Role.UNIT_HEAD


def may_decide_claim(officer: Any, claim: Any) -> bool:
    """Record a decision on a claim (撞单协调): either unit's head, or a 局领导."""
    if claim.status != "open":
        return False
    if is_bureau_wide(officer):
        return True
    return getattr(officer, "role", None) == Role.UNIT_HEAD and officer.unit_id in (
        claim.holder_unit_id,
        claim.claimant_unit_id,
    )


# --- investors (客商) -------------------------------------------------------------------------


def may_edit_investor_contacts(officer: Any, investor: Any) -> bool:
    """Add, change or remove an investor's contacts (联系人): among those who see the investor's
    page, the officers of the unit that registered it (and the heads above it), a 局领导, and
    the officers holding a lead on it — a lead of their units, or one they work on as 主办 or
    协办. Not a department submitter. ``investor`` is duck-typed (``unit_id``, ``leads``); one
    query at most."""
    if not may_work_records(officer) or getattr(officer, "pk", None) is None:
        return False
    if is_bureau_wide(officer):
        return True
    unit_ids = scope_for(officer).unit_ids
    if unit_ids is not None and investor.unit_id in unit_ids:
        return True
    holds = Q(assignments__officer_id=officer.pk)
    if unit_ids:
        holds |= Q(unit_id__in=unit_ids)
    return bool(investor.leads.filter(holds).exists())


def may_reveal_contact_details(officer: Any, contact: Any) -> bool:
    """See a contact's phone number, e-mail and WeChat id in full (个人信息, issue #16), through
    an explicit reveal that is recorded: those with a need, who are those who may edit the
    investor's contacts (``may_edit_investor_contacts``). Everyone else sees them masked.
    ``contact`` is duck-typed (``investor``); one query at most."""
    return may_edit_investor_contacts(officer, contact.investor)


def may_reveal_intermediary_details(officer: Any, intermediary: Any) -> bool:
    """See an intermediary's phone number and e-mail in full: the officers of the unit that
    registered it (and the heads above it) and the bureau-wide, not a department submitter.
    ``intermediary`` is duck-typed (``unit_id``); no query once the scope is known."""
    if not may_work_records(officer) or getattr(officer, "pk", None) is None:
        return False
    if is_bureau_wide(officer):
        return True
    unit_ids = scope_for(officer).unit_ids
    return unit_ids is not None and intermediary.unit_id in unit_ids


# --- records, bureau-level work and reading ------------------------------------------------


def may_work_records(officer: Any) -> bool:
    """Log visits, register investors and projects, change a lead's work: everyone but a
    department submitter (部门信息员), who only submits leads, and the three administrators,
    who touch no business record (三员分立); a superuser only where it reads them."""
    if getattr(officer, "is_superuser", False):
        return is_bureau_wide(officer)
    role = getattr(officer, "role", None)
    return role != Role.DEPARTMENT_SUBMITTER and role not in ADMIN_ROLES


def may_hold_records(officer: Any) -> bool:
    """Register a business record for a unit (登记: an investor, a lead, a visit…): every
    officer of a unit and a department submitter (for what they submit) — not the three
    administrators (三员分立), nor a superuser in production."""
    if getattr(officer, "is_superuser", False):
        return is_bureau_wide(officer)
    return getattr(officer, "role", None) not in ADMIN_ROLES


def may_publish_bulletin(officer: Any) -> bool:
    """Publish (freeze) a monthly bulletin or ten-day report: a 局领导."""
    return is_bureau_wide(officer)


def may_manage_campaigns(officer: Any) -> bool:
    """Create or change a campaign (专项活动): a 局领导."""
    return bool(getattr(officer, "is_active", False)) and is_bureau_wide(officer)


def may_read_campaigns(officer: Any) -> bool:
    """Open campaigns (专项活动) and their league tables: a 局领导, and every officer of a unit
    who works records (a table is for those racing in it); not a department
    submitter. Which campaigns: ``promo.campaigns.selectors.campaigns_visible_to``."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return False
    if is_bureau_wide(officer):
        return True
    return getattr(officer, "unit_id", None) is not None and may_work_records(officer)


COCKPIT_ROLES = frozenset({Role.CHIEF, Role.UNIT_HEAD})


def may_read_cockpit(officer: Any) -> bool:
    """The cockpit ranks units: for those who run them (局领导, unit heads); officers read
    their own lists, administrators none (三员分立)."""
    return is_bureau_wide(officer) or getattr(officer, "role", None) in COCKPIT_ROLES


# --- agreements (投资协议履约) ---------------------------------------------------------------


def may_keep_agreement(officer: Any, project: Any) -> bool:
    """Record a project's agreements, their terms, measured values and the bureau's deliveries,
    and ask for an incentive to be paid, withheld or clawed back: who reports the project's
    milestones (its 主办, the holding unit's head, a 局领导)."""
    return may_work_records(officer) and may_advance_project(officer, project)


def may_verify_measurement(officer: Any, project: Any, measurement: Any) -> bool:
    """Verify a measured value (核实): another person who may keep the agreement — the one who
    typed a figure does not certify it."""
    return (
        getattr(officer, "pk", None) is not None
        and measurement.recorded_by_id != officer.pk
        and may_keep_agreement(officer, project)
    )


def may_decide_incentive(officer: Any, project: Any, request: Any) -> bool:
    """Approve or reject paying, withholding or clawing back an incentive (政策兑现): the holding
    unit's head or a 局领导, never the one who asked (four eyes), and never a 主办 alone."""
    return (
        getattr(officer, "pk", None) is not None
        and request.requested_by_id != officer.pk
        and may_work_records(officer)
        and manages(officer, project)
    )


def may_waive_term(officer: Any, project: Any) -> bool:
    """Waive an investor's commitment (豁免, with a reason): a decision for the holding unit's
    head or a 局领导, not for the officer whose figures it changes."""
    return may_work_records(officer) and manages(officer, project)


# --- aftercare (亲商服务) -------------------------------------------------------------------


def may_name_envoy(officer: Any, project: Any) -> bool:
    """Name (or change) a producing enterprise's service envoy (企业服务专员) and put it on the
    服务绿卡 list: the holding unit's head or a 局领导, as for a 挂钩领导 — the envoy's visits
    are a duty handed out, not one an officer gives himself."""
    return may_work_records(officer) and manages(officer, project)


def may_log_service_visit(officer: Any, project: Any) -> bool:
    """Record a service visit (企业服务走访) on an enterprise: its envoy, or who reports the
    project's milestones (its 主办, the holding unit's head, a 局领导)."""
    if not may_work_records(officer) or getattr(officer, "pk", None) is None:
        return False
    if project.service_envoy_id is not None and project.service_envoy_id == officer.pk:
        return True
    return may_advance_project(officer, project)


# --- problems (马上办) ---------------------------------------------------------------------


def may_resolve_problem(officer: Any, problem: Any) -> bool:
    """Close a problem (办结): whoever handles it (the owner unit's people, the project's,
    a 局领导) except the officer who raised it — the one who reported the investor's problem
    does not certify it solved."""
    return getattr(officer, "pk", None) is not None and problem.raised_by_id != officer.pk


# --- reports ---------------------------------------------------------------------------------


def may_read_bulletins(officer: Any) -> bool:
    """Read the bulletins (公示通报: public inside the bureau by design): a 局领导 or a unit
    head. Which ones: ``may_read_draft_bulletin`` adds the drafts."""
    if not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return False
    return is_bureau_wide(officer) or getattr(officer, "role", None) == Role.UNIT_HEAD


def may_watch_unit_alerts(officer: Any) -> bool:
    """Be shown the red lights (红灯) of their units' records, not only their own, on the home
    page: a 局领导 (all units) or a unit head (their sub-tree) — those who chase them."""
    return is_bureau_wide(officer) or getattr(officer, "role", None) == Role.UNIT_HEAD


def may_acknowledge_alert(officer: Any, alert: Any) -> bool:
    """Acknowledge an alert (签收), which stops its ladder climbing: an officer it notified,
    or a 局领导."""
    if not getattr(officer, "is_authenticated", False):
        return False
    return is_bureau_wide(officer) or alert.notices.filter(recipient_id=officer.pk).exists()


def may_use_admin(officer: Any) -> bool:
    """Use the admin site (后台) at all: an active staff account, Django's own gate. What each
    admin page then shows is its model's permissions and the officer's scope."""
    return bool(getattr(officer, "is_active", False) and getattr(officer, "is_staff", False))


def may_read_draft_bulletin(officer: Any) -> bool:
    """A bulletin before publication (草稿) is the chiefs' to check: a 局领导.
    Everyone else who reads bulletins reads the published ones — on the pages and the admin."""
    return bool(getattr(officer, "is_active", False) and is_bureau_wide(officer))


# --- accounts --------------------------------------------------------------------------------


def is_superuser(officer: Any) -> bool:
    """The Django superuser (超级用户): for installing promo only. Its every request is logged;
    it reads business records only where ``PROMO_SUPERUSER_READS_BUSINESS`` allows it."""
    return bool(getattr(officer, "is_authenticated", False) and officer.is_superuser)


def is_system_admin(officer: Any) -> bool:
    """A system administrator (系统管理员, 三员分立): units, accounts, org data, configuration and
    the operations page; no business record. A superuser installing promo counts as one."""
    return bool(getattr(officer, "is_active", False)) and (
        bool(getattr(officer, "is_superuser", False))
        or getattr(officer, "role", None) == Role.ADMIN
    )


def is_security_admin(officer: Any) -> bool:
    """A security administrator (安全管理员, 三员分立): roles and privileges, password and
    second-factor resets, API clients; no business record. A superuser installing promo
    counts as one (it opens the first security administrator's account).
    ``Officer.grants_access`` is the same rule, for the layers below officers."""
    return bool(getattr(officer, "is_active", False) and getattr(officer, "grants_access", False))


def is_audit_admin(officer: Any) -> bool:
    """An audit administrator (审计管理员, 三员分立): reads the audit trail and the security log,
    and nothing else."""
    return bool(getattr(officer, "is_active", False)) and (
        getattr(officer, "role", None) == Role.AUDIT_ADMIN
    )


def may_read_audit_trail(officer: Any) -> bool:
    """Read and export the application audit trail (安全审计): the audit administrator only —
    not the superuser, not the security administrator whose own actions it records."""
    return is_audit_admin(officer)


def must_use_two_factor(officer: Any) -> bool:
    """Must pass a second factor (TOTP or a recovery code) to use their session: whoever sees
    the whole bureau or administers it — a 局领导, each of the three administrators (system,
    security, audit) and a superuser — always; every officer when the bureau
    turned on ``PROMO_2FA_REQUIRED_FOR_ALL``. Others may enrol a device of their own choice,
    and once they have one it is asked at every sign-in (promo/accounts/two_factor.py).

    Not ``is_staff``: in promo the admin site is a scoped working tool every officer but a
    department submitter may open (``may_use_admin``), not an administrator's privilege; what
    an officer reaches there is their own scope, as on the officers' site."""
    from django.conf import settings

    if not getattr(officer, "is_authenticated", False):
        return False
    if settings.PROMO_2FA_REQUIRED_FOR_ALL:
        return True
    return (
        is_bureau_wide(officer)
        or bool(getattr(officer, "is_superuser", False))
        or getattr(officer, "role", None) in ADMIN_ROLES
    )


def may_clear_lockouts(officer: Any) -> bool:
    """See the sign-in lockouts in force and end one (解锁): the security administrator."""
    return is_security_admin(officer)


def may_reset_two_factor(officer: Any, target: Any) -> bool:
    """Remove another officer's second factor (a lost phone), so they enrol again: the same
    rule as a password reset — a security administrator, and only a superuser for a
    superuser; never one's own (one's own device is replaced with a current code)."""
    return may_reset_password(officer, target)


def may_reset_password(officer: Any, target: Any) -> bool:
    """Set another officer's password: a security administrator only, and only a superuser
    resets a superuser's. A unit head or a chief with officer-edit rights cannot: a reset
    lets whoever does it sign in as the other. One's own password changes at /password/."""
    if not is_security_admin(officer) or target.pk == officer.pk:
        return False
    return officer.is_superuser or not target.is_superuser


# --- the org tree: units, accounts, targets ----------------------------------------------------

# Roles that reach beyond a unit: the 局领导 (every unit's records) and the three
# administrators. Only the security administrator hands them out (三员分立).
PRIVILEGED_ROLES = frozenset({Role.CHIEF, *ADMIN_ROLES})


def may_manage_units(officer: Any) -> bool:
    """Add a unit (单位) to the org tree: a 局领导 or the system administrator."""
    return is_bureau_wide(officer) or is_system_admin(officer)


def needs_unit(role: str) -> bool:
    """An account of ``role`` must belong to a unit: all but the three administrators, who
    work for the whole bureau (the model's constraint says the same)."""
    return role not in ADMIN_ROLES


def may_open_accounts(officer: Any) -> bool:
    """Open accounts at all: the system administrator or a 局领导 anywhere, a unit head for
    their sub-tree. Which role the account gets is ``may_grant_role``'s to say."""
    return (
        is_system_admin(officer)
        or is_bureau_wide(officer)
        or getattr(officer, "role", None) == Role.UNIT_HEAD
    )


def may_open_account_in(officer: Any, unit: Any) -> bool:
    """Open an account in ``unit`` (None: an administrator without one): the system
    administrator or a 局领导 anywhere, a unit head in their unit or a unit below it."""
    if is_system_admin(officer) or is_bureau_wide(officer):
        return True
    return unit is not None and is_head_of(officer, unit.pk)


def may_grant_role(officer: Any, role: str) -> bool:
    """Give an account ``role``, opening it or changing it: the security administrator any
    role; those who open accounts (system administrator, 局领导, unit head) the roles of a
    unit only — never 局领导 or an administrator's (三员分立: who opens an account does not
    also grant it powers beyond its unit)."""
    if is_security_admin(officer):
        return True
    return role not in PRIVILEGED_ROLES and may_open_accounts(officer)


def may_grant_privileges(officer: Any) -> bool:
    """Hand out staff status, groups or raw Django permissions (the admin's 权限 fields): the
    security administrator (三员分立: roles and grants are theirs)."""
    return is_security_admin(officer)


def may_grant_superuser(officer: Any) -> bool:
    """Make an account a superuser (or take it back): a superuser only — installation work."""
    return bool(getattr(officer, "is_active", False) and getattr(officer, "is_superuser", False))


def may_set_unit_target(officer: Any) -> bool:
    """Set a unit's annual target (下达目标任务): a 局领导 (targets rank units: business, not
    configuration)."""
    return is_bureau_wide(officer)


def may_set_officer_target(officer: Any, target_officer: Any) -> bool:
    """Break a target down to an officer (目标分解到人): a 局领导, or the head of the officer's
    unit (or of a unit above it)."""
    return is_bureau_wide(officer) or is_head_of(officer, getattr(target_officer, "unit_id", None))


def may_set_target(officer: Any, target: Any) -> bool:
    """Change an existing target: its unit's (``may_set_unit_target``) or its officer's
    (``may_set_officer_target``)."""
    if target.unit_id is not None:
        return may_set_unit_target(officer)
    return may_set_officer_target(officer, target.officer)


def may_set_language(officer: Any, target_officer: Any) -> bool:
    """Set an officer's interface language (界面语言): the officer themself, or a 局领导 or the
    system administrator (for an officer who cannot find the switch)."""
    if getattr(officer, "pk", None) == getattr(target_officer, "pk", None):
        return True
    return is_bureau_wide(officer) or is_system_admin(officer)


def may_manage_api_clients(officer: Any) -> bool:
    """Register, rotate or revoke an API client (接口客户端) and its token: the security
    administrator (a token acts as an officer: a grant, 三员分立).

    ``promo.api.clients`` sits below this app and asks the officer's ``grants_access``
    itself, the attribute ``is_security_admin`` reads (docs/decisions/0011, 0019); callers
    above it (the API's view) ask this predicate first.
    """
    return is_security_admin(officer)


# --- operations (运行状况) -------------------------------------------------------------------


def may_read_operations(officer: Any) -> bool:
    """The operations page (heartbeats, queue, outbox): the system administrator (and a
    superuser installing promo)."""
    return is_system_admin(officer)
