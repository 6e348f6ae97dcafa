"""The "who may change what" table of docs/architecture.md is generated from the predicates
(``manage.py permission_table``): the committed one must be what the code answers, and every
predicate of officers/permissions.py must have a row."""

from __future__ import annotations

import inspect

import pytest
from django.core.management import CommandError, call_command

from officers import permissions
from promo.devtools import permission_table

pytestmark = pytest.mark.django_db

# Who is which administrator (三员分立) and the installation's superuser: rows of their own.
ADMINISTRATORS = {"is_system_admin", "is_security_admin", "is_audit_admin", "is_superuser"}


def test_the_committed_table_is_the_one_the_predicates_generate():
    text = permission_table.DOC.read_text(encoding="utf-8")
    assert permission_table.committed(text) == permission_table.render(), (
        "docs/architecture.md's permission table differs from the predicates: "
        "run `.venv/bin/python manage.py permission_table` and review the change."
    )


def test_every_predicate_has_a_row():
    predicates = {
        name
        for name, function in inspect.getmembers(permissions, inspect.isfunction)
        if function.__module__ == permissions.__name__
        and (name.startswith("may_") or name in ADMINISTRATORS)
    }
    covered = {name for row in permission_table.ROWS for name in row.covers}
    assert sorted(predicates - covered) == []


def test_the_check_fails_on_a_table_edited_by_hand(tmp_path, monkeypatch):
    call_command("permission_table", "--check")
    text = permission_table.DOC.read_text(encoding="utf-8")
    # Someone grants the 协办 the signing by hand: the generated table says otherwise.
    row = next(line for line in text.splitlines() if line.startswith("| Sign a lead"))
    cells = row.split(" | ")
    cells[6] = "✓"  # the 协办 (other unit) column
    edited = tmp_path / "architecture.md"
    edited.write_text(text.replace(row, " | ".join(cells)), encoding="utf-8")
    monkeypatch.setattr(permission_table, "DOC", edited)
    with pytest.raises(CommandError, match="out of date"):
        call_command("permission_table", "--check")
    call_command("permission_table")
    assert edited.read_text(encoding="utf-8") == text
