"""一次提交: a form that creates a record saves once, however often it is sent.

Officers on a phone tap twice, and a browser resends a POST when the connection dropped
before the answer came (issue #15). The form carries a submission key (:class:`OnceForm`'s
hidden ``submission`` field, a fresh UUID each time the form is shown, kept when the form is
shown again with errors). The view:

1. asks :func:`earlier_result` first — a key already used sends the officer to what the first
   submission made, with a message, and nothing is saved again;
2. saves, and calls :func:`record` inside the same transaction; when two submissions with one
   key run at once, the second waits on the unique key, then raises :class:`AlreadySubmitted`
   (carrying the first one's address) and its transaction rolls back.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promo.core.models import FormSubmission
from promo.core.prune import delete_in_batches

FIELD = "submission"


class AlreadySubmitted(Exception):
    """This submission key was used; ``url`` is what the first submission made."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class OnceForm(forms.Form):
    """A form with a hidden submission key (module docstring)."""

    # A malformed key is treated as none (the form still saves once), never as a form error
    # the officer could not see or fix.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[FIELD].initial = str(uuid.uuid4())

    def submission_key(self) -> uuid.UUID | None:
        """The key this POST carried (None for a client that sent none, e.g. an old page)."""
        if not self.is_bound:
            return None
        try:
            # A form with a prefix (several on one page) sends its key as "<prefix>-submission".
            return uuid.UUID(str(self.data.get(self.add_prefix(FIELD)) or ""))
        except ValueError:
            return None


def earlier_result(officer: Any, key: uuid.UUID | None) -> str | None:
    """The address of what an earlier submission with ``key`` made, if there was one."""
    if key is None:
        return None
    return (
        FormSubmission.objects.filter(officer=officer, key=key)
        .values_list("url", flat=True)
        .first()
    )


def record(officer: Any, key: uuid.UUID | None, url: str) -> None:
    """Record that ``key`` made ``url``; call inside the transaction that saved the record."""
    if key is None:
        return
    try:
        with transaction.atomic():
            FormSubmission.objects.create(officer=officer, key=key, url=url[:300])
    except IntegrityError:
        # A submission with the same key committed while this one ran: it wins.
        raise AlreadySubmitted(earlier_result(officer, key) or "/") from None


ALREADY_SAVED = _("这次提交已经保存过，没有重复登记。")


def prune_form_submissions() -> int:
    """Delete submission keys older than ``PROMO_FORM_SUBMISSION_DAYS``."""
    cutoff = timezone.now() - timedelta(days=settings.PROMO_FORM_SUBMISSION_DAYS)
    return delete_in_batches(FormSubmission.objects.filter(created_at__lt=cutoff))
