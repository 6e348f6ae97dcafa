"""manage.py audit_verify: walk the audit trail's hash chain and report the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from promo.audit.services import ChainBreak, audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain (安全审计); exit 1 at the first break."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checked = audit_verify()
        except ChainBreak as exc:
            raise CommandError(
                f"audit chain broken at entry id={exc.entry_id}: {exc.field} "
                f"expected {exc.expected} found {exc.found}",
                returncode=1,
            ) from exc
        self.stdout.write(f"audit chain intact: {checked} entries verified")
