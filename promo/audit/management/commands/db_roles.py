"""manage.py db_roles: the application's PostgreSQL role, which cannot erase the trails.

Run as the owner (the role that migrates, owning every table), after every ``migrate``:
creates the application role if missing (LOGIN, with ``PROMO_DB_APP_PASSWORD`` when given),
grants it what promo needs on every table and sequence, then takes UPDATE, DELETE and
TRUNCATE back on the trails — the history (pghistory event tables), the lifecycles' event
tables (``TrailEvent``) and the audit trail — so the application can add to them and read
them, never change or remove a row. Not owning a table, it cannot disable its triggers
either (ALTER TABLE is the owner's). Idempotent: run it again after each migration so new
tables get their grants (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql


def protected_tables() -> list[str]:
    """The trail tables the application role may only insert into and read."""
    import pghistory.models

    from promo.core.models import TrailEvent

    tables = set()
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if issubclass(model, (pghistory.models.Event, TrailEvent)) or meta.app_label == "audit":
            tables.add(meta.db_table)
    return sorted(tables)


class Command(BaseCommand):
    help = "Create or update the application's database role (no UPDATE/DELETE on the trails)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--app-role", default=settings.PROMO_DB_APP_ROLE or None)
        parser.add_argument(
            "--no-login", action="store_true", help="create the role without LOGIN (tests)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["app_role"]
        if not role:
            raise CommandError("name the application role: --app-role NAME or PROMO_DB_APP_ROLE")
        with transaction.atomic(), connection.cursor() as cursor:
            apply_grants(cursor, role, login=not options["no_login"])
        self.stdout.write(f"role {role}: granted; trails protected: {len(protected_tables())}")


def apply_grants(cursor: Any, role: str, *, login: bool = True) -> None:
    name = sql.Identifier(role)
    cursor.execute("SELECT current_user, current_database()")
    owner, database = cursor.fetchone()
    if role == owner:
        raise CommandError("the application role must not be the owner that migrates")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is None:
        cursor.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(name))
    elif found[0]:
        raise CommandError(f"{role} is a superuser: it could disable any trigger")
    password = settings.PROMO_DB_APP_PASSWORD
    if password and login:
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(name), [password])
    cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
    if cursor.fetchone()[0]:
        raise CommandError(f"{role} is a member of {owner}: it could act as the owner")
    cursor.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name)
    )
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
    cursor.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        )
    )
    cursor.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name)
    )
    cursor.execute(sql.SQL("REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {}").format(name))
    for table in protected_tables():
        cursor.execute(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                sql.Identifier(table), name
            )
        )
    cursor.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION audit_prune(integer, integer) TO {}").format(name)
    )
