"""When the trail cannot be written: an entry that accompanies an action never fails the
request (the failure goes to the security log); a privilege change whose entry cannot be
written does not happen."""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from officers.choices import Role
from promo.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_trail():
    """No head row: every append fails (inside the test's transaction, rolled back after)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_chainhead")


def test_a_sign_in_goes_on_when_its_entry_cannot_be_written(bureau, broken_trail, caplog):
    client = Client(REMOTE_ADDR="10.0.0.5")
    with caplog.at_level(logging.ERROR, logger="promo.security"):
        response = client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert "audit entry not written action=sign_in" in caplog.text
    assert not AuditEntry.objects.filter(action="sign_in").exists()


def test_a_role_change_whose_entry_cannot_be_written_is_rolled_back(bureau, broken_trail):
    officer = bureau.teammate
    officer.role = Role.UNIT_HEAD
    with pytest.raises(DatabaseError, match="audit_chainhead"):
        with transaction.atomic():
            officer.save()
    officer.refresh_from_db()
    assert officer.role == Role.OFFICER
