"""``manage.py permission_table``: regenerate the "who may change what" table of
docs/architecture.md from the predicates of officers/permissions.py.

    permission_table           # write the table between its markers
    permission_table --check   # exit 1 if the committed table differs (nothing written)

The predicates are asked on a throwaway bureau inside one transaction that is rolled back:
nothing stays in the database it runs against.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from promo.devtools import permission_table


class Command(BaseCommand):
    help = "Regenerate the permission table of docs/architecture.md (权限表) from the predicates."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare: exit 1 if the committed table differs from the generated one.",
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        path = permission_table.DOC
        if check:
            text = path.read_text(encoding="utf-8")
            if permission_table.committed(text) != permission_table.render():
                raise CommandError(
                    f"{path.name}: the permission table is out of date; "
                    "run `manage.py permission_table`."
                )
            self.stdout.write("权限表 permission table is up to date.")
            return
        changed = permission_table.write(path)
        self.stdout.write(
            f"{path.name}: permission table {'rewritten' if changed else 'already up to date'}."
        )
