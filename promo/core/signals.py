"""Signals the kernel defines so that apps above it can announce an event without knowing who
records it (the audit trail listens; promo/core imports no app)."""

from __future__ import annotations

import django.dispatch

# Someone was shown a personal datum in full (个人信息, issue #16): a contact's phone number,
# e-mail or WeChat id unmasked. Sent with: officer (who saw it), obj (the record holding it),
# field (the field's name), reason (what they gave, may be ""), request (or None).
personal_data_revealed = django.dispatch.Signal()
