"""Signing in and reading the signed-in officer back on every request."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import Officer
from .selectors import with_scope_units


class OfficerBackend(ModelBackend):
    """Django's model backend, reading a request's officer with their unit and the ids of the
    unit's sub-tree in one statement (``officers.selectors.with_scope_units``): the scope of
    every page (``scope_for``) then costs no query of its own."""

    def get_user(self, user_id):
        try:
            officer = with_scope_units(Officer._default_manager.all()).get(pk=user_id)
        except Officer.DoesNotExist:
            return None
        return officer if self.user_can_authenticate(officer) else None
