"""What the audit trail records: sign-in and out, failures, lockouts, denials, administrators'
actions, privilege changes, API clients and their calls, exports, reads of personal data."""

from __future__ import annotations

import pghistory.models
import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from leads.models import Lead
from officers.choices import Role
from promo.api.clients import api_client_create
from promo.audit.models import AuditEntry
from promo.audit.services import audit_verify
from promo.core.signals import personal_data_revealed
from tests.factories import PASSWORD, make_investor, make_officer

pytestmark = pytest.mark.django_db


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_sign_in_failure_and_sign_out_are_recorded_with_the_address(bureau):
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post("/login/", {"username": "sh_officer", "password": "wrong-password"})
    client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
    client.post("/logout/")
    failed = entries("sign_in_failed")
    assert [(e.actor_username, e.address, e.outcome) for e in failed] == [
        ("sh_officer", "10.1.2.3", "failed")
    ]
    (signed_in,) = entries("sign_in")
    assert (signed_in.actor_id, signed_in.address) == (bureau.shanghai_officer.pk, "10.1.2.3")
    (signed_out,) = entries("sign_out")
    assert signed_out.actor_id == bureau.shanghai_officer.pk
    assert audit_verify() == AuditEntry.objects.count()


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3, PROMO_LOGIN_FAILURES_PER_IP=50)
def test_a_lockout_is_recorded_once_the_failures_lock_the_account(bureau):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(3):
        client.post("/login/", {"username": "sh_officer", "password": "wrong-password"})
    (locked,) = entries("lockout")
    assert (locked.actor_username, locked.outcome) == ("sh_officer", "denied")
    assert len(entries("sign_in_failed")) == 3


def test_a_denied_page_is_recorded(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    assert client.get("/operations/").status_code == 403
    (denied,) = entries("access_denied")
    assert denied.actor_id == bureau.shanghai_officer.pk
    assert denied.details == {"method": "GET", "path": "/operations/", "status": 403}


def security_admin():
    """The security administrator (安全管理员), who alone manages API clients (三员分立)."""
    return make_officer(None, role=Role.SECURITY_ADMIN, username="audit_anquan")


def test_an_api_call_names_the_client_and_the_officer_it_acts_as(bureau):
    client, token = api_client_create(
        actor=security_admin(), name="发改项目库", officer=bureau.shanghai_officer, access="read"
    )
    assert token_client(token).get("/api/v1/leads/").status_code == 200
    (call,) = entries("api_call")
    assert (call.api_client_id, call.actor_id) == (client.pk, bureau.shanghai_officer.pk)
    assert call.details["method"] == "GET" and call.details["path"] == "/api/v1/leads/"
    assert call.object_type.endswith("lead-list")
    assert call.outcome == "success"


def test_issue_rotate_and_revoke_of_an_api_client_are_recorded(bureau):
    admin = security_admin()
    api = APIClient()
    api.force_login(admin)
    body = api.post(
        "/api/v1/api-clients/", {"name": "统计", "officer": bureau.chief.pk, "access": "read"},
        format="json",
    ).json()  # fmt: skip
    api.post(f"/api/v1/api-clients/{body['id']}/rotate/")
    api.post(f"/api/v1/api-clients/{body['id']}/revoke/")
    changes = entries("api_client_change")
    assert [e.details["what"] for e in changes] == ["issued", "rotated", "revoked"]
    assert {e.actor_id for e in changes} == {admin.pk}
    assert {e.object_id for e in changes} == {str(body["id"])}


def test_the_figure_history_names_the_api_client_as_well_as_the_officer(bureau):
    investor = make_investor(bureau.shanghai_officer)
    client, token = api_client_create(
        actor=security_admin(), name="读写", officer=bureau.shanghai_officer, access="read_write"
    )
    response = token_client(token).post(
        "/api/v1/leads/",
        {"investor": investor.pk, "name": "同步来的项目", "industry": "electronics",
         "source_channel": "stationed"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    event = pghistory.models.Events.objects.tracks(Lead.objects.get()).last()
    assert event.pgh_context["user"] == bureau.shanghai_officer.pk
    assert event.pgh_context["api_client"] == client.pk


def test_an_officers_creation_and_role_change_are_recorded_with_old_and_new(bureau):
    target = bureau.teammate
    target.role = Role.UNIT_HEAD
    target.save()
    created, changed = [e for e in entries("role_change") if e.object_id == str(target.pk)]
    assert created.details["created"] is True
    assert created.details["changes"]["role"] == [None, Role.OFFICER]
    assert changed.details == {
        "created": False,
        "changes": {"role": [Role.OFFICER, Role.UNIT_HEAD]},
    }


def test_a_password_set_by_someone_else_is_recorded(bureau):
    from promo.audit.context import current_request

    class _Request:
        user = bureau.chief
        META = {"REMOTE_ADDR": "10.9.9.9"}
        auth = None

    token = current_request.set(_Request())
    try:
        bureau.teammate.set_password("Another-Pass-2026!")
        bureau.teammate.save()
    finally:
        current_request.reset(token)
    (reset,) = entries("password_reset")
    assert reset.actor_id == bureau.chief.pk
    assert reset.object_id == str(bureau.teammate.pk)
    assert reset.details == {"own": False}


def test_an_admin_site_change_is_recorded_from_its_log_entry(bureau, client_for):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user=bureau.chief,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id="7",
        object_repr="某项目",
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["name"]}}]',
    )
    (admin,) = entries("admin_change")
    assert (admin.actor_id, admin.object_type, admin.object_id) == (
        bureau.chief.pk,
        "leads.Lead",
        "7",
    )
    assert admin.details["flag"] == "change"


def test_a_small_export_records_the_list_filters_and_rows(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    response = client.get("/imports/export/leads.csv?status=valid")
    assert response.status_code == 200
    b"".join(response.streaming_content) if response.streaming else response.content
    (export,) = entries("export")
    assert export.actor_id == bureau.shanghai_officer.pk
    assert export.details == {
        "list": "leads",
        "format": "csv",
        "filters": {"status": ["valid"]},
        "rows": 0,
    }


def test_a_revealed_personal_datum_is_recorded(bureau):
    investor = make_investor(bureau.shanghai_officer)
    personal_data_revealed.send(
        sender=None,
        officer=bureau.shanghai_officer,
        obj=investor,
        field="phone",
        reason="回访",
        request=None,
    )
    (read,) = entries("personal_data_read")
    assert (read.actor_id, read.object_type, read.object_id) == (
        bureau.shanghai_officer.pk,
        "leads.Investor",
        str(investor.pk),
    )
    assert read.details == {"field": "phone", "reason": "回访"}
