"""Separation of duties (三员分立, issue #16, docs/decisions/0019): the system, security and
audit administrators hold disjoint powers and read no business record; the Django superuser
installs promo, reads no business record in production and every request of it is logged."""

from __future__ import annotations

import logging

import pytest

from leads.models import Lead
from leads.selectors import investors_visible_to, leads_visible_to, visits_visible_to
from officers import permissions
from officers.choices import Role
from officers.models import Officer
from officers.selectors import (
    officers_visible_to,
    org_officers_visible_to,
    org_units_visible_to,
    targets_visible_to,
    units_visible_to,
)
from officers.services import officer_create
from projects.selectors import problems_visible_to, projects_visible_to
from promo.api.clients import api_client_create, api_clients_visible_to
from promo.api.models import ApiClient
from promo.core.errors import PermissionDenied
from tests.factories import PASSWORD, make_investor, make_lead, make_officer

pytestmark = pytest.mark.django_db

ADMINISTRATORS = (Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
BUSINESS = (
    leads_visible_to,
    investors_visible_to,
    visits_visible_to,
    projects_visible_to,
    problems_visible_to,
    targets_visible_to,
)


@pytest.fixture
def lead(bureau) -> Lead:
    return make_lead(bureau.shanghai_officer, investor=make_investor(bureau.shanghai_officer))


@pytest.mark.parametrize("role", ADMINISTRATORS)
def test_no_administrator_reads_a_business_record(bureau, lead, role, client):
    administrator = make_officer(None, role=role)
    assert leads_visible_to(bureau.chief).filter(pk=lead.pk).exists()
    for selector in BUSINESS:
        assert not selector(administrator).exists(), selector.__name__
    assert not permissions.is_bureau_wide(administrator)
    assert not permissions.may_work_records(administrator)
    assert not permissions.may_read_cockpit(administrator)
    client.force_login(administrator)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert client.get("/dashboard/").status_code == 403
    listed = client.get("/leads/")
    assert listed.status_code == 200 and lead.name not in listed.content.decode()


@pytest.mark.parametrize("role", ADMINISTRATORS)
def test_each_administrator_must_use_a_second_factor(role):
    assert permissions.must_use_two_factor(make_officer(None, role=role))


def test_the_powers_are_disjoint(bureau):
    system = make_officer(None, role=Role.ADMIN)
    security = make_officer(None, role=Role.SECURITY_ADMIN)
    audit = make_officer(None, role=Role.AUDIT_ADMIN)
    target = bureau.shanghai_officer
    # The system administrator: units, accounts, operations.
    assert permissions.may_manage_units(system) and permissions.may_read_operations(system)
    assert not permissions.may_reset_password(system, target)
    assert not permissions.may_manage_api_clients(system)
    assert not permissions.may_read_audit_trail(system)
    # The security administrator: grants, resets, API clients.
    assert permissions.may_reset_password(security, target)
    assert permissions.may_reset_two_factor(security, target)
    assert permissions.may_manage_api_clients(security)
    assert permissions.may_grant_privileges(security)
    assert not permissions.may_manage_units(security)
    assert not permissions.may_read_operations(security)
    assert not permissions.may_read_audit_trail(security)
    # The audit administrator: the trail, nothing else.
    assert permissions.may_read_audit_trail(audit)
    for may in (
        permissions.may_manage_units,
        permissions.may_read_operations,
        permissions.may_manage_api_clients,
        permissions.may_grant_privileges,
        permissions.may_open_accounts,
    ):
        assert not may(audit), may.__name__
    assert not permissions.may_reset_password(audit, target)
    # The org tree: system and security administrators see every unit and officer, the
    # audit administrator only themself.
    assert org_units_visible_to(system).count() == org_units_visible_to(security).count() >= 5
    assert org_officers_visible_to(security).filter(pk=target.pk).exists()
    assert not org_units_visible_to(audit).exists()
    assert list(org_officers_visible_to(audit)) == [audit]
    # As business units (a record's unit, an assignee) they see none.
    for administrator in (system, security, audit):
        assert not units_visible_to(administrator).exists()
        assert list(officers_visible_to(administrator)) == [administrator]


@pytest.mark.parametrize("role", [Role.CHIEF, Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_only_the_security_administrator_grants_the_bureau_roles(bureau, role):
    system = make_officer(None, role=Role.ADMIN)
    security = make_officer(None, role=Role.SECURITY_ADMIN)
    unit = bureau.shanghai if role == Role.CHIEF else None
    before = Officer.objects.count()
    with pytest.raises(PermissionDenied):
        officer_create(
            actor=system,
            username="x_by_system",
            password=PASSWORD,
            full_name="甲",
            unit=unit,
            role=role,
        )
    with pytest.raises(PermissionDenied):
        officer_create(
            actor=bureau.chief,
            username="x_by_chief",
            password=PASSWORD,
            full_name="甲",
            unit=unit,
            role=role,
        )
    assert Officer.objects.count() == before
    # An ordinary account in a unit is the system administrator's to open.
    opened = officer_create(
        actor=system, username="y", password=PASSWORD, full_name="乙", unit=bureau.shanghai
    )
    assert opened.role == Role.OFFICER
    # The security administrator grants roles but opens no account (the system
    # administrator's work: the role of an opened account is changed in the admin,
    # tests/officers/test_password_reset.py); the installing superuser does both.
    assert permissions.may_grant_role(security, role)
    with pytest.raises(PermissionDenied):
        officer_create(
            actor=security, username="z", password=PASSWORD, full_name="丙", unit=unit, role=role
        )
    root = make_officer(None, role=Role.ADMIN, is_superuser=True)
    made = officer_create(
        actor=root, username="z", password=PASSWORD, full_name="丙", unit=unit, role=role
    )
    assert made.role == role


def test_only_the_security_administrator_registers_an_api_client(bureau):
    security = make_officer(None, role=Role.SECURITY_ADMIN)
    system = make_officer(None, role=Role.ADMIN)
    for actor in (bureau.chief, system):
        with pytest.raises(PermissionDenied):
            api_client_create(
                actor=actor, name="某系统", officer=bureau.shanghai_officer, access="read"
            )
    assert not ApiClient.objects.exists()
    client, _token = api_client_create(
        actor=security, name="某系统", officer=bureau.shanghai_officer, access="read"
    )
    assert list(api_clients_visible_to(security)) == [client]
    assert not api_clients_visible_to(bureau.chief).exists()
    assert not api_clients_visible_to(system).exists()


def test_the_superuser_reads_no_business_record_in_production(bureau, lead, settings):
    root = make_officer(None, role=Role.ADMIN, is_superuser=True)
    settings.PROMO_SUPERUSER_READS_BUSINESS = False
    assert not leads_visible_to(root).exists()
    assert not permissions.may_work_records(root)
    # It still installs: opens units and accounts, grants roles.
    assert permissions.may_manage_units(root) and permissions.may_grant_role(root, Role.CHIEF)
    fresh = Officer.objects.get(pk=root.pk)  # the scope is cached on the instance
    settings.PROMO_SUPERUSER_READS_BUSINESS = True
    assert leads_visible_to(fresh).filter(pk=lead.pk).exists()


def test_every_request_of_a_superuser_is_logged(bureau, client, caplog):
    root = make_officer(None, role=Role.ADMIN, is_superuser=True)
    client.force_login(root)
    with caplog.at_level(logging.INFO, logger="promo.security"):
        client.get("/operations/", REMOTE_ADDR="10.9.8.7")
        client.get("/sessions/", REMOTE_ADDR="10.9.8.7")
    lines = [r.getMessage() for r in caplog.records if "superuser request" in r.getMessage()]
    assert len(lines) == 2
    assert all(f"username={root.username}" in line and "ip=10.9.8.7" in line for line in lines)
    assert "path=/operations/" in lines[0] and "method=GET" in lines[0] and "at=" in lines[0]
    # An officer's requests are not.
    caplog.clear()
    client.force_login(bureau.shanghai_officer)
    with caplog.at_level(logging.INFO, logger="promo.security"):
        client.get("/sessions/")
    assert not [r for r in caplog.records if "superuser request" in r.getMessage()]
