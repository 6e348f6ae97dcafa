"""Signals the kernel defines so that apps above it can announce an event without knowing who
records it (the audit trail listens; promo/core imports no app)."""

from __future__ import annotations

import django.dispatch

# Someone was shown a personal datum in full (个人信息, issue #16): a contact's phone number,
# e-mail or WeChat id unmasked. Sent with: officer (who saw it), obj (the record holding it),
# field (the field's name), reason (what they gave, may be ""), request (or None).
personal_data_revealed = django.dispatch.Signal()

# Something the application audit trail (安全审计, promo/audit/) records happened in a layer
# below it: an export, an import, a lockout… Sent with: action (promo.audit.choices.Action's
# value), actor (or None), outcome ("success" / "denied" / "failed"), obj (or None), details
# (a dict of JSON values), request (or None). Without the audit app nothing listens.
audit_event = django.dispatch.Signal()


def audit(action: str, **fields: object) -> None:
    """Announce an event to the audit trail (``audit_event``); never raises for its listener."""
    audit_event.send_robust(sender=None, action=action, **fields)
