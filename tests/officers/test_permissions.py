"""The org tree's writes and the admin ask the named predicates (issue #13).

Each service of officers/services.py is called by every persona: it succeeds exactly when
its predicate says yes, and a refusal writes nothing — so a service that lost its check, or
checked something else than the predicate the pages and the admin read, fails here. The
admin offers what the predicates allow (roles, the superuser's fields, a target's value,
bureau-level pages); the layers below officers that read the officer's own attribute agree
with the predicate for every persona (docs/decisions/0011).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from officers import permissions
from officers.choices import Role, TargetMetric, UnitKind
from officers.models import Officer, Target, Unit
from officers.services import officer_create, officer_set_language, target_set, unit_create
from promo.api.clients import api_client_create
from promo.api.models import ApiClient
from promo.campaigns.models import Campaign
from promo.core.errors import PermissionDenied
from promo.core.services import today
from promo.reports.models import Bulletin
from tests.factories import PASSWORD, make_officer

pytestmark = pytest.mark.django_db

PERSONAS = (
    "chief",
    "admin",
    "security_admin",
    "audit_admin",
    "root",
    "shanghai_head",
    "sz_head",
    "shanghai_officer",
    "teammate",
    "outsider",
    "submitter",
)


@pytest.fixture
def people(bureau):
    """The bureau's personas, plus the three administrators (三员分立) without a unit, a
    superuser and Shenzhen's head."""
    found = {name: getattr(bureau, name, None) for name in PERSONAS}
    found["admin"] = make_officer(None, role=Role.ADMIN, username="sysadmin")
    found["security_admin"] = make_officer(None, role=Role.SECURITY_ADMIN, username="secadmin")
    found["audit_admin"] = make_officer(None, role=Role.AUDIT_ADMIN, username="auditadmin")
    found["root"] = make_officer(bureau.shanghai, username="root", is_superuser=True)
    found["sz_head"] = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD, username="sz_head")
    return found


def _outcome(call) -> bool:
    try:
        call()
    except PermissionDenied:
        return False
    return True


@pytest.mark.parametrize("persona", PERSONAS)
def test_unit_create_is_may_manage_units(bureau, people, persona):
    actor = people[persona]
    before = Unit.objects.count()
    done = _outcome(
        lambda: unit_create(actor=actor, name=f"{persona}新设单位", kind=UnitKind.BRANCH)
    )
    assert done == permissions.may_manage_units(actor)
    assert Unit.objects.count() == before + done


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("unit", "role"),
    [
        ("shanghai", Role.OFFICER),
        ("shanghai_team", Role.UNIT_HEAD),
        ("shenzhen", Role.OFFICER),
        ("shanghai", Role.CHIEF),
        (None, Role.ADMIN),
        (None, Role.SECURITY_ADMIN),
        (None, Role.AUDIT_ADMIN),
    ],
)
def test_officer_create_is_may_open_account_in_and_may_grant_role(
    bureau, people, persona, unit, role
):
    actor = people[persona]
    where = getattr(bureau, unit) if unit else None
    before = Officer.objects.count()
    done = _outcome(
        lambda: officer_create(
            actor=actor,
            username=f"new_{persona}_{unit}_{role}",
            password=PASSWORD,
            full_name="新干部",
            unit=where,
            role=role,
        )
    )
    allowed = (
        permissions.may_open_accounts(actor)
        and permissions.may_open_account_in(actor, where)
        and permissions.may_grant_role(actor, role)
    )
    assert done == allowed
    assert Officer.objects.count() == before + done


@pytest.mark.parametrize("persona", PERSONAS)
def test_target_set_is_may_set_unit_target_and_may_set_officer_target(bureau, people, persona):
    actor = people[persona]
    year = today().year
    cases = [
        ({"unit": bureau.shanghai}, permissions.may_set_unit_target(actor)),
        (
            {"officer": bureau.sub_unit_officer},
            permissions.may_set_officer_target(actor, bureau.sub_unit_officer),
        ),
        (
            {"officer": bureau.outsider},
            permissions.may_set_officer_target(actor, bureau.outsider),
        ),
    ]
    for holder, allowed in cases:
        before = Target.objects.count()
        done = _outcome(
            lambda holder=holder: target_set(
                actor=actor, year=year, metric=TargetMetric.SIGNED_COUNT, value=5, **holder
            )
        )
        assert done == allowed, holder
        assert Target.objects.count() == before + done


