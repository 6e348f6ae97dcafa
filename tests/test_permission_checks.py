"""Who may do what is decided in officers/permissions.py, nowhere else (issue #13).

A role check written inside a service, a view, an admin class or a template is a rule the
other interfaces do not share: the page hides a button the API still offers, the admin lets
through what the service refuses. Every production module and template is read (nothing is
imported) and each of these is reported, with its place, outside the modules allowed to hold
them:

- a comparison with an officer's ``role`` or with a ``Role`` member
  (``officer.role == Role.UNIT_HEAD``, ``role in (Role.CHIEF, Role.ADMIN)``);
- a read of ``sees_whole_bureau``, ``is_superuser``, ``is_staff`` or ``grants_access`` (the
  security administrator's, decision 0019);
- a call of ``has_perm``;
- in a template, ``user.role``, ``user.sees_whole_bureau``, ``user.is_superuser`` or
  ``user.is_staff``.

A query keyword (``filter(role=Role.UNIT_HEAD)``: who is notified, who is ranked) is data,
not a decision, and is not reported.

Allowed: the predicates themselves; the scope every visibility selector starts from
(officers/selectors.py, which permissions.py builds on, so it cannot ask it back); the
model that defines ``sees_whole_bureau``; and the layers below officers, which cannot import
it (promo.core, promo.api.clients: docs/decisions/0011-role-checks-below-officers.md).
"""

from __future__ import annotations

import ast
import re

from tests.test_architecture import ROOT, production_modules

ALLOWED_MODULES = {
    "officers.permissions",  # the predicates
    "officers.selectors",  # scope_for: the visibility every selector starts from
    "officers.models",  # Officer.sees_whole_bureau, the constraints
    # Below officers, by the layer rule: they read the officer's own attribute (decision 0011).
    "promo.core.admin",
    "promo.core.history_admin",
    "promo.api.clients",
}
SKIPPED_PREFIXES = ("promo.devtools",)  # demo data and the bench build records as they like
FLAG_ATTRIBUTES = {"sees_whole_bureau", "is_superuser", "is_staff", "grants_access"}
TEMPLATE_CHECK = re.compile(r"\buser\.(role|sees_whole_bureau|is_superuser|is_staff)\b")


def _mentions_role(node: ast.AST) -> bool:
    """``x.role`` or ``Role.X`` anywhere inside ``node``."""
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute):
            if child.attr == "role":
                return True
            if isinstance(child.value, ast.Name) and child.value.id == "Role":
                return True
    return False


def role_checks(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """Every role check in a module's source: (line, what)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Compare) and _mentions_role(node):
            found.append((node.lineno, "role comparison"))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in FLAG_ATTRIBUTES
            and isinstance(node.ctx, ast.Load)
        ):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "has_perm":
                found.append((node.lineno, "has_perm"))
            # getattr(user, "sees_whole_bureau", False) is the same read.
            elif (
                name == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in FLAG_ATTRIBUTES | {"role"}
            ):
                found.append((node.lineno, f"getattr {node.args[1].value}"))
    return sorted(found)


def test_the_scanner_finds_each_kind_of_role_check():
    source = """
def view(request, officer, role):
    if officer.role == Role.UNIT_HEAD:
        pass
    if role in (Role.CHIEF, Role.ADMIN):
        pass
    if request.user.sees_whole_bureau or request.user.is_superuser:
        pass
    if getattr(request.user, "is_staff", False):
        pass
    request.user.has_perm("leads.change_lead")
    Officer.objects.filter(role=Role.UNIT_HEAD)  # data, not a decision
    officer.is_superuser = True  # a write, not a check
"""
    assert [what for _line, what in role_checks(source)] == [
        "role comparison",
        "role comparison",
        "is_superuser",
        "sees_whole_bureau",
        "getattr is_staff",
        "has_perm",
    ]


def test_no_role_check_outside_the_permission_predicates():
    found = []
    for name, path in production_modules().items():
        if name in ALLOWED_MODULES or name.startswith(SKIPPED_PREFIXES):
            continue
        for line, what in role_checks(path.read_text(encoding="utf-8"), str(path)):
            found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "ask officers/permissions.py instead:\n" + "\n".join(found)


def test_no_role_check_in_a_template():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if TEMPLATE_CHECK.search(text):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert not found, "pass the predicate's answer in the context instead:\n" + "\n".join(found)