@pytest.mark.parametrize("persona", PERSONAS)
def test_officer_set_language_is_may_set_language(bureau, people, persona):
    actor = people[persona]
    for officer in (actor, bureau.teammate):
        officer = Officer.objects.get(pk=officer.pk)
        done = _outcome(
            lambda officer=officer: officer_set_language(
                officer=officer, actor=actor, language="en"
            )
        )
        assert done == permissions.may_set_language(actor, officer)
        assert Officer.objects.get(pk=officer.pk).language == ("en" if done else officer.language)


# --- the admin reads the same predicates ------------------------------------------------------


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = Officer.objects.get(pk=user.pk)  # without cached permissions
    return request


def _grant(officer, *codenames):
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    officer.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_officer_admin_offers_the_roles_the_actor_may_grant_and_the_current_one(
    bureau, people, persona
):
    actor = people[persona]
    _grant(actor, "view_officer", "change_officer", "add_officer")
    officer_admin = admin.site._registry[Officer]
    member = bureau.teammate
    readonly = officer_admin.get_readonly_fields(_request(actor), member)
    form = officer_admin.get_form(_request(actor), member, change=True)
    if permissions.may_grant_role(actor, member.role):
        offered = [value for value, _label in form.base_fields["role"].choices]
        expected = [
            value
            for value, _label in Role.choices
            if value == member.role or permissions.may_grant_role(actor, value)
        ]
        assert offered == expected
    else:
        # A role one may not give is not one's to take away either: shown read-only.
        assert "role" in readonly and "role" not in form.base_fields
    assert ("is_superuser" in readonly) == (not permissions.may_grant_superuser(actor))
    for privilege in ("is_staff", "groups", "user_permissions"):
        assert (privilege in readonly) == (not permissions.may_grant_privileges(actor))
    assert ("role" in readonly) == (not permissions.may_grant_role(actor, member.role))


def test_an_officer_allowed_to_edit_colleagues_cannot_make_himself_a_head(bureau, client):
    from tests.test_admin import post_data_from

    me = bureau.shanghai_officer
    _grant(me, "view_officer", "change_officer")
    client.force_login(me)
    url = f"/admin/officers/officer/{me.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = post_data_from(page)
    data.update(role=Role.UNIT_HEAD, title="自封主任")
    # The role is read-only to one who may not grant it (三员分立): the posted role is ignored.
    assert "role" not in page.context["adminform"].form.fields
    response = client.post(url, data)
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.role, me.title) == (Role.OFFICER, "自封主任")


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_target_is_editable_in_the_admin_only_for_who_may_set_it(bureau, people, persona):
    actor = people[persona]
    _grant(actor, "view_target", "change_target")
    unit_target = Target.objects.create(
        year=today().year, metric=TargetMetric.SIGNED_COUNT, unit=bureau.shanghai, value=10
    )
    person_target = Target.objects.create(
        year=today().year,
        metric=TargetMetric.SIGNED_COUNT,
        officer=bureau.sub_unit_officer,
        value=Decimal("3"),
    )
    target_admin = admin.site._registry[Target]
    for target in (unit_target, person_target):
        assert target_admin.has_change_permission(_request(actor), target) == (
            permissions.may_set_target(actor, target)
        ), target


@pytest.mark.parametrize("persona", PERSONAS)
def test_bureau_level_admins_and_publishing_ask_the_predicates(people, persona):
    actor = people[persona]
    _grant(actor)
    request = _request(actor)
    campaign_admin = admin.site._registry[Campaign]
    assert campaign_admin.has_add_permission(request) == permissions.may_manage_campaigns(actor)
    bulletin_admin = admin.site._registry[Bulletin]
    assert bulletin_admin.has_publish_permission(request) == permissions.may_publish_bulletin(actor)
    # Below officers (promo.core's mixin, promo.api.clients): the officer's own attribute,
    # which must agree with the predicate for everyone (docs/decisions/0011).
    api_client_admin = admin.site._registry[ApiClient]
    assert api_client_admin.has_add_permission(request) == permissions.may_manage_api_clients(actor)
    created = _outcome(
        lambda: api_client_create(actor=actor, name=f"系统-{persona}", officer=actor, access="read")
    )
    assert created == permissions.may_manage_api_clients(actor)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_top_bar_links_to_what_the_predicates_allow(people, persona, client):
    actor = people[persona]
    client.force_login(actor)
    html = client.get("/").content.decode()
    assert ('href="/dashboard/"' in html) == permissions.may_read_cockpit(actor)
    assert ('href="/campaigns/"' in html) == permissions.may_read_campaigns(actor)
    assert ('href="/reports/bulletins/"' in html) == permissions.may_read_bulletins(actor)
